"""Firing the record events of the hook contract from module code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.contract import ChangeKind, RecordChange
from gateway.errors import Conflict

if TYPE_CHECKING:
    from gateway.context import CallerContext


def record_changed(
    context: CallerContext,
    kind: ChangeKind,
    entity: str,
    record: Any,
    changed_fields: frozenset[str] = frozenset(),
) -> None:
    """Tell the tenant's enabled modules that a record changed (same transaction)."""
    context.session.flush()
    context.hooks.crm_record_changed(
        context=context,
        change=RecordChange(kind=kind, entity=entity, record=record, changed_fields=changed_fields),
    )


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
