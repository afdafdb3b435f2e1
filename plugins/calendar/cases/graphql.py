"""Root fields of cases: the list, one case, the case tags, the mutations and the custom
field definitions (the kernel's kit). Thin resolvers over ``service``; every mutation is
one transaction through ``mutate`` (a refusal is the payload's ``errors``, nothing
written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    Connection,
    Order,
    RequestContext,
    Window,
    definition_fields,
    filter_reads,
    get_writable,
    list_records,
    mutate,
    parse_global_id,
    shaping,
)
from plugins.calendar.cases import loading, service
from plugins.calendar.cases.inputs import (
    FILTER_READS,
    SORT_READS,
    CaseFilterInput,
    CreateCaseInput,
    UpdateCaseInput,
)
from plugins.calendar.cases.models import Case, CaseCustomField, CaseDocument, CaseStatus
from plugins.calendar.cases.shaped_list import CASE
from plugins.calendar.cases.types import (
    CaseCustomFieldPayload,
    CaseCustomFieldType,
    CaseDocumentPayload,
    CaseDocumentType,
    CaseNode,
    CasePayload,
    CasesRemovedPayload,
    CaseTagType,
    DeleteCasePayload,
)
from plugins.calendar.permissions import CalendarPermission as P

Ctx = Info[RequestContext, None]

# -- queries ------------------------------------------------------------------------------------


@strawberry.field(
    description="Cases you may see, newest first; `totalCount` counts them. Filter by status, "
    "a participating contact, a tag or words in the title."
)
def cases(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: CaseFilterInput | None = None,
) -> Connection[CaseNode]:
    ctx = info.context
    ctx.require_caller()
    flt = filter.to_filter() if filter else service.CaseFilter()
    stmt = service.filtered(ctx, flt)
    order = Order(Case.created_at, True, SORT_READS)
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    reads = filter_reads(filter, FILTER_READS)
    shaped = shaping.shaped_page(info, CASE, stmt, order=order, window=window, filter_reads=reads)
    if shaped is not None:
        return cast(Connection[CaseNode], shaped)
    listed = list_records(
        ctx,
        Case,
        "Case",
        stmt,
        order=order,
        window=window,
        filter_reads=reads,
        options=loading.case_options(info, "edges", "node"),
    )
    loading.prime_users(info, listed.rows, "edges", "node")
    return Connection.of(listed, lambda r: CaseNode(record=r))


@strawberry.field(description="One case, or null if it does not exist or is not visible.")
def case(info: Ctx, id: strawberry.ID) -> CaseNode | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        select(Case)
        .where(Case.id == parse_global_id(id, "Case"))
        .options(*loading.case_options(info))
    )
    return CaseNode(record=found) if found is not None else None


@strawberry.field(description="The tags used on cases, by name.")
def case_tags(info: Ctx) -> list[CaseTagType]:
    ctx = info.context
    ctx.require_caller()
    return [CaseTagType(record=t) for t in service.tag_list(ctx)]


# -- mutations ----------------------------------------------------------------------------------


def _payload(result: Case) -> CasePayload:
    return CasePayload(case=CaseNode(record=result))


def _writable(session: Session, id: strawberry.ID) -> Case:
    return get_writable(session, Case, parse_global_id(id, "Case"), "case")


def _change(info: Ctx, id: strawberry.ID, change: Callable[[Case], Case]) -> CasePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Case:
        changed = change(_writable(session, id))
        session.flush()
        return changed

    return mutate(ctx, CasePayload, work, _payload)


@strawberry.mutation(
    description="Create a case; you own it. Open to all unless `restrictedTo` names users."
)
def create_case(info: Ctx, input: CreateCaseInput) -> CasePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Case:
        created = service.create_case(ctx, input.to_data())
        session.flush()
        return created

    return mutate(ctx, CasePayload, work, _payload)


@strawberry.mutation(description="Change a case (lists replace what was there).")
def update_case(info: Ctx, id: strawberry.ID, input: UpdateCaseInput) -> CasePayload:
    ctx = info.context
    return _change(info, id, lambda c: service.update_case(ctx, c, input.to_data()))


@strawberry.mutation(description="Close a case (it is finished).")
def close_case(info: Ctx, id: strawberry.ID) -> CasePayload:
    ctx = info.context
    return _change(info, id, lambda c: service.set_status(ctx, c, CaseStatus.CLOSED))


@strawberry.mutation(description="Open a closed case again.")
def reopen_case(info: Ctx, id: strawberry.ID) -> CasePayload:
    ctx = info.context
    return _change(info, id, lambda c: service.set_status(ctx, c, CaseStatus.OPEN))


@strawberry.mutation(
    description="Delete a case (needs calendar.case.delete); its tasks stay, without the case."
)
def delete_case(info: Ctx, id: strawberry.ID) -> DeleteCasePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        service.delete_case(ctx, _writable(session, id))

    return mutate(ctx, DeleteCasePayload, work, lambda _: DeleteCasePayload(deleted_id=id))


def _contacts(contact_ids: list[strawberry.ID]) -> list[int]:
    return [parse_global_id(i, "Contact", "contactIds") for i in contact_ids]


@strawberry.mutation(description="Add contacts you may see to a case's participants.")
def add_case_participants(
    info: Ctx, id: strawberry.ID, contact_ids: list[strawberry.ID]
) -> CasePayload:
    ctx = info.context
    return _change(info, id, lambda c: service.add_participants(ctx, c, _contacts(contact_ids)))


@strawberry.mutation(description="Remove contacts from a case's participants.")
def remove_case_participants(
    info: Ctx, id: strawberry.ID, contact_ids: list[strawberry.ID]
) -> CasePayload:
    ctx = info.context
    return _change(info, id, lambda c: service.remove_participants(ctx, c, _contacts(contact_ids)))


@strawberry.mutation(
    description="Attach one of your uploads (POST /files) to a case: whoever sees the case "
    "may then download it, and it is kept while attached."
)
def attach_case_document(
    info: Ctx, id: strawberry.ID, file_id: strawberry.ID
) -> CaseDocumentPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> CaseDocument:
        return service.attach_document(ctx, _writable(session, id), file_id)

    return mutate(
        ctx,
        CaseDocumentPayload,
        work,
        lambda d: CaseDocumentPayload(
            document=CaseDocumentType(record=d), case=CaseNode(record=_case_of(ctx, d))
        ),
    )


def _case_of(ctx: RequestContext, document: CaseDocument) -> Case:
    found = ctx.session.get(Case, document.case_id)
    assert found is not None  # the caller just changed it
    return found


@strawberry.mutation(description="Remove a document from a case (its file is then deleted).")
def detach_case_document(info: Ctx, id: strawberry.ID, document_id: strawberry.ID) -> CasePayload:
    ctx = info.context
    pk = parse_global_id(document_id, "CaseDocument", "documentId")

    def detach(case: Case) -> Case:
        service.detach_document(ctx, case, pk)
        return case

    return _change(info, id, detach)


#: ``caseCustomFields`` / ``createCaseCustomField`` / ``deleteCaseCustomField``: the
#: kernel's custom-field kit over the cases' definitions.
CUSTOM_FIELDS = definition_fields(
    CaseCustomField,
    node=CaseCustomFieldType,
    payload=CaseCustomFieldPayload,
    removed=CasesRemovedPayload,
    permission=P.MANAGE_SETTINGS.value,
    list_name="caseCustomFields",
    create_name="createCaseCustomField",
    delete_name="deleteCaseCustomField",
    list_description="The custom fields defined for cases.",
    delete_description="Delete a case custom field and its values.",
)

QUERY_FIELDS = [cases, case, case_tags, CUSTOM_FIELDS.query]
MUTATION_FIELDS = [
    create_case,
    update_case,
    close_case,
    reopen_case,
    delete_case,
    add_case_participants,
    remove_case_participants,
    attach_case_document,
    detach_case_document,
    CUSTOM_FIELDS.create,
    CUSTOM_FIELDS.delete,
]
