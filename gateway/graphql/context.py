"""The per-request context every resolver receives as ``info.context``: the kernel's
:class:`gateway.context.CallerContext` plus what only an HTTP request has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.context import CallerContext


@dataclass
class RequestContext(CallerContext):
    """A GraphQL request's caller context.

    The session is opened lazily in the worker thread that executes the operation and is
    closed when the operation ends (``UnitOfWork`` extension). Mutations get a write session
    (``BEGIN IMMEDIATE`` on SQLite) and commit through :meth:`transaction`.
    """

    request_id: str = "-"
    request: Any = None
    response: Any = None
    client: str = ""
    client_address: str = "unknown"
    #: Bounds the worker threads executing operations (see ``Settings.execution_threads``).
    limiter: Any = None
