"""What the leads services share: the entity names events use, and which GraphQL fields a
change writes for the caller's field rules (the mapping is the field table's:
``plugins.leads.fields.WRITES``)."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.sdk import (
    CallerContext,
    check_writable_fields,
)
from plugins.leads.fields import WRITES

LEAD = "lead"
OPPORTUNITY = "opportunity"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def written_fields(type_name: str, keys: Iterable[str]) -> set[str]:
    """The GraphQL fields of ``type_name`` (or qualified ones) that changing ``keys`` writes."""
    names = WRITES.get(type_name, {})
    return {field for key in keys for field in names.get(key, (_camel(key),))}


def check_fields(ctx: CallerContext, type_name: str, keys: Iterable[str]) -> None:
    """Refuse changing fields the caller's effective rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, type_name, written_fields(type_name, keys))
