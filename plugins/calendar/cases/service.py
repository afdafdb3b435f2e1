"""Cases (MISSION T5): the one creation path, changes, closing, participants, tags, the
restriction to chosen users (a PRIVATE case shared with them for writing, who are
notified), custom fields, documents, and the list's filters as SQL. Free of GraphQL;
every function takes a ``CallerContext``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, select, update

from gateway.sdk import (
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    NotFound,
    ProfileKind,
    RecordShare,
    StoredFile,
    check_filterable_fields,
    check_writable_fields,
    customfields,
    events,
    get_user,
    initial_access,
    open_file,
    refers_to_visible,
    share_record,
    unshare_record,
    utcnow,
)
from plugins.calendar.cases.models import (
    Case,
    CaseCustomField,
    CaseCustomValue,
    CaseDocument,
    CaseParticipant,
    CaseStatus,
    CaseTag,
    CaseTagLink,
)
from plugins.contacts.models import Contact

CASE = "case"
#: Most participants, chosen users or tags one change may name.
MAX_LIST = 500
#: An attached file is kept while attached (the kernel purges files past their expiry).
KEPT_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
#: Model attribute / input → the GraphQL fields of ``Case`` that writing it changes.
WRITES = {
    "title": "title",
    "description": "description",
    "status": "status",
    "restricted_to": "restrictedTo",
    "participants": "participants",
    "tags": "tags",
    "custom_fields": "customFields",
    "documents": "documents",
}


#: Whether a case is restricted, and to which users besides its owner.
Restriction = tuple[bool, list[int]]


@dataclass
class CaseData:
    """What the caller set (partial updates). ``restricted_to``: None leaves the access as
    it is, ``[]`` opens the case to all, user ids restrict it to them. Lists replace."""

    values: dict[str, Any] = field(default_factory=dict)
    participant_ids: list[int] | None = None
    tags: list[str] | None = None
    restricted_to: list[int] | None = None
    custom_fields: dict[str, str | None] | None = None

    def touched(self) -> set[str]:
        given = set(self.values)
        for name in ("participant_ids", "tags", "restricted_to", "custom_fields"):
            if getattr(self, name) is not None:
                given.add("participants" if name == "participant_ids" else name)
        return given


def _check_fields(ctx: CallerContext, keys: Iterable[str]) -> None:
    """Refuse changing fields the caller's field rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, "Case", {WRITES.get(k, k) for k in keys})


def _limited(values: Sequence[Any], what: str) -> list[Any]:
    unique = list(dict.fromkeys(values))
    if len(unique) > MAX_LIST:
        raise BadUserInput(f"at most {MAX_LIST} at once", field=what)
    return unique


def _apply(ctx: CallerContext, case: Case, data: CaseData) -> Restriction | None:
    """Set what ``data`` gives; returns the chosen users of a restriction (None: the
    access stays), written by ``_restrict`` once the case has its id."""
    v = data.values
    if "title" in v:
        clean = (v["title"] or "").strip()
        if not clean or len(clean) > 200:
            raise BadUserInput("a title of 1 to 200 characters", field="title")
        case.title = clean
    if "description" in v:
        case.description = (v["description"] or "").strip()
    if data.participant_ids is not None:
        _set_participants(ctx, case, _limited(data.participant_ids, "participantIds"))
    if data.tags is not None:
        _set_tags(ctx, case, _limited(data.tags, "tags"))
    if data.custom_fields:
        customfields.apply(
            case.custom_values,
            data.custom_fields,
            customfields.definitions(ctx.session, CaseCustomField),
            lambda d: CaseCustomValue(field=d, field_id=d.id, tenant_id=case.tenant_id),
        )
    if data.restricted_to is None:
        return None
    return _chosen(ctx, case, _limited(data.restricted_to, "restrictedTo"))


# -- participants ------------------------------------------------------------------------------


def _contact(ctx: CallerContext, contact_id: int, where: str) -> Contact:
    # the session reads visible contacts only: a hidden one does not exist for the caller
    found = ctx.session.get(Contact, contact_id)
    if found is None:
        raise NotFound("no such contact", field=where)
    return found


def _set_participants(ctx: CallerContext, case: Case, contact_ids: list[int]) -> None:
    """Replace the participants the caller can see; those it cannot see stay (it could
    neither name nor know them)."""
    for contact_id in contact_ids:
        _contact(ctx, contact_id, "participantIds")
    wanted = set(contact_ids)
    visible_now = {c.id for c in participants_of(ctx, [case.id])[case.id]} if case.id else set()
    for link in list(case.participant_links):
        if link.contact_id in visible_now and link.contact_id not in wanted:
            case.participant_links.remove(link)
    present = {link.contact_id for link in case.participant_links}
    for contact_id in contact_ids:
        if contact_id not in present:
            case.participant_links.append(
                CaseParticipant(contact_id=contact_id, tenant_id=case.tenant_id)
            )


def add_participants(ctx: CallerContext, case: Case, contact_ids: Sequence[int]) -> Case:
    _check_fields(ctx, ["participants"])
    present = {link.contact_id for link in case.participant_links}
    for contact_id in _limited(contact_ids, "contactIds"):
        _contact(ctx, contact_id, "contactIds")
        if contact_id not in present:
            case.participant_links.append(
                CaseParticipant(contact_id=contact_id, tenant_id=case.tenant_id)
            )
            present.add(contact_id)
    return _changed(ctx, case, {"participants"})


def remove_participants(ctx: CallerContext, case: Case, contact_ids: Sequence[int]) -> Case:
    """A contact the caller cannot see is NOT_FOUND, as if it were not there."""
    _check_fields(ctx, ["participants"])
    links = {link.contact_id: link for link in case.participant_links}
    for contact_id in _limited(contact_ids, "contactIds"):
        _contact(ctx, contact_id, "contactIds")
        if contact_id in links:
            case.participant_links.remove(links.pop(contact_id))
    return _changed(ctx, case, {"participants"})


def move_participants(ctx: CallerContext, kept_id: int, merged_id: int) -> None:
    """A contact merged into another: its cases now have the kept contact (once), whether
    or not the caller sees those cases (the merge moves references, it reads nothing)."""
    has_kept = select(CaseParticipant.case_id).where(CaseParticipant.contact_id == kept_id)
    ctx.session.execute(
        delete(CaseParticipant)
        .where(CaseParticipant.contact_id == merged_id, CaseParticipant.case_id.in_(has_kept))
        .execution_options(synchronize_session=False)
    )
    ctx.session.execute(
        update(CaseParticipant)
        .where(CaseParticipant.contact_id == merged_id)
        .values(contact_id=kept_id)
        .execution_options(synchronize_session=False)
    )


# -- tags --------------------------------------------------------------------------------------


def _set_tags(ctx: CallerContext, case: Case, names: list[str]) -> None:
    clean = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if any(len(n) > 60 for n in clean):
        raise BadUserInput("a tag has at most 60 characters", field="tags")
    existing = {
        t.name: t for t in ctx.session.scalars(select(CaseTag).where(CaseTag.name.in_(clean)))
    }
    current = {link.tag.name: link for link in case.tag_links}
    for name, link in current.items():
        if name not in clean:
            case.tag_links.remove(link)
    for name in clean:
        if name in current:
            continue
        tag = existing.get(name) or _new_tag(ctx, case.tenant_id, name)
        case.tag_links.append(CaseTagLink(tag=tag, tag_id=tag.id, tenant_id=case.tenant_id))


def _new_tag(ctx: CallerContext, tenant_id: int, name: str) -> CaseTag:
    """A new tag ``name``, or the one a concurrent creation just made: the insert runs in a
    savepoint, so two cases tagged with the same new name at once both succeed."""
    from sqlalchemy.exc import IntegrityError

    session = ctx.session
    try:
        with session.begin_nested():
            tag = CaseTag(tenant_id=tenant_id, name=name)
            session.add(tag)
            session.flush()
    except IntegrityError:
        tag = session.scalars(select(CaseTag).where(CaseTag.name == name)).one()
    return tag


def tag_list(ctx: CallerContext) -> list[CaseTag]:
    return list(ctx.session.scalars(select(CaseTag).order_by(CaseTag.name)))


# -- access: open to all, or restricted to chosen users ----------------------------------------


def _chosen(ctx: CallerContext, case: Case, user_ids: list[int]) -> Restriction:
    """The active users of the organisation a restriction names (checked before anything
    is written). A caller who is not the owner stays among them: restricting a case never
    locks out the one who restricts it."""
    caller = ctx.require_caller()
    chosen: list[int] = []
    for user_id in user_ids:
        user = get_user(ctx.session, ctx.tenant_id, user_id, "restrictedTo")
        if not user.is_active:
            raise BadUserInput("that user is deactivated", field="restrictedTo")
        chosen.append(user.id)
    if user_ids and caller.user_id != case.owner_id and caller.user_id not in chosen:
        chosen.append(caller.user_id)
    return bool(user_ids), [u for u in chosen if u != case.owner_id]


def _restrict(ctx: CallerContext, case: Case, chosen: Restriction | None) -> None:
    """``None``: leave the access alone. Not restricted: open to all (PUBLIC_WRITE; the
    case's shares go). Otherwise PRIVATE and shared for writing with exactly these users
    (the owner needs none), through the kernel's sharing service — which notifies each
    user the share is new to. Runs once the case has its id."""
    if chosen is None:
        return
    restricted, user_ids = chosen
    registry = ctx.gateway.registry
    # shares first: the service checks write access on the case as stored, and a caller
    # who is not the owner keeps it through their own share once the case is private
    for user_id in user_ids:
        share_record(ctx.session, registry, CASE, case.id, user_id, True, shared_by=ctx.user_id)
    for user_id in set(shared_users(ctx, case)) - set(user_ids):
        unshare_record(ctx.session, registry, CASE, case.id, user_id)
    case.access = (AccessLevel.PRIVATE if restricted else AccessLevel.PUBLIC_WRITE).value


def shared_users(ctx: CallerContext, case: Case) -> list[int]:
    """The users a case is shared with (the chosen users of a restricted case)."""
    return list(
        ctx.session.scalars(
            select(RecordShare.user_id)
            .where(RecordShare.entity == CASE, RecordShare.record_id == case.id)
            .order_by(RecordShare.user_id)
        )
    )


# -- writing -----------------------------------------------------------------------------------


def _changed(ctx: CallerContext, case: Case, touched: set[str]) -> Case:
    # touching the case makes the flush check its write access (the backstop) for changes
    # that only add or remove its child rows
    case.updated_at = utcnow()
    events.record_changed(ctx, ChangeKind.UPDATED, CASE, case, frozenset(touched))
    return case


def create_case(ctx: CallerContext, data: CaseData) -> Case:
    """The one creation path: the caller owns it; open to all unless ``restricted_to``."""
    caller = ctx.require_caller()
    _check_fields(ctx, data.touched())
    if caller.profile_kind is ProfileKind.ASSISTANT:
        raise BadUserInput("assistants own no records, so they cannot create a case")
    if data.values.get("title") is None:
        raise BadUserInput("a case needs a title", field="title")
    case = Case(
        tenant_id=caller.tenant_id,
        owner_id=caller.user_id,
        access=initial_access(ctx, CASE),
        status=CaseStatus.OPEN,
        description="",
    )
    chosen = _apply(ctx, case, data)
    customfields.check_required(
        case.custom_values, customfields.definitions(ctx.session, CaseCustomField)
    )
    ctx.session.add(case)
    ctx.session.flush()
    _restrict(ctx, case, chosen)
    events.record_changed(ctx, ChangeKind.CREATED, CASE, case)
    return case


def update_case(ctx: CallerContext, case: Case, data: CaseData) -> Case:
    touched = data.touched()
    _check_fields(ctx, touched)
    if "title" in data.values and data.values["title"] is None:
        raise BadUserInput("a case needs a title", field="title")
    chosen = _apply(ctx, case, data)
    _changed(ctx, case, touched)
    ctx.session.flush()
    _restrict(ctx, case, chosen)
    return case


def set_status(ctx: CallerContext, case: Case, status: CaseStatus) -> Case:
    """Close (stamped) or reopen a case."""
    _check_fields(ctx, ["status"])
    if case.status is not status:
        case.status = status
        case.closed_at = utcnow() if status is CaseStatus.CLOSED else None
        _changed(ctx, case, {"status"})
    return case


def delete_case(ctx: CallerContext, case: Case) -> None:
    """Needs ``calendar.case.delete`` (checked at flush). Its tasks stay, without the case;
    its documents' files expire now (the purge reclaims them)."""
    events.ensure_deletable(ctx, CASE, case)
    now = utcnow()
    for document in case.documents:
        document.file.expires_at = now
    ctx.session.delete(case)
    events.record_changed(ctx, ChangeKind.DELETED, CASE, case)


# -- documents ---------------------------------------------------------------------------------


def attach_document(ctx: CallerContext, case: Case, file_id: int | str) -> CaseDocument:
    """Attach one of the caller's uploads (``POST /files``): from then on it is kept and
    readable by whoever sees the case. A file already attached is CONFLICT."""
    _check_fields(ctx, ["documents"])
    try:
        stored = open_file(ctx, file_id)
    except NotFound as error:
        raise NotFound("no such file of yours", field="fileId") from error
    if ctx.session.scalar(select(CaseDocument.id).where(CaseDocument.file_id == stored.id)):
        raise Conflict("this file is attached already", field="fileId")
    stored.expires_at = KEPT_UNTIL
    document = CaseDocument(
        tenant_id=case.tenant_id, file_id=stored.id, file=stored, added_by_id=ctx.user_id
    )
    case.documents.append(document)
    _changed(ctx, case, {"documents"})
    ctx.session.flush()
    return document


def detach_document(ctx: CallerContext, case: Case, document_id: int) -> None:
    """Remove a document from its case; its file expires now."""
    _check_fields(ctx, ["documents"])
    found = next((d for d in case.documents if d.id == document_id), None)
    if found is None:
        raise NotFound("no such document on this case", field="documentId")
    found.file.expires_at = utcnow()
    case.documents.remove(found)
    _changed(ctx, case, {"documents"})


def document_for_download(ctx: CallerContext, document_id: int) -> StoredFile | None:
    """The file of document ``document_id`` if the caller sees its case (the session's
    access predicate decides), unexpired; its content loads when read."""
    document = ctx.session.get(CaseDocument, document_id)
    if document is None or ctx.session.get(Case, document.case_id) is None:
        return None
    stored = document.file
    return stored if stored.expires_at > utcnow() else None


# -- reading -----------------------------------------------------------------------------------


@dataclass
class CaseFilter:
    status: CaseStatus | None = None
    contact_id: int | None = None
    tag: str | None = None
    search: str | None = None


def filtered(ctx: CallerContext, flt: CaseFilter) -> Select[Any]:
    """The filter as SQL; visibility is the session's. A contact the caller cannot see
    matches nothing; the search looks in titles (refused when the title is hidden)."""
    stmt = select(Case)
    if flt.status is not None:
        stmt = stmt.where(Case.status == flt.status)
    if flt.contact_id is not None:
        stmt = stmt.where(
            exists().where(
                refers_to_visible(ctx.access, CaseParticipant.contact_id, Contact, flt.contact_id),
                CaseParticipant.case_id == Case.id,
            )
        )
    if flt.tag is not None:
        stmt = stmt.where(
            exists().where(
                CaseTagLink.case_id == Case.id,
                CaseTagLink.tag_id == CaseTag.id,
                CaseTag.name == flt.tag.strip(),
            )
        )
    if flt.search:
        check_filterable_fields(ctx.access, "Case", {"title"})
        for word in flt.search.split():
            stmt = stmt.where(Case.title.icontains(word, autoescape=True))
    return stmt


def participants_of(
    ctx: CallerContext, case_ids: Sequence[int], options: Sequence[Any] = ()
) -> dict[int, list[Contact]]:
    """The participants the caller may see of each case, in one statement (contacts are
    the selected entity, so their access predicate applies)."""
    found: dict[int, list[Contact]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return found
    rows = ctx.session.execute(
        select(Contact, CaseParticipant.case_id)
        .join(CaseParticipant, CaseParticipant.contact_id == Contact.id)
        .where(CaseParticipant.case_id.in_(list(case_ids)))
        .order_by(CaseParticipant.case_id, Contact.id)
        .options(*options)
    )
    for contact, case_id in rows:
        found[case_id].append(contact)
    return found
