"""Root mutation fields of the contacts module: each runs its work through ``mutate`` (one
unit of work; a unique or foreign-key violation is CONFLICT) and answers a payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import delete
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    NotFound,
    OkPayload,
    Profile,
    RequestContext,
    UserError,
    get_writable,
    global_id,
    guarded,
    mutate,
    notify,
    parse_global_id,
    published_as,
    text_argument,
)
from plugins.contacts import duplicates, photos, services
from plugins.contacts.inputs import (
    CreateContactInput,
    UpdateContactInput,
    to_data,
)
from plugins.contacts.models import Contact, ContactType, Tag, TagGrant
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.types import (
    ContactNode,
    ContactPayload,
    ContactTypeType,
    DeleteContactPayload,
    TagType,
)

Ctx = Info[RequestContext, None]

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
