"""Root fields of the contacts module: the frontend contract (``contacts``, ``contact``,
``createContact``, ``updateContact``, ``deleteContact``) plus settings and export."""

from __future__ import annotations

import base64
from typing import Annotated, Any, TypeVar, cast

import strawberry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload, undefer
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    XLSX_MIME,
    BadUserInput,
    CallerContext,
    Connection,
    Direction,
    ExportFile,
    NotFound,
    OkPayload,
    Order,
    Profile,
    RequestContext,
    Shaped,
    UserError,
    Window,
    check_filterable_fields,
    filter_reads,
    get_writable,
    global_id,
    guarded,
    list_records,
    load_users,
    mutate,
    narrow_to_visible,
    notify,
    parse_global_id,
    plain_selection,
    published_as,
    selected,
    text_argument,
)
from plugins.contacts import duplicates, export, photos, services
from plugins.contacts.inputs import (
    FILTER_READS,
    SORT_READS,
    ContactFilterInput,
    ContactOrder,
    ContactSortField,
    CreateContactInput,
    UpdateContactInput,
    to_data,
)
from plugins.contacts.models import Contact, ContactType, CustomField, FieldType, Tag, TagGrant
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.shaped_list import ContactListPlan
from plugins.contacts.types import (
    ContactNode,
    ContactPayload,
    ContactTypeType,
    CustomFieldType,
    DeleteContactPayload,
    FieldTypeEnum,
    TagType,
)

Ctx = Info[RequestContext, None]
T = TypeVar("T")


def loader_options(names: set[str]) -> list[Any]:
    """Eager loads for the selected fields only: one query per relation, never per row."""
    options: list[Any] = []
    if names & {"email", "emails"}:
        options.append(selectinload(Contact.emails, chunksize=BATCH))
    if names & {"phone", "phones"}:
        options.append(selectinload(Contact.phones, chunksize=BATCH))
    if "tags" in names:
        options.append(selectinload(Contact.tag_links, chunksize=BATCH))
    if "customFields" in names:
        options.append(selectinload(Contact.custom_values, chunksize=BATCH))
    if "company" in names:
        options.append(selectinload(Contact.company, chunksize=BATCH))
    if "photo" in names:
        options.append(undefer(Contact.photo))
    return options


def _prime_owners(ctx: CallerContext, contacts: list[Contact], names: set[str]) -> None:
    """Load, in one query, the managers the page will show: the contacts' own and, when the
    company is selected, the companies' (otherwise each distinct one would cost a query)."""
    owners = {c.owner_id for c in contacts} if "owner" in names else set()
    if "company" in names:
        owners |= {c.company.owner_id for c in contacts if c.company is not None}
    owners.discard(None)
    if owners:
        load_users(ctx, sorted(owners))


def _shaped_plan(info: Ctx, sort_column: Any) -> ContactListPlan | None:
    """The pre-shaped plan of a plain ``contacts`` selection (``None``: the general path)."""
    if not info.context.gateway.settings.shaped_results:
        return None
    selection = plain_selection(info)
    return ContactListPlan.compile(selection, sort_column) if selection is not None else None


# -- queries ----------------------------------------------------------------------------------


@strawberry.field(description="Contacts you may see, searched, filtered and sorted in SQL.")
def contacts(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    search: str | None = None,
    filter: ContactFilterInput | None = None,
    order_by: ContactOrder | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ContactNode]:
    ctx = info.context
    ctx.require_caller()
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    flt = filter.to_filter() if filter else None
    given = order_by or ContactOrder()
    field = ContactSortField(given.field)
    order = Order(
        getattr(Contact, field.value), given.direction == Direction.DESC, SORT_READS[field]
    )
    reads = filter_reads(filter, FILTER_READS)
    stmt = services.filtered(ctx, search, flt)
    plan = _shaped_plan(info, order.column) if not window.backwards and before is None else None
    if plan is not None:
        # The pre-shaped fast path (forward pages of a plain selection): the same checks and
        # narrowing as list_records, rows shaped straight into the answer.
        check_filterable_fields(ctx.access, "Contact", {*order.reads, *reads})
        narrowed = narrow_to_visible(ctx, stmt, Contact)

        def count() -> int:
            ids = narrowed.with_only_columns(Contact.id).subquery()
            return ctx.session.scalar(select(func.count()).select_from(ids)) or 0

        shaped = plan.run(
            ctx.session,
            narrowed,
            order.column,
            first=window.size,
            after=window.after,
            descending=order.descending,
            total=count,
        )
        return cast(Connection[ContactNode], Shaped(shaped))
    names = selected(info, "edges", "node")
    listed = list_records(
        ctx,
        Contact,
        "Contact",
        stmt,
        order=order,
        window=window,
        filter_reads=reads,
        options=loader_options(names),
    )
    _prime_owners(ctx, listed.rows, names)
    return Connection.of(listed, lambda r: ContactNode(record=r))


@strawberry.field(description="One contact, or null if it does not exist or is not yours to see.")
def contact(info: Ctx, id: strawberry.ID) -> ContactNode | None:
    ctx = info.context
    ctx.require_caller()
    names = selected(info)
    found = ctx.session.scalar(
        select(Contact)
        .where(Contact.id == parse_global_id(id, "Contact"))
        .options(*loader_options(names))
    )
    if found is None:
        return None
    _prime_owners(ctx, [found], names)
    return ContactNode(record=found)


@guarded(permission=P.EXPORT.value, description="Visible contacts as an Excel workbook (base64).")
def export_contacts(
    info: Ctx, search: str | None = None, filter: ContactFilterInput | None = None
) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    check_filterable_fields(ctx.access, "Contact", filter_reads(filter, FILTER_READS))
    stmt = services.filtered(ctx, search, filter.to_filter() if filter else None).options(
        *loader_options({"emails", "phones", "tags"})
    )
    rows = list(ctx.session.scalars(stmt.order_by(Contact.sort_name, Contact.id)))
    content = export.contacts_workbook(ctx, rows)
    return ExportFile(
        filename="contacts.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(content).decode(),
    )


@strawberry.field
def contact_types(info: Ctx) -> list[ContactTypeType]:
    ctx = info.context
    ctx.require_caller()
    return [
        ContactTypeType(record=t)
        for t in ctx.session.scalars(select(ContactType).order_by(ContactType.name))
    ]


@strawberry.field
def tags(info: Ctx) -> list[TagType]:
    ctx = info.context
    ctx.require_caller()
    return [TagType(record=t) for t in ctx.session.scalars(select(Tag).order_by(Tag.name))]


@strawberry.field(description="The custom fields defined for contacts.")
def contact_custom_fields(info: Ctx) -> list[CustomFieldType]:
    ctx = info.context
    ctx.require_caller()
    fields = services.custom_fields_by_key(ctx.session).values()
    return [CustomFieldType(record=f) for f in fields]


# -- mutations --------------------------------------------------------------------------------


def _notify_manager(ctx: CallerContext, contact: Contact, before: int | None) -> None:
    caller = ctx.require_caller()
    if contact.owner_id not in (None, before, caller.user_id):
        notify(
            ctx.session,
            tenant_id=contact.tenant_id,
            user_id=contact.owner_id,
            kind="contacts.assigned",
            title=f"You now manage {contact.display_name}",
            subject_id=global_id("Contact", contact.id),
        )


@strawberry.mutation(description="Create a person or a company; you manage it by default.")
def create_contact(info: Ctx, input: CreateContactInput) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        created = services.create_contact(ctx, to_data(input))
        session.flush()
        _notify_manager(ctx, created, None)
        return created

    return mutate(
        ctx, ContactPayload, work, lambda result: ContactPayload(contact=ContactNode(record=result))
    )


@strawberry.mutation(
    description="Change some fields of a contact (NOT_FOUND if you cannot see "
    "it, FORBIDDEN if you may not change it)."
)
def update_contact(info: Ctx, id: strawberry.ID, input: UpdateContactInput) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        found = get_writable(session, Contact, parse_global_id(id, "Contact"), "contact")
        before = found.owner_id
        updated = services.update_contact(ctx, found, to_data(input))
        session.flush()
        _notify_manager(ctx, updated, before)
        return updated

    return mutate(
        ctx, ContactPayload, work, lambda result: ContactPayload(contact=ContactNode(record=result))
    )


@strawberry.mutation(
    description="Delete a contact; refused (CONFLICT) while another module "
    "still needs it, e.g. it has invoices."
)
def delete_contact(info: Ctx, id: strawberry.ID) -> DeleteContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        found = get_writable(session, Contact, parse_global_id(id, "Contact"), "contact")
        services.delete_contact(ctx, found)

    return mutate(
        ctx, DeleteContactPayload, work, lambda result: DeleteContactPayload(deleted_id=id)
    )


# -- settings ------------------------------------------------------------------------------


@strawberry.type
class ContactTypePayload:
    contact_type: ContactTypeType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TagPayload:
    tag: TagType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomFieldType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


RemovedPayload = published_as(OkPayload, "RemovedPayload")


@guarded(permission=P.MANAGE_SETTINGS.value)
def create_contact_type(info: Ctx, name: str) -> ContactTypePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> ContactType:
        clean = name.strip()
        if not clean or len(clean) > 80:
            raise BadUserInput("a name of 1 to 80 characters", field="name")
        created = ContactType(tenant_id=caller.tenant_id, name=clean)
        session.add(created)
        session.flush()
        return created

    return mutate(
        ctx,
        ContactTypePayload,
        work,
        lambda result: ContactTypePayload(contact_type=ContactTypeType(record=result)),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create a tag; a restricted one may be added or removed only "
    "by the listed profiles (and administrators); CONFLICT if the name is taken.",
)
def create_tag(
    info: Ctx, name: str, restricted: bool = False, profile_ids: list[strawberry.ID] | None = None
) -> TagPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> Tag:
        clean = name.strip()
        if not clean or len(clean) > 60:
            raise BadUserInput("a name of 1 to 60 characters", field="name")
        tag = Tag(tenant_id=caller.tenant_id, name=clean, restricted=restricted)
        session.add(tag)
        session.flush()  # a taken name is a unique violation: the transaction says CONFLICT
        for pid in profile_ids or []:
            profile = session.get(Profile, parse_global_id(pid, "Profile", "profileIds"))
            if profile is None:
                raise NotFound("no such profile", field="profileIds")
            session.add(TagGrant(tag_id=tag.id, profile_id=profile.id))
        session.flush()
        return tag

    return mutate(ctx, TagPayload, work, lambda result: TagPayload(tag=TagType(record=result)))


@guarded(permission=P.MANAGE_SETTINGS.value)
def create_contact_custom_field(
    info: Ctx,
    key: str,
    label: str,
    type: FieldTypeEnum,  # type: ignore[valid-type]
    choices: list[str] | None = None,
    required: bool = False,
) -> CustomFieldPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> CustomField:
        clean = key.strip()
        if not clean.isidentifier() or len(clean) > 60:
            raise BadUserInput("a key of letters, digits and underscores", field="key")
        kind = FieldType(type)
        if kind is FieldType.CHOICE and not choices:
            raise BadUserInput("a choice field needs choices", field="choices")
        position = (session.scalar(select(func.max(CustomField.position))) or 0) + 1
        created = CustomField(
            tenant_id=caller.tenant_id,
            key=clean,
            label=label.strip() or clean,
            type=kind,
            choices="\n".join(c.strip() for c in choices or [] if c.strip()),
            required=required,
            position=position,
        )
        session.add(created)
        session.flush()
        return created

    return mutate(
        ctx,
        CustomFieldPayload,
        work,
        lambda result: CustomFieldPayload(custom_field=CustomFieldType(record=result)),
    )


@guarded(permission=P.MANAGE_SETTINGS.value, description="Delete a custom field and its values.")
def delete_contact_custom_field(info: Ctx, id: strawberry.ID) -> RemovedPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> bool:
        found = session.get(CustomField, parse_global_id(id, "CustomField"))
        if found is None:
            raise NotFound("no such custom field", field="id")
        session.delete(found)
        return True

    return mutate(ctx, RemovedPayload, work, lambda _done: RemovedPayload(ok=True))


@guarded(permission=P.MANAGE_SETTINGS.value)
def delete_tag(info: Ctx, id: strawberry.ID) -> RemovedPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> bool:
        found = session.get(Tag, parse_global_id(id, "Tag"))
        if found is None:
            raise NotFound("no such tag", field="id")
        session.execute(delete(TagGrant).where(TagGrant.tag_id == found.id))
        session.delete(found)
        return True

    return mutate(ctx, RemovedPayload, work, lambda _done: RemovedPayload(ok=True))


DuplicateReasonEnum = strawberry.enum(duplicates.DuplicateReason, name="DuplicateReason")


@strawberry.type
class DuplicateGroup:
    reason: DuplicateReasonEnum  # type: ignore[valid-type]
    value: str = strawberry.field(description="The shared email, phone digits, ID or name.")
    contacts: list[ContactNode]


@strawberry.field(description="Groups of visible contacts that look like the same one.")
def contact_duplicates(info: Ctx, first: int | None = None) -> list[DuplicateGroup]:
    ctx = info.context
    ctx.require_caller()
    names = selected(info, "contacts")
    size = Window.of(ctx.gateway.settings, first).size
    groups = duplicates.find(ctx, size, loader_options(names))
    _prime_owners(ctx, [c for g in groups for c in g.contacts], names)
    return [
        DuplicateGroup(
            reason=g.reason, value=g.value, contacts=[ContactNode(record=c) for c in g.contacts]
        )
        for g in groups
    ]


@guarded(
    permission=P.MERGE.value,
    description="Merge a duplicate into the contact to keep: `take` names the fields whose "
    "values come from the merged contact; emails, phones and tags are united; other "
    "modules' references move to the kept contact; the merged one is deleted.",
)
def merge_contacts(
    info: Ctx, keep_id: strawberry.ID, merge_id: strawberry.ID, take: list[str] | None = None
) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        return duplicates.merge(
            ctx,
            parse_global_id(keep_id, "Contact", "keepId"),
            parse_global_id(merge_id, "Contact", "mergeId"),
            take or [],
        )

    return mutate(
        ctx, ContactPayload, work, lambda result: ContactPayload(contact=ContactNode(record=result))
    )


@strawberry.mutation(
    description="Set a contact's photo from a data URL (an image of at most "
    "1 MB; it is shrunk to fit 200x300)."
)
def set_contact_photo(
    info: Ctx,
    id: strawberry.ID,
    data_url: Annotated[str, text_argument(2 * photos.MAX_BYTES)],
) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        found = get_writable(session, Contact, parse_global_id(id, "Contact"), "contact")
        photos.set_photo(found, data_url)
        return found

    return mutate(
        ctx, ContactPayload, work, lambda result: ContactPayload(contact=ContactNode(record=result))
    )


@strawberry.mutation
def remove_contact_photo(info: Ctx, id: strawberry.ID) -> ContactPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Contact:
        found = get_writable(session, Contact, parse_global_id(id, "Contact"), "contact")
        photos.clear_photo(found)
        return found

    return mutate(
        ctx, ContactPayload, work, lambda result: ContactPayload(contact=ContactNode(record=result))
    )


QUERY_FIELDS = [
    contacts,
    contact,
    export_contacts,
    contact_types,
    tags,
    contact_custom_fields,
    contact_duplicates,
]
MUTATION_FIELDS = [
    create_contact,
    merge_contacts,
    set_contact_photo,
    remove_contact_photo,
    update_contact,
    delete_contact,
    create_contact_type,
    create_tag,
    delete_tag,
    create_contact_custom_field,
    delete_contact_custom_field,
]
