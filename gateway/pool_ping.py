"""Checking pooled PostgreSQL connections without a round trip per checkout.

``pool_pre_ping`` sends an empty statement on every checkout: two extra round trips per
GraphQL request (the token's connection, then the operation's session), each costing
driver work in the gateway and a wake-up of the database backend. A connection that was
in use a moment ago is alive; the ones that may not be are those that sat idle (a database
restart, a firewall's idle cut). So the pool pings a connection only when it comes back
after more than :data:`PING_AFTER_IDLE` seconds in the pool, or when the driver already
knows it is broken; a failed ping discards it and the pool connects anew (SQLAlchemy's
documented "pessimistic" recipe, with the ``DisconnectionError`` retry). A connection
that dies while busy fails that statement, and SQLAlchemy then invalidates the whole pool,
as with ``pool_pre_ping``.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc

#: Seconds a connection may sit in the pool and still be handed out without a ping.
PING_AFTER_IDLE = 1.0
_IDLE_SINCE = "crm_idle_since"


def install(engine: Engine) -> None:
    """Ping pooled connections of ``engine`` on checkout only after an idle spell."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None:  # new: just connected
            return
        if not getattr(dbapi_connection, "broken", False) and (
            time.monotonic() - since <= PING_AFTER_IDLE
        ):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:  # any driver error: unusable, replace it
            raise exc.DisconnectionError() from error
