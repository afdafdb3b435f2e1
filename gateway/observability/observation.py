"""What one request (or one job run) did, gathered while it runs: the ``Observation`` in a
context variable.

The middleware (or the job runner) sets it; worker threads see the same object because
anyio copies the context into them, so the engine listener can count the statements of
*this* request, and the endpoint and the schema can note the tenant, the operation and the
outcome. Nothing here reads or stores field values.
"""

from __future__ import annotations

import re
import threading
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode

#: The observation of the request or job this code runs for; ``None`` outside one (or when
#: every observation feature is off).
CURRENT: ContextVar[Observation | None] = ContextVar("crm_observation", default=None)

#: An ``X-Request-ID`` a client or proxy may choose: short, printable, no spaces or quotes
#: (it is echoed in a header and written to logs).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
#: A GraphQL operation name as a metric label (the grammar's ``Name``, bounded).
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
#: Distinct operation names a process keeps as labels; others count as ``other`` (names are
#: chosen by clients, and every name is a time series).
MAX_OPERATION_NAMES = 100
_names: set[str] = set()
_names_lock = threading.Lock()


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's ``X-Request-ID`` when it is well formed, else a new random one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def operation_label(name: str | None) -> str:
    """``name`` as a bounded label: ``anonymous`` when unnamed, ``other`` past the cap."""
    if not name:
        return "anonymous"
    if name in _names:
        return name
    if not _NAME.fullmatch(name):
        return "other"
    with _names_lock:
        if len(_names) >= MAX_OPERATION_NAMES:
            return "other"
        _names.add(name)
    return name


@dataclass(eq=False)
class Observation:
    """One request or job run, as operations see it."""

    request_id: str = ""
    #: The tracer for SQL spans (``None``: tracing off).
    tracer: Any = None
    statements: int = 0
    tenant_id: int | None = None
    #: The GraphQL outcome: ``ok`` or the first error's code; ``None`` until known.
    outcome: str | None = None
    #: Strawberry's execution context of the operation (name and type read after the fact).
    execution: Any = field(default=None, repr=False)
    #: Jobs: the kind and id once claimed.
    job_kind: str | None = None
    job_id: int | None = None

    def operation(self) -> tuple[str | None, str | None]:
        """The operation's name (as sent, or the document's) and type (``query``…)."""
        ec = self.execution
        if ec is None:
            return None, None
        name: str | None = ec.operation_name
        document = ec.graphql_document
        if document is None:
            return name, None
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                name is None or (definition.name is not None and definition.name.value == name)
            ):
                return name, definition.operation.value
        return name, None


def current() -> Observation | None:
    """The observation of the running request or job, if one is observed."""
    return CURRENT.get()


def safe_name(name: str | None) -> str | None:
    """An operation name fit for a log or a span (a GraphQL ``Name`` of ≤ 64 characters)."""
    if name is None:
        return None
    return name if _NAME.fullmatch(name) else "invalid"
