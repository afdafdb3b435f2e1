"""The organisation audit log: services call :func:`log_admin` where an administrator acts
(profiles, sharing rules, module switches, users), someone signs in or fails to, a second
factor changes, or data leaves in an export. The actor and the client come from the
session (``CallerContext`` puts them there), so a call names only what happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.audit.models import AdminEvent
from gateway.audit.trail import ACTOR, CLIENT, plain


def log_admin(
    session: Session,
    tenant_id: int,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
    *,
    user_id: int | None = None,
) -> None:
    """Record ``action`` (``area.verb``) in ``tenant_id``'s log, in the caller's transaction
    (what rolls back was not done). ``user_id`` overrides the session's actor (a sign-in:
    nobody is signed in yet)."""
    address, agent = session.info.get(CLIENT) or ("", "")
    session.add(
        AdminEvent(
            tenant_id=tenant_id,
            user_id=user_id if user_id is not None else session.info.get(ACTOR),
            action=action,
            target=target[:200],
            details={k: plain(v) for k, v in (details or {}).items()},
            client_address=(address or "")[:60],
            user_agent=(agent or "")[:200],
        )
    )


def log_export(ctx: Any, filename: str, rows: int | None = None) -> None:
    """Record that ``ctx``'s caller exported ``filename`` (``data.exported``). Exports are
    queries, whose session may be read-only: the entry is written in a transaction of its
    own, which also keeps it when the answer fails to reach the caller."""
    caller = getattr(ctx, "caller", None)
    if caller is None:
        return
    details: dict[str, Any] = {"rows": rows} if rows is not None else {}
    with ctx.gateway.db.transaction() as session:
        session.info[CLIENT] = (getattr(ctx, "client_address", ""), getattr(ctx, "client", ""))
        log_admin(
            session, caller.tenant_id, "data.exported", filename, details, user_id=caller.user_id
        )
