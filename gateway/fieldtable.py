"""Declared field tables: one row per GraphQL field of an entity, read by every feature that
lists the entity's fields (export, merge, web forms, import, the "which fields does this
change write" mapping of field rules) instead of each keeping a list of its own.

A module declares ``FIELDS: tuple[DeclaredField, ...]`` in its ``fields.py`` and derives
the rest (``having(FIELDS, Feature.IMPORT)``, ``writes(FIELDS)``). The import (issue 14)
reads the rows with :attr:`Feature.IMPORT`: their ``kind`` says how to parse a cell and
``required`` whether a row may leave it empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Feature(StrEnum):
    """What a field takes part in."""

    EXPORT = "export"
    MERGE = "merge"
    WEB_FORM = "web_form"
    IMPORT = "import"


class ValueKind(StrEnum):
    """How a field's value is given as text (an import cell, a form value) and checked."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"  # YYYY-MM-DD
    DECIMAL = "decimal"  # plain notation
    CHOICE = "choice"  # one of an enum's values
    REFERENCE = "reference"  # another record (a user by email, a stage or contact by name)
    LIST = "list"  # rows of their own (custom values…): never one cell


@dataclass(frozen=True)
class DeclaredField:
    #: The GraphQL field (what clients and field rules name).
    name: str
    #: The service's input key (the model attribute); ``None``: no column of its own.
    attr: str | None
    #: The column header / form label.
    label: str
    kind: ValueKind
    #: The GraphQL fields writing it writes for field rules; default ``(name,)``.
    rules: tuple[str, ...] = ()
    features: frozenset[Feature] = frozenset()
    #: A new record must have it (an import row without it is refused).
    required: bool = False
    #: The longest text the service accepts (TEXT fields).
    max_length: int | None = None

    @property
    def reads(self) -> tuple[str, ...]:
        return self.rules or (self.name,)

    def has(self, feature: Feature) -> bool:
        return feature in self.features


def features(*names: Feature) -> frozenset[Feature]:
    return frozenset(names)


def having(fields: Iterable[DeclaredField], feature: Feature) -> tuple[DeclaredField, ...]:
    """The fields that take part in ``feature``, in table order."""
    return tuple(f for f in fields if f.has(feature))


def writes(fields: Iterable[DeclaredField]) -> dict[str, tuple[str, ...]]:
    """Service attribute → the GraphQL fields writing it writes (for field rules)."""
    return {f.attr: f.reads for f in fields if f.attr}
