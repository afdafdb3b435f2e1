"""Small iteration helpers the standard library of Python 3.11 lacks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``itertools.batched`` (Python 3.12): ``items`` in lists of ``size`` (the last one
    shorter), read lazily — for ``IN (...)`` lookups and bulk writes in chunks."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
