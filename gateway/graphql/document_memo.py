"""Per-document memos keyed by the parsed document's identity, not its content.

graphql-core's AST nodes hash by content, recursively: an ``lru_cache`` keyed on a document
re-walks the whole tree on every lookup. The parser cache hands back the same document
object for the same query text, so identity is the natural key. An entry holds the document
itself, so its id cannot be reused by another object while the entry lives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class DocumentMemo(Generic[T]):
    """A bounded LRU of ``compute(document)`` results, keyed by ``(id(document), extra)``."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[int, Hashable], tuple[object, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, document: object, extra: Hashable, compute: Callable[[], T]) -> T:
        key = (id(document), extra)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is document:
                self._entries.move_to_end(key)
                return entry[1]
        value = compute()
        with self._lock:
            self._entries[key] = (document, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value
