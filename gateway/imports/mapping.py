"""Matching a file's headers to an importer's columns.

A template's own headers match exactly; a foreign file's headers match by a folded form
(case, accents, spaces and punctuation ignored) against each column's label, key and
aliases; the caller's mapping (header → column key) overrides both. What cannot be matched is
reported, never guessed: an unmatched header is left out (and listed), two headers for one
column or a missing required column refuse the file before any row is read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import BadUserInput
from gateway.imports.spec import ImportColumn


def fold(text: str) -> str:
    """``"Nº  Teléfono"`` → ``"nºtelefono"``: the form headers are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() or ch == "º")


@dataclass(frozen=True)
class HeaderMatch:
    #: For each position of the header row: the column key it feeds, or ``None``.
    keys: tuple[str | None, ...]
    #: Headers that feed nothing (neither matched nor mapped).
    unmatched: tuple[str, ...]

    def row(self, cells: Sequence[str | None]) -> dict[str, str]:
        """A data row as column key → trimmed text; empty cells are left out."""
        out: dict[str, str] = {}
        for key, cell in zip(self.keys, cells, strict=False):
            if key is None or cell is None:
                continue
            text = str(cell).strip()
            if text:
                out[key] = text
        return out


def suggest(columns: Sequence[ImportColumn], header: Sequence[str | None]) -> list[str | None]:
    """The column key each header would feed without a mapping (``None``: no match)."""
    by_form: dict[str, str] = {}
    for column in columns:
        for name in (column.key, column.label, *column.aliases):
            by_form.setdefault(fold(name), column.key)
    return [by_form.get(fold(h or "")) if h else None for h in header]


def match_header(
    columns: Sequence[ImportColumn],
    header: Sequence[str | None],
    mapping: Mapping[str, str],
    defaults: Mapping[str, str],
    *,
    require: bool = True,
) -> HeaderMatch:
    """``require``: every required column must be present (a file that only creates)."""
    known = {c.key: c for c in columns}
    for given, target in mapping.items():
        if target and target not in known:
            raise BadUserInput(f"the mapping names an unknown column: {target!r}", field="mapping")
        if given not in {h for h in header if h}:
            raise BadUserInput(
                f"the mapping names a header the file lacks: {given!r}", field="mapping"
            )
    guessed = suggest(columns, header)
    keys: list[str | None] = []
    unmatched: list[str] = []
    seen: dict[str, str] = {}
    for position, name in enumerate(header):
        label = (name or "").strip()
        key: str | None = (mapping[label] or None) if label in mapping else guessed[position]
        if key is not None and key in seen:
            raise BadUserInput(
                f"two headers feed the column {known[key].label!r}: {seen[key]!r} and {label!r}",
                field="mapping",
            )
        if key is None and label:
            unmatched.append(label)
        if key is not None:
            seen[key] = label
        keys.append(key)
    missing = [
        c.label
        for c in columns
        if require and c.required and c.key not in seen and c.key not in defaults
    ]
    if missing:
        raise BadUserInput(
            "the file lacks required columns: " + ", ".join(missing), field="mapping"
        )
    return HeaderMatch(tuple(keys), tuple(unmatched))
