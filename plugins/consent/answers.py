"""Answers to consent requests, through the public links (K3 to K5): accept, deny and
withdraw, each recorded in the ledger with who answered; a denial or withdrawal blocks the
client for email, an acceptance lifts the block."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from gateway.sdk import upsert
from plugins.consent import ledger
from plugins.consent.models import (
    Channel,
    ConsentBlock,
    ConsentRequest,
    LedgerEvent,
    RequestStatus,
)


@dataclass(frozen=True)
class Visit:
    """Who answered: recorded in the ledger with the answer."""

    ip_address: str
    user_agent: str


def answer(
    session: Session, request: ConsentRequest, accepted: bool, visit: Visit, now: datetime
) -> bool:
    """Record the answer if the request still waits for it with this nonce (single use:
    the conditional UPDATE matches at most once, whoever races). Accepting lifts a block;
    denying blocks the client."""
    status = RequestStatus.ACCEPTED if accepted else RequestStatus.DENIED
    done = session.execute(
        update(ConsentRequest)
        .where(
            ConsentRequest.id == request.id,
            ConsentRequest.status == RequestStatus.SENT,
            ConsentRequest.nonce == request.nonce,
            ConsentRequest.expires_at > now,
        )
        .values(status=status, pending_key=None, answered_at=now)
        .returning(ConsentRequest.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if done is None:
        return False
    session.refresh(request)
    event = LedgerEvent.ACCEPTED if accepted else LedgerEvent.DENIED
    _by_link(session, request, event, visit, now)
    if request.contact_id is None:  # a user (employee): answers are recorded, never blocks
        return True
    if accepted:
        lifted = session.execute(
            delete(ConsentBlock)
            .where(
                ConsentBlock.tenant_id == request.tenant_id,
                ConsentBlock.contact_id == request.contact_id,
            )
            .returning(ConsentBlock.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if lifted is not None:
            _by_link(session, request, LedgerEvent.BLOCK_LIFTED, visit, now)
    else:
        block(session, request, "DENIED", now)
    return True


def _by_link(
    session: Session, request: ConsentRequest, event: LedgerEvent, visit: Visit, now: datetime
) -> None:
    """Record ``event`` of ``request`` in the ledger as done through its link, by ``visit``."""
    ledger.append(
        session,
        request,
        event,
        Channel.LINK,
        ip_address=visit.ip_address,
        user_agent=visit.user_agent,
        at=now,
    )


def block(session: Session, request: ConsentRequest, reason: str, now: datetime) -> None:
    stmt = upsert(session, ConsentBlock)
    session.execute(
        stmt.values(
            tenant_id=request.tenant_id,
            contact_id=request.contact_id,
            reason=reason,
            request_id=request.id,
            blocked_at=now,
        ).on_conflict_do_nothing()
    )


def same_person(contact_id: int | None, user_id: int | None) -> ColumnElement[bool]:
    """Requests asking this client (or, without one, this user)."""
    if contact_id is not None:
        return ConsentRequest.contact_id == contact_id
    return ConsentRequest.user_id == user_id


def withdraw(session: Session, request: ConsentRequest, visit: Visit, now: datetime) -> bool:
    """Withdraw the client's consent (GDPR Art. 7(3)): every accepted request of the client
    becomes withdrawn and the client is blocked (a user's are withdrawn, without a block).
    Single use like an answer."""
    done = session.execute(
        update(ConsentRequest)
        .where(
            ConsentRequest.id == request.id,
            ConsentRequest.status == RequestStatus.ACCEPTED,
            ConsentRequest.nonce == request.nonce,
        )
        .values(status=RequestStatus.WITHDRAWN)
        .returning(ConsentRequest.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if done is None:
        return False
    others = list(
        session.scalars(
            select(ConsentRequest).where(
                ConsentRequest.tenant_id == request.tenant_id,
                same_person(request.contact_id, request.user_id),
                ConsentRequest.status == RequestStatus.ACCEPTED,
            )
        )
    )
    session.refresh(request)
    for withdrawn in [request, *others]:
        withdrawn.status = RequestStatus.WITHDRAWN
        _by_link(session, withdrawn, LedgerEvent.WITHDRAWN, visit, now)
    if request.contact_id is not None:
        block(session, request, "WITHDRAWN", now)
    return True


def latest_accepted(
    session: Session, tenant_id: int, contact_id: int | None, user_id: int | None = None
) -> ConsentRequest | None:
    """The most recent accepted request of the client (or user): the one a withdraw link
    in a later mail names."""
    return session.scalar(
        select(ConsentRequest)
        .where(
            ConsentRequest.tenant_id == tenant_id,
            same_person(contact_id, user_id),
            ConsentRequest.status == RequestStatus.ACCEPTED,
            ConsentRequest.nonce.is_not(None),
        )
        .order_by(ConsentRequest.answered_at.desc(), ConsentRequest.id.desc())
        .limit(1)
    )


WITHDRAW_LINK_DAYS = 365


def withdraw_expiry(now: datetime) -> datetime:
    return now + timedelta(days=WITHDRAW_LINK_DAYS)
