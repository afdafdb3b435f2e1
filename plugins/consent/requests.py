"""Consent requests: made by triggers, resends and unblocks (K1 to K4); their answers are in
``answers``.

A request is rendered when it is made (the exact text, its SHA-256 and the template
version go on the request and into the ledger), then a ``consent.send`` job mails it after
the triggering transaction commits. The request row is inserted with ``ON CONFLICT DO
NOTHING`` on ``(tenant_id, pending_key)``: while a request for the same configuration,
client and company waits, a second trigger — in the same operation or a concurrent one in
another worker — inserts nothing and queues nothing. On PostgreSQL the second insert waits
for the first transaction and then does nothing; on SQLite the write lock serialises them.

Who may ask again: nobody while a request waits; a trigger never asks a client who has
accepted, is blocked (denied or withdrew), or waits — an expired, bounced or failed request
may be asked again by the next trigger. A resend (``consent.send``) replaces a waiting
request; only an unblock (``consent.manage``) asks a blocked client.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    ManagingCompany,
    NotFound,
    RecordChange,
    Tenant,
    User,
    defer_job,
    upsert,
    utcnow,
)
from plugins.consent import expiry, ledger, placeholders
from plugins.consent.models import (
    OPEN,
    Audience,
    Channel,
    ConsentBlock,
    ConsentConfiguration,
    ConsentRequest,
    LedgerEvent,
    RequestStatus,
    Trigger,
)
from plugins.contacts.models import Contact, ContactAssignment, ContactEmail

SEND_KIND = "consent.send"
#: The entities whose changes may trigger a request, and the trigger they stand for.
TRIGGERS = {
    "contact": Trigger.CLIENT_SAVED,
    "interaction": Trigger.INTERACTION_LOGGED,
    "task": Trigger.TASK_SAVED,
}
_CONFIGS = "consent.trigger_configurations"


def pending_key(configuration_id: int, contact_id: int, company_id: int | None) -> str:
    return f"{configuration_id}:{contact_id}:{company_id or 0}"


def text_hash(subject: str, body: str) -> str:
    return hashlib.sha256(f"{subject}\n\n{body}".encode()).hexdigest()


# -- who is asked ---------------------------------------------------------------------------


def recipient_email(session: Session, contact: Contact) -> str | None:
    """The client's first email address, if any."""
    if "emails" in contact.__dict__:
        return contact.emails[0].address if contact.emails else None
    return session.scalar(
        select(ContactEmail.address)
        .where(ContactEmail.contact_id == contact.id)
        .order_by(ContactEmail.position, ContactEmail.id)
        .limit(1)
    )


def applies(config: ConsentConfiguration, contact: Contact) -> bool:
    """Whether a client configuration covers this client, by category and kind (the
    companies are matched separately, against the client's assignments)."""
    if config.audience is not Audience.CLIENT or contact.category is None:
        return False
    if contact.category.value not in config.applies_to:
        return False
    kind = contact.client_kind.value if contact.client_kind is not None else None
    return not config.client_kinds or kind in config.client_kinds


def companies_for(config: ConsentConfiguration, assigned: set[int]) -> list[int | None]:
    """The companies that ask: those of the configuration the client is assigned to, or
    the organisation itself (``None``) when the configuration names no company."""
    if not config.company_ids:
        return [None]
    return [c for c in config.company_ids if c in assigned]


def assigned_companies(session: Session, contact_id: int) -> set[int]:
    return set(
        session.scalars(
            select(ContactAssignment.company_id).where(ContactAssignment.contact_id == contact_id)
        )
    )


def is_blocked(session: Session, tenant_id: int, contact_id: int) -> bool:
    return (
        session.scalar(
            select(ConsentBlock.id).where(
                ConsentBlock.tenant_id == tenant_id, ConsentBlock.contact_id == contact_id
            )
        )
        is not None
    )


# -- triggers -------------------------------------------------------------------------------


def trigger_configurations(
    ctx: CallerContext, tenant_id: int, trigger: Trigger
) -> list[ConsentConfiguration]:
    """The tenant's enabled configurations with this trigger, read once per operation (an
    import fires one event per row). A trigger belongs to one audience (``USER_SAVED`` to
    user configurations, the others to client ones)."""
    cached: dict[int, list[ConsentConfiguration]] | None = ctx.cache.get(_CONFIGS)
    if cached is None:
        cached = ctx.cache[_CONFIGS] = {}
    if tenant_id not in cached:
        cached[tenant_id] = list(
            ctx.session.scalars(
                select(ConsentConfiguration).where(
                    ConsentConfiguration.tenant_id == tenant_id,
                    ConsentConfiguration.enabled.is_(True),
                )
            )
        )
    return [c for c in cached[tenant_id] if trigger.value in c.triggers]


def on_record_changed(ctx: CallerContext, change: RecordChange) -> None:
    """``crm_record_changed``: a client saved, an interaction logged or a task saved may
    ask the client for consent (users saved: ``employees``). Other modules are never
    imported: the entity name says what happened and the record's ``contact_id`` names
    the client."""
    trigger = TRIGGERS.get(change.entity)
    if trigger is None or change.kind is ChangeKind.DELETED:
        return
    if trigger is Trigger.INTERACTION_LOGGED and change.kind is not ChangeKind.CREATED:
        return
    record = change.record
    tenant_id = getattr(record, "tenant_id", None)
    if tenant_id is None:
        return
    configs = trigger_configurations(ctx, tenant_id, trigger)
    if not configs:
        return
    if change.entity == "contact":
        contact: Contact | None = record
    else:
        contact_id = getattr(record, "contact_id", None)
        contact = ctx.session.get(Contact, contact_id) if contact_id is not None else None
    if contact is None or contact.tenant_id != tenant_id:
        return
    ask(ctx, contact, configs, trigger.value)


def ask(
    ctx: CallerContext, contact: Contact, configs: list[ConsentConfiguration], reason: str
) -> list[ConsentRequest]:
    """Make the requests these configurations call for, skipping clients already answered,
    waiting or blocked. Returns the requests made."""
    session = ctx.session
    covering = [c for c in configs if applies(c, contact)]
    if not covering or is_blocked(session, contact.tenant_id, contact.id):
        return []
    email = recipient_email(session, contact)
    if email is None:
        return []
    expire_stale(session, contact.tenant_id, contact.id)
    settled = set(
        session.execute(
            select(ConsentRequest.configuration_id, ConsentRequest.company_id).where(
                ConsentRequest.tenant_id == contact.tenant_id,
                ConsentRequest.contact_id == contact.id,
                ConsentRequest.status.in_([*OPEN, RequestStatus.ACCEPTED]),
            )
        )
    )
    assigned = assigned_companies(session, contact.id)
    made: list[ConsentRequest] = []
    for config in covering:
        for company_id in companies_for(config, assigned):
            if (config.id, company_id) in settled:
                continue
            request = create(ctx, config, contact, company_id, email, reason)
            if request is not None:
                made.append(request)
    return made


# -- making one request ---------------------------------------------------------------------


def _insert(session: Session, values: dict[str, object]) -> int | None:
    """Insert unless an open request holds the same pending key (then ``None``)."""
    stmt = upsert(session, ConsentRequest)
    found = session.execute(
        stmt.values(**values).on_conflict_do_nothing().returning(ConsentRequest.id)
    ).scalar()
    return int(found) if found is not None else None


@dataclass(frozen=True)
class Asked:
    """Whom a request asks: a client (``contact_id``) or a user (``user_id``)."""

    tenant_id: int
    contact_id: int | None
    user_id: int | None
    #: What the template's fields show.
    person: Contact | placeholders.Employee
    #: Whom the job runs as when no user made the change (a web-form visitor, a sign-up).
    fallback_user: int | None

    @classmethod
    def client(cls, contact: Contact) -> Asked:
        return cls(contact.tenant_id, contact.id, None, contact, contact.owner_id)

    @classmethod
    def employee(cls, user: User) -> Asked:
        return cls(
            user.tenant_id, None, user.id, placeholders.Employee.named(user.display_name), user.id
        )

    def pending_key(self, configuration_id: int, company_id: int | None) -> str:
        if self.contact_id is not None:
            return pending_key(configuration_id, self.contact_id, company_id)
        return f"{configuration_id}:u{self.user_id}:{company_id or 0}"


def create(
    ctx: CallerContext,
    config: ConsentConfiguration,
    asked: Contact | Asked,
    company_id: int | None,
    email: str,
    reason: str,
) -> ConsentRequest | None:
    """Render, record and queue one request; ``None`` when one already waits."""
    if isinstance(asked, Contact):
        asked = Asked.client(asked)
    session = ctx.session
    company = session.get(ManagingCompany, company_id) if company_id is not None else None
    tenant = session.get(Tenant, asked.tenant_id)
    recipient = placeholders.Recipient(
        contact=asked.person,
        email=email,
        company=company.name if company is not None else "",
        organization=tenant.name if tenant is not None else "",
    )
    subject = placeholders.render(config.subject, recipient).replace("\n", " ")[:400]
    body = placeholders.render(config.body, recipient)
    request_id = _insert(
        session,
        {
            "tenant_id": asked.tenant_id,
            "configuration_id": config.id,
            "contact_id": asked.contact_id,
            "user_id": asked.user_id,
            "company_id": company_id,
            "status": RequestStatus.QUEUED,
            "pending_key": asked.pending_key(config.id, company_id),
            "reason": reason,
            "recipient": email,
            "sender": config.sender,
            "subject": subject,
            "body": body,
            "text_sha256": text_hash(subject, body),
            "template_version": config.version,
            "requested_by_id": ctx.user_id,
            "created_at": utcnow(),
        },
    )
    if request_id is None:
        return None
    request = session.get(ConsentRequest, request_id)
    assert request is not None
    actor = _actor(session, ctx.user_id)
    ledger.append(
        session,
        request,
        LedgerEvent.REQUESTED,
        Channel.API if reason in ("RESEND", "UNBLOCK") else Channel.SYSTEM,
        actor_id=ctx.user_id,
        actor=actor,
        detail=f"reason: {reason}",
    )
    for_user = None
    if ctx.caller is None:
        for_user = config.created_by_id or asked.fallback_user
        if for_user is None:
            raise Conflict("no user to send the consent request as")
    defer_job(ctx, SEND_KIND, {"request": request_id}, for_user=for_user)
    return request


def _actor(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = session.get(User, user_id)
    return user.email if user is not None else ""


# -- closing requests -----------------------------------------------------------------------


def expire_stale(
    session: Session, tenant_id: int, contact_id: int, now: datetime | None = None
) -> None:
    """Record as expired the sent requests of a client whose links ran out, at once (the
    periodic ``consent.expire`` does it for everyone else), freeing their pending keys. The
    claim is conditional: racing the periodic job, each request is recorded once."""
    expiry.expire(
        session,
        now or utcnow(),
        ConsentRequest.tenant_id == tenant_id,
        ConsentRequest.contact_id == contact_id,
    )


def _supersede(ctx: CallerContext, key: str, tenant_id: int) -> None:
    """Close the waiting request of ``key`` (its links stop working) before a new one."""
    session = ctx.session
    for request in session.scalars(
        select(ConsentRequest).where(
            ConsentRequest.tenant_id == tenant_id, ConsentRequest.pending_key == key
        )
    ):
        request.status, request.pending_key, request.nonce = RequestStatus.EXPIRED, None, None
        ledger.append(
            session,
            request,
            LedgerEvent.EXPIRED,
            Channel.API,
            actor_id=ctx.user_id,
            actor=_actor(session, ctx.user_id),
            detail="replaced by a new request",
        )
    session.flush()


@dataclass(frozen=True)
class Target:
    """Which request a resend or an unblock makes."""

    contact_id: int
    configuration_id: int
    company_id: int | None


def _prepare(ctx: CallerContext, target: Target) -> tuple[Contact, ConsentConfiguration, str]:
    session = ctx.session
    contact = session.get(Contact, target.contact_id)  # the caller's visibility applies
    if contact is None:
        raise NotFound("no such contact", field="contactId")
    config = session.get(ConsentConfiguration, target.configuration_id)
    if config is None or config.tenant_id != ctx.tenant_id:
        raise NotFound("no such consent configuration", field="configurationId")
    if config.audience is not Audience.CLIENT:
        raise BadUserInput("this configuration asks users, not clients", field="configurationId")
    if config.company_ids and target.company_id not in config.company_ids:
        raise BadUserInput("this configuration is not sent by that company", field="companyId")
    if not config.company_ids and target.company_id is not None:
        raise BadUserInput("this configuration is sent by the organisation", field="companyId")
    email = recipient_email(session, contact)
    if email is None:
        raise BadUserInput("the client has no email address", field="contactId")
    return contact, config, email


def resend(ctx: CallerContext, target: Target) -> ConsentRequest:
    """Send the request again (a new request; a waiting one is replaced). A blocked client
    is asked only through an unblock."""
    contact, config, email = _prepare(ctx, target)
    if is_blocked(ctx.session, ctx.tenant_id, contact.id):
        raise Conflict("the client is blocked for email; an administrator unblocks it")
    expire_stale(ctx.session, ctx.tenant_id, contact.id)
    _supersede(ctx, pending_key(config.id, contact.id, target.company_id), ctx.tenant_id)
    made = create(ctx, config, contact, target.company_id, email, "RESEND")
    if made is None:
        raise Conflict("another request for this client was made at the same time")
    return made


def unblock(ctx: CallerContext, target: Target) -> ConsentRequest:
    """The administrator's "unblock": a new request goes out; the block stays until the
    client accepts it (K4)."""
    contact, config, email = _prepare(ctx, target)
    if not is_blocked(ctx.session, ctx.tenant_id, contact.id):
        raise Conflict("the client is not blocked")
    expire_stale(ctx.session, ctx.tenant_id, contact.id)
    _supersede(ctx, pending_key(config.id, contact.id, target.company_id), ctx.tenant_id)
    made = create(ctx, config, contact, target.company_id, email, "UNBLOCK")
    if made is None:
        raise Conflict("another request for this client was made at the same time")
    ledger.append(
        ctx.session,
        made,
        LedgerEvent.UNBLOCK_REQUESTED,
        Channel.API,
        actor_id=ctx.user_id,
        actor=_actor(ctx.session, ctx.user_id),
    )
    return made
