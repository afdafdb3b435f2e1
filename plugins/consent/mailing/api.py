"""Root fields of mass email: thin resolvers over ``services``. Composing, previewing and
sending need ``consent.send_mass_email``; a caller sees its own mailings (administrators
every mailing of the organisation)."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from gateway.sdk import (
    Connection,
    Order,
    Window,
    guarded,
    list_records,
    mutate,
    parse_global_id,
    selected,
)
from plugins.consent.mailing import loading, placeholders, services
from plugins.consent.mailing.models import Audience, Mailing
from plugins.consent.mailing.permissions import MailingPermission as P
from plugins.consent.mailing.types import (
    AudienceEnum,
    Ctx,
    MailingCounts,
    MailingInput,
    MailingPayload,
    MailingPreview,
    MailingType,
    PlaceholderType,
    RecipientType,
    RenderedEmail,
)

SEND = P.SEND_MASS_EMAIL.value


@guarded(
    permission=SEND,
    description="The `[key]` placeholders a mailing to this audience may use; `available` "
    "is false for those whose field your profile may not read (refused if used).",
)
def mailing_placeholders(info: Ctx, audience: AudienceEnum) -> list[PlaceholderType]:
    ctx = info.context
    ctx.require_caller()
    return [
        PlaceholderType(key=p.key, label=p.label, available=not placeholders.hidden_reads(ctx, p))
        for p in placeholders.DECLARED[Audience(audience)]
    ]


@guarded(
    permission=SEND,
    description="A dry run of a mailing: every recipient with what sending would do "
    "(PENDING: sent; SKIPPED with the reason), and the first one's email. Writes nothing.",
)
def mailing_preview(info: Ctx, input: MailingInput) -> MailingPreview:
    ctx = info.context
    ctx.require_caller()
    draft = input.to_draft()
    found = services.preview(ctx, draft)
    loading.remember(ctx, draft.audience, found.decided)
    return MailingPreview(
        counts=MailingCounts.of([d.status for d in found.decided]),
        recipients=[RecipientType.decided(d, draft.audience) for d in found.decided],
        sample=RenderedEmail.of(found.sample) if found.sample is not None else None,
    )


@strawberry.field(description="One of your mailings (any, for administrators), or null.")
def mailing(info: Ctx, id: strawberry.ID) -> MailingType | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        services.visible_mailings(ctx).where(Mailing.id == parse_global_id(id, "Mailing"))
    )
    return MailingType(record=found) if found is not None else None


@strawberry.field(description="Your mailings (every one, for administrators), newest first.")
def mailings(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[MailingType]:
    ctx = info.context
    ctx.require_caller()
    listed = list_records(
        ctx,
        Mailing,
        "Mailing",
        services.visible_mailings(ctx),
        order=Order(Mailing.created_at, descending=True),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
    )
    wanted = set(selected(info, "edges", "node"))
    loading.prime(ctx, listed.rows, recipients=bool({"recipients", "counts"} & wanted))
    return Connection.of(listed, lambda r: MailingType(record=r))


def _payload(found: Mailing) -> MailingPayload:
    return MailingPayload(mailing=MailingType(record=found))


@guarded(
    permission=SEND,
    description="Save a mailing as a draft, each recipient PENDING or SKIPPED with the "
    "reason as of now. More than 100 recipients is BAD_USER_INPUT (nothing saved).",
)
def create_mailing(info: Ctx, input: MailingInput) -> MailingPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> Mailing:
        return services.create_mailing(ctx, input.to_draft())

    return mutate(ctx, MailingPayload, work, _payload)


@guarded(
    permission=SEND,
    description="Send your draft (or what an interrupted send left PENDING) as a background "
    "job: one message per recipient over SMTP, never twice to one recipient; recipients "
    "are decided again when it runs. `mailing(id)` shows each recipient's outcome.",
)
def send_mailing(info: Ctx, id: strawberry.ID) -> MailingPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> Mailing:
        return services.send_mailing(ctx, parse_global_id(id, "Mailing"))

    return mutate(ctx, MailingPayload, work, _payload)


QUERY_FIELDS = [mailing_placeholders, mailing_preview, mailing, mailings]
MUTATION_FIELDS = [create_mailing, send_mailing]
