"""Rate limiting of sign-in attempts, kept in the database so it holds across workers.

Each failed password or code counts against the account (whether it exists or not, so a
lock does not reveal it) and against the client address. Past the limit within the window,
the key is locked for a while and every attempt answers ``RATE_LIMITED`` without being
checked — so aliases or parallel sessions cannot multiply guesses.

:func:`count_event` is a plain fixed-window counter on the same table, for other limits
(e.g. web form submissions per client address).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import upsert, utcnow
from gateway.errors import RateLimited
from gateway.identity.models import AuthThrottle


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def account_key(email: str) -> str:
    return "acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(address: str) -> str:
    return "addr:" + hashlib.sha256(address.encode()).hexdigest()


def _row(session: Session, key: str) -> AuthThrottle:
    session.execute(
        upsert(session, AuthThrottle)
        .values(key=key, failures=0, window_started_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.execute(
        select(AuthThrottle).where(AuthThrottle.key == key).with_for_update()
    ).scalar_one()


def check(session: Session, limits: list[Limit]) -> None:
    """Refuse with RATE_LIMITED while any key is locked."""
    now = utcnow()
    rows = session.scalars(
        select(AuthThrottle).where(AuthThrottle.key.in_([lim.key for lim in limits]))
    )
    for row in rows:
        if row.locked_until is not None and row.locked_until > now:
            seconds = int((row.locked_until - now).total_seconds()) + 1
            raise RateLimited(
                f"too many failed attempts; try again in {seconds} seconds",
                retryAfter=seconds,
            )


def record_failure(session: Session, limits: list[Limit], window: timedelta) -> None:
    """Count a failure against every key; lock those past their limit for ``window``."""
    now = utcnow()
    for limit in limits:
        row = _row(session, limit.key)
        if now - row.window_started_at > window:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limit.max_failures:
            row.locked_until = now + window
            row.failures, row.window_started_at = 0, now
    session.flush()


def record_success(session: Session, account: str) -> None:
    """A successful sign-in clears the account's count (not the address's)."""
    row = session.get(AuthThrottle, account)
    if row is not None and (row.locked_until is None or row.locked_until <= utcnow()):
        row.failures = 0


def count_event(session: Session, key: str, limit: int, window: timedelta) -> int | None:
    """Count one event against ``key`` in a fixed window of ``window``.

    Returns ``None`` when the event is within ``limit`` for the current window (and counts
    it), or the seconds until the window ends when ``limit`` events were already counted
    (the event is then not counted; answer it with ``Retry-After``). The row is locked while
    counting, so concurrent workers cannot both take the last slot.
    """
    now = utcnow()
    row = _row(session, key)
    if now - row.window_started_at >= window:
        row.failures, row.window_started_at = 0, now
    if row.failures >= limit:
        return int((row.window_started_at + window - now).total_seconds()) + 1
    row.failures += 1
    session.flush()
    return None
