"""Counting (and, with tracing on, tracing) the SQL statements of the observed request.

One ``before_cursor_execute`` listener per engine, installed once: it looks up the
context's :class:`~gateway.observability.observation.Observation` and does nothing when
there is none, so requests that are not observed (every feature off) pay a single
context-variable read per statement — and not even that while no gateway of the process
observes anything, since the listener is only installed by one that does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from gateway.observability.observation import CURRENT

#: Longest statement text recorded on a span (statements never carry their parameters).
MAX_STATEMENT_CHARS = 2000
_SPAN = "_crm_span"


def install(engine: Engine) -> None:
    """Attach the listeners to ``engine`` (idempotent)."""
    if not event.contains(engine, "before_cursor_execute", _before):
        event.listen(engine, "before_cursor_execute", _before)
        event.listen(engine, "after_cursor_execute", _after)
        event.listen(engine, "handle_error", _failed)


def _before(
    conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, executemany: bool
) -> None:
    observation = CURRENT.get()
    if observation is None:
        return
    observation.statements += 1
    tracer = observation.tracer
    if tracer is not None and context is not None:
        from gateway.observability.tracing import sql_span

        setattr(context, _SPAN, sql_span(tracer, conn.dialect.name, statement, executemany))


def _after(
    _conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    span = getattr(context, _SPAN, None)
    if span is not None:
        setattr(context, _SPAN, None)
        span.end()


def _failed(exception_context: Any) -> None:
    context = exception_context.execution_context
    span = getattr(context, _SPAN, None) if context is not None else None
    if span is not None:
        from gateway.observability.tracing import fail

        setattr(context, _SPAN, None)
        fail(span, exception_context.original_exception)
        span.end()
