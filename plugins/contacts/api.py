"""Root fields of the contacts module: the frontend contract (``contacts``, ``contact``,
``createContact``, ``updateContact``, ``deleteContact``) plus settings and export."""

from __future__ import annotations

import base64
from typing import Annotated, Any, TypeVar, cast

import strawberry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload, undefer
from strawberry.types import Info

from gateway.access.api import ExportFile
from gateway.access.enforcement import get_writable
from gateway.access.fields import check_filterable_fields, filter_reads
from gateway.access.narrowing import narrow_to_visible
from gateway.core.types import load_users
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.excel import XLSX_MIME
from gateway.graphql.common import UserError, attempt, global_id, mutate, page_size, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text_argument
from gateway.graphql.lookahead import selected
from gateway.graphql.pagination import BATCH, Direction, keyset_page
from gateway.graphql.shaped import Shaped, plain_selection
from gateway.identity.models import Profile
from gateway.notifications import notify
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
    ContactConnection,
    ContactEdge,
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


def _prime_owners(ctx: RequestContext, contacts: list[Contact], names: set[str]) -> None:
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
) -> ContactConnection:
    ctx = info.context
    ctx.require_caller()
    size = page_size(first, ctx.gateway.settings)
    flt = filter.to_filter() if filter else None
    order = order_by or ContactOrder()
    reads = set(SORT_READS[ContactSortField(order.field)]) | filter_reads(filter, FILTER_READS)
    check_filterable_fields(ctx.access, "Contact", reads)
    stmt = narrow_to_visible(ctx, services.filtered(ctx, search, flt), Contact)
    sort_column = getattr(Contact, ContactSortField(order.field).value)
    descending = order.direction == Direction.DESC

    def count() -> int:
        counted = select(func.count()).select_from(stmt.with_only_columns(Contact.id).subquery())
        return ctx.session.scalar(counted) or 0

    plan = _shaped_plan(info, sort_column)
    if plan is not None:
        shaped = plan.run(
            ctx.session,
            stmt,
            sort_column,
            first=size,
            after=after,
            descending=descending,
            total=count,
        )
        return cast(ContactConnection, Shaped(shaped))
    names = selected(info, "edges", "node")
    page = keyset_page(
        ctx.session,
        stmt.options(*loader_options(names)),
        sort_column,
        Contact.id,
        first=size,
        after=after,
        descending=descending,
    )
    _prime_owners(ctx, page.rows, names)
    total = count() if "totalCount" in selected(info) else None
    return ContactConnection(
        edges=[
            ContactEdge(cursor=c, node=ContactNode(record=r))
            for r, c in zip(page.rows, page.cursors, strict=True)
        ],
        page_info=page.info,
        total_count=total,
    )


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


@strawberry.field(description="Visible contacts as an Excel workbook (base64).")
def export_contacts(
    info: Ctx, search: str | None = None, filter: ContactFilterInput | None = None
) -> ExportFile:
    ctx = info.context
    ctx.require(P.EXPORT.value)
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


def _notify_manager(ctx: RequestContext, contact: Contact, before: int | None) -> None:
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


@strawberry.type
class RemovedPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.mutation
def create_contact_type(info: Ctx, name: str) -> ContactTypePayload:
    ctx = info.context
    caller = ctx.require(P.MANAGE_SETTINGS.value)

    def work(session: Session) -> ContactType:
        clean = name.strip()
        if not clean or len(clean) > 80:
            raise BadUserInput("a name of 1 to 80 characters", field="name")
        if session.scalar(select(ContactType.id).where(ContactType.name == clean)):
            raise Conflict("that contact type exists", field="name")
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


@strawberry.mutation(
    description="Create a tag; a restricted one may be added or removed only "
    "by the listed profiles (and administrators)."
)
def create_tag(
    info: Ctx, name: str, restricted: bool = False, profile_ids: list[strawberry.ID] | None = None
) -> TagPayload:
    ctx = info.context
    caller = ctx.require(P.MANAGE_SETTINGS.value)

    def work(session: Session) -> Tag:
        clean = name.strip()
        if not clean or len(clean) > 60:
            raise BadUserInput("a name of 1 to 60 characters", field="name")
        if session.scalar(select(Tag.id).where(Tag.name == clean)):
            raise Conflict("that tag exists", field="name")
        tag = Tag(tenant_id=caller.tenant_id, name=clean, restricted=restricted)
        session.add(tag)
        session.flush()
        # A profile listed twice is granted once (the grant is a set, not a list).
        wanted = dict.fromkeys(
            parse_global_id(p, "Profile", "profileIds") for p in profile_ids or []
        )
        for profile_id in wanted:
            profile = session.get(Profile, profile_id)
            if profile is None:
                raise NotFound("no such profile", field="profileIds")
            session.add(TagGrant(tag_id=tag.id, profile_id=profile.id))
        session.flush()
        return tag

    return mutate(ctx, TagPayload, work, lambda result: TagPayload(tag=TagType(record=result)))


@strawberry.mutation
def create_contact_custom_field(
    info: Ctx,
    key: str,
    label: str,
    type: FieldTypeEnum,  # type: ignore[valid-type]
    choices: list[str] | None = None,
    required: bool = False,
) -> CustomFieldPayload:
    ctx = info.context
    caller = ctx.require(P.MANAGE_SETTINGS.value)

    def work(session: Session) -> CustomField:
        clean = key.strip()
        if not clean.isidentifier() or len(clean) > 60:
            raise BadUserInput("a key of letters, digits and underscores", field="key")
        if session.scalar(select(CustomField.id).where(CustomField.key == clean)):
            raise Conflict("that custom field exists", field="key")
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


@strawberry.mutation(description="Delete a custom field and its values.")
def delete_contact_custom_field(info: Ctx, id: strawberry.ID) -> RemovedPayload:
    ctx = info.context
    ctx.require(P.MANAGE_SETTINGS.value)

    def work(session: Session) -> bool:
        found = session.get(CustomField, parse_global_id(id, "CustomField"))
        if found is None:
            raise NotFound("no such custom field", field="id")
        session.delete(found)
        return True

    result = attempt(ctx, work)
    return RemovedPayload(errors=result) if isinstance(result, list) else RemovedPayload(ok=True)


@strawberry.mutation
def delete_tag(info: Ctx, id: strawberry.ID) -> RemovedPayload:
    ctx = info.context
    ctx.require(P.MANAGE_SETTINGS.value)

    def work(session: Session) -> bool:
        found = session.get(Tag, parse_global_id(id, "Tag"))
        if found is None:
            raise NotFound("no such tag", field="id")
        session.execute(delete(TagGrant).where(TagGrant.tag_id == found.id))
        session.delete(found)
        return True

    result = attempt(ctx, work)
    return RemovedPayload(errors=result) if isinstance(result, list) else RemovedPayload(ok=True)


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
    groups = duplicates.find(ctx, page_size(first, ctx.gateway.settings), loader_options(names))
    _prime_owners(ctx, [c for g in groups for c in g.contacts], names)
    return [
        DuplicateGroup(
            reason=g.reason, value=g.value, contacts=[ContactNode(record=c) for c in g.contacts]
        )
        for g in groups
    ]


@strawberry.mutation(
    description="Merge a duplicate into the contact to keep: `take` names the fields whose "
    "values come from the merged contact; emails, phones and tags are united; other "
    "modules' references move to the kept contact; the merged one is deleted."
)
def merge_contacts(
    info: Ctx, keep_id: strawberry.ID, merge_id: strawberry.ID, take: list[str] | None = None
) -> ContactPayload:
    ctx = info.context
    ctx.require(P.MERGE.value)

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
