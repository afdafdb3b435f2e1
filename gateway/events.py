"""Firing the record events of the hook contract from module code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gateway.contract import ChangeKind, RecordChange
from gateway.errors import Conflict

if TYPE_CHECKING:
    from gateway.context import CallerContext


#: ``context.cache`` key: while set (``deferred``), record events wait for the caller's flush.
_DEFERRED = "crm.deferred_record_events"


@contextmanager
def deferred(context: CallerContext) -> Iterator[list[RecordChange]]:
    """Collect record events instead of flushing and firing each at once — a bulk writer
    (an import's chunk of new records) flushes once, then fires them in order with :func:`fire`."""
    pending: list[RecordChange] = []
    context.cache[_DEFERRED] = pending
    try:
        yield pending
    finally:
        context.cache.pop(_DEFERRED, None)


def fire(context: CallerContext, pending: list[RecordChange]) -> None:
    """Tell the enabled modules of events collected by :func:`deferred` (after the flush)."""
    for change in pending:
        context.hooks.crm_record_changed(context=context, change=change)


def has_listeners(context: CallerContext) -> bool:
    """Whether an enabled module listens to record events: a bulk writer whose records
    are not in the session loads them for the events only when someone will read them."""
    hook: Any = context.hooks.crm_record_changed
    return bool(hook.get_hookimpls())


def record_changed(
    context: CallerContext,
    kind: ChangeKind,
    entity: str,
    record: Any,
    changed_fields: frozenset[str] = frozenset(),
) -> None:
    """Tell the tenant's enabled modules that a record changed (same transaction)."""
    change = RecordChange(kind=kind, entity=entity, record=record, changed_fields=changed_fields)
    pending = context.cache.get(_DEFERRED)
    if pending is not None:
        pending.append(change)
        return
    context.session.flush()
    context.hooks.crm_record_changed(context=context, change=change)


def ensure_deletable(context: CallerContext, entity: str, record: Any) -> None:
    """Ask the tenant's enabled modules for vetoes; CONFLICT naming each vetoing module."""
    vetoes = [
        f"{module}: {reason}"
        for module, reason in context.hooks.call_attributed(
            "crm_veto_delete", context=context, entity=entity, record=record
        )
        if reason
    ]
    if vetoes:
        raise Conflict(f"this {entity} cannot be deleted ({'; '.join(vetoes)})", vetoes=vetoes)
