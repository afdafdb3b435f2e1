"""Per-operation loading for the mailing types: a page's recipients in one statement, and
the contacts or leads behind them in one statement per audience (visible ones only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from gateway.sdk import BadUserInput, CallerContext, Job, JobStatus, Loader
from plugins.consent.mailing import recipients
from plugins.consent.mailing.models import Audience, Mailing, MailingRecipient, MailingStatus
from plugins.consent.mailing.services import effective_status

RECIPIENTS = "consent.mailing.recipients"


def _records(ctx: CallerContext, audience: Audience) -> Loader[int, Any]:
    def fetch(ids: list[int]) -> dict[int, Any]:
        try:
            return recipients.load(ctx, audience, ids)
        except BadUserInput:  # leads switched off: nothing to show
            return {}

    loader: Loader[int, Any] = ctx.loader(f"consent.mailing.{audience.value}", fetch)
    return loader


def _recipients(ctx: CallerContext) -> Loader[int, list[MailingRecipient]]:
    def fetch(mailing_ids: list[int]) -> dict[int, list[MailingRecipient]]:
        found: dict[int, list[MailingRecipient]] = {i: [] for i in mailing_ids}
        by_audience: dict[Audience, set[int]] = {}
        rows = ctx.session.execute(
            select(MailingRecipient, Mailing.audience)
            .join(Mailing, Mailing.id == MailingRecipient.mailing_id)
            .where(MailingRecipient.mailing_id.in_(mailing_ids))
            .order_by(MailingRecipient.mailing_id, MailingRecipient.position)
        )
        for row, audience in rows:
            found[row.mailing_id].append(row)
            if row.record_id is not None:
                by_audience.setdefault(audience, set()).add(row.record_id)
        for audience, ids in by_audience.items():
            _records(ctx, audience).prime(ids)
        return found

    loader: Loader[int, list[MailingRecipient]] = ctx.loader(RECIPIENTS, fetch)
    return loader


def _jobs(ctx: CallerContext) -> Loader[int, JobStatus]:
    def fetch(job_ids: list[int]) -> dict[int, JobStatus]:
        rows = ctx.session.execute(select(Job.id, Job.status).where(Job.id.in_(job_ids)))
        return {job_id: status for job_id, status in rows}

    loader: Loader[int, JobStatus] = ctx.loader("consent.mailing.jobs", fetch)
    return loader


def prime(ctx: CallerContext, mailings: Iterable[Mailing], recipients: bool) -> None:
    """Load what a page of mailings shows at once: the jobs of those in flight (their
    status) and, when selected, every recipient."""
    page = list(mailings)
    _jobs(ctx).prime(m.job_id for m in page if m.status in IN_FLIGHT)
    if recipients:
        _recipients(ctx).prime(m.id for m in page)


IN_FLIGHT = (MailingStatus.QUEUED, MailingStatus.SENDING)


def status_of(ctx: CallerContext, mailing: Mailing) -> MailingStatus:
    """The stored status, or INTERRUPTED when its job ended without running it to the end
    (cancelled while queued, refused at start)."""
    if mailing.status not in IN_FLIGHT:
        return mailing.status
    return effective_status(mailing.status, _jobs(ctx).get(mailing.job_id))


def recipients_of(ctx: CallerContext, mailing_id: int) -> list[MailingRecipient]:
    return _recipients(ctx).get(mailing_id) or []


def record_node(ctx: CallerContext, audience: Audience, record_id: int | None) -> Any:
    """The recipient's contact or lead as its GraphQL object, when visible (else null)."""
    if record_id is None:
        return None
    record = _records(ctx, audience).get(record_id)
    if record is None:
        return None
    entity = ctx.gateway.registry.entities[recipients.ENTITY[audience]]
    return entity.graphql_factory(record) if entity.graphql_factory is not None else None


def remember(ctx: CallerContext, audience: Audience, decided: Iterable[recipients.Decided]) -> None:
    """Records a preview already loaded: no second statement for their nodes."""
    loader = _records(ctx, audience)
    for item in decided:
        if item.record is not None and item.record_id is not None:
            loader.put(item.record_id, item.record)
