"""GraphQL types of mass email: the mailing with per-recipient statuses, the preview, the
declared placeholders, and the composing input.

A mailing's recipients and the records behind them load once per operation for every
mailing of the page (``loading.py``), so a list costs the same statements at any size."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    Node,
    RequestContext,
    UserError,
    UserType,
    global_id,
    load_users,
    text,
)
from plugins.consent.mailing import loading, recipients
from plugins.consent.mailing.models import (
    Audience,
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientStatus,
    SkipReason,
)
from plugins.consent.mailing.placeholders import Rendered
from plugins.consent.mailing.services import BODY_MAX, SUBJECT_MAX, Draft

Ctx = Info[RequestContext, None]

strawberry.enum(Audience, name="MailingAudience", description="Clients (contacts) or leads.")
AudienceEnum: TypeAlias = Audience
strawberry.enum(
    MailingStatus,
    name="MailingStatus",
    description="DRAFT until sent; QUEUED, then SENDING while its job runs; SENT when every "
    "recipient is decided; INTERRUPTED when the job stopped (failed, cancelled): sending "
    "again sends only to the recipients still PENDING.",
)
MailingStatusEnum: TypeAlias = MailingStatus
strawberry.enum(
    RecipientStatus,
    name="MailingRecipientStatus",
    description="PENDING until sent (SENT), skipped before sending (SKIPPED) or not "
    "delivered (FAILED); SENDING while claimed by a send attempt.",
)
RecipientStatusEnum: TypeAlias = RecipientStatus
strawberry.enum(
    SkipReason, name="MailingSkipReason", description="Why a recipient was skipped or failed."
)
SkipReasonEnum: TypeAlias = SkipReason


@strawberry.input(
    description="One email to up to 100 recipients: contacts or leads by ID and/or the rows "
    'of an uploaded xlsx/CSV file (an "Email" or an "ID" column). The subject and body may '
    "use the placeholders `mailingPlaceholders` lists, as `[key]`."
)
class MailingInput:
    audience: AudienceEnum
    subject: str = text(SUBJECT_MAX)
    body: str = text(BODY_MAX, multiline=True)
    recipient_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Contacts or leads (by the audience), in order."
    )
    file_id: strawberry.ID | None = strawberry.field(
        default=None, description="Your uploaded file of recipients (after the IDs)."
    )

    def to_draft(self) -> Draft:
        return Draft(
            audience=self.audience,
            subject=self.subject,
            body=self.body,
            recipient_ids=list(self.recipient_ids),
            file_id=self.file_id,
        )


@strawberry.type(name="MailingPlaceholder", description="A `[key]` a mailing may use.")
class PlaceholderType:
    key: str
    label: str
    available: bool = strawberry.field(
        description="False when your profile may not read the field behind it (refused)."
    )


@strawberry.type(description="A composed email as one recipient receives it.")
class RenderedEmail:
    subject: str
    text: str
    html: str

    @classmethod
    def of(cls, rendered: Rendered) -> RenderedEmail:
        return cls(subject=rendered.subject, text=rendered.text, html=rendered.html)


@strawberry.type(description="Recipients by status.")
class MailingCounts:
    total: int
    pending: int
    sending: int
    sent: int
    skipped: int
    failed: int

    @classmethod
    def of(cls, statuses: list[RecipientStatus]) -> MailingCounts:
        def n(status: RecipientStatus) -> int:
            return sum(s is status for s in statuses)

        return cls(
            total=len(statuses),
            pending=n(RecipientStatus.PENDING),
            sending=n(RecipientStatus.SENDING),
            sent=n(RecipientStatus.SENT),
            skipped=n(RecipientStatus.SKIPPED),
            failed=n(RecipientStatus.FAILED),
        )


@strawberry.type(
    name="MailingRecipient",
    description="One recipient as given, and what became of it (with the reason when "
    "skipped or failed).",
)
class RecipientType:
    position: int = strawberry.field(description="Its place in the request (1-based).")
    row: int | None = strawberry.field(description="The file row it came from.")
    given: str = strawberry.field(description="What you gave: an ID or an address.")
    status: RecipientStatusEnum
    reason: SkipReasonEnum | None
    detail: str
    sent_at: datetime | None
    audience: strawberry.Private[Audience]
    record_id: strawberry.Private[int | None]

    @strawberry.field(description="The contact or lead, when you may see it now (null otherwise).")
    def recipient(self, info: Ctx) -> Node | None:
        return loading.record_node(info.context, self.audience, self.record_id)

    @classmethod
    def of(cls, row: MailingRecipient, audience: Audience) -> RecipientType:
        return cls(
            position=row.position,
            row=row.row,
            given=row.given,
            status=row.status,
            reason=row.reason,
            detail=row.detail,
            sent_at=row.sent_at,
            audience=audience,
            record_id=row.record_id,
        )

    @classmethod
    def decided(cls, item: recipients.Decided, audience: Audience) -> RecipientType:
        return cls(
            position=item.given.position,
            row=item.given.row,
            given=item.given.given,
            status=item.status,
            reason=item.reason,
            detail=item.detail,
            sent_at=None,
            audience=audience,
            record_id=item.record_id,
        )


@strawberry.type(name="Mailing", description="A mass email: seen by its author and admins.")
class MailingType:
    record: strawberry.Private[Mailing]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Mailing", self.record.id)

    @strawberry.field
    def audience(self) -> AudienceEnum:
        return self.record.audience

    @strawberry.field
    def subject(self) -> str:
        return self.record.subject

    @strawberry.field
    def body(self) -> str:
        return self.record.body

    @strawberry.field
    def status(self, info: Ctx) -> MailingStatusEnum:
        return loading.status_of(info.context, self.record)

    @strawberry.field(description="The latest send job (see `job(id)`: progress, attempts).")
    def job_id(self) -> strawberry.ID | None:
        return global_id("Job", self.record.job_id) if self.record.job_id else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field(description="When the send job finished.")
    def sent_at(self) -> datetime | None:
        return self.record.sent_at

    @strawberry.field
    def created_by(self, info: Ctx) -> UserType | None:
        user_id = self.record.created_by_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field
    def counts(self, info: Ctx) -> MailingCounts:
        rows = loading.recipients_of(info.context, self.record.id)
        return MailingCounts.of([r.status for r in rows])

    @strawberry.field(description="Every recipient in the order given, with its status.")
    def recipients(self, info: Ctx) -> list[RecipientType]:
        rows = loading.recipients_of(info.context, self.record.id)
        return [RecipientType.of(r, self.record.audience) for r in rows]


@strawberry.type(description="What sending would do now: who is skipped and why.")
class MailingPreview:
    counts: MailingCounts
    recipients: list[RecipientType]
    sample: RenderedEmail | None = strawberry.field(
        description="The email the first recipient to be sent to would receive."
    )


@strawberry.type
class MailingPayload:
    mailing: MailingType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


GRAPHQL_TYPES = [
    PlaceholderType,
    RenderedEmail,
    MailingCounts,
    RecipientType,
    MailingType,
    MailingPreview,
    MailingPayload,
]
