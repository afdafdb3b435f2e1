"""A file's rows kept on disk as the import reads them, so the result workbook replays them
instead of parsing the file twice more: memory stays flat, and reading happens once."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from gateway.iterables import batched
from gateway.sheets.table import Cell

Numbered = tuple[int, list[Cell]]


class RowTape:
    """Records ``(row number, cells)`` pairs while they pass (:meth:`record`); replays them
    as often as asked (:meth:`replay`); a temporary file, gone on :meth:`close`."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._ends: list[int] = []

    def record(self, rows: Iterable[Numbered]) -> Iterator[Numbered]:
        for part in batched(rows, 1000):
            pickle.dump(list(part), self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._ends.append(self._file.tell())
            yield from part

    def fill(self, rows: Iterable[Numbered]) -> None:
        """Record every row (the whole file read before anything is written)."""
        for _ in self.record(rows):
            pass

    def replay(self) -> Iterator[Numbered]:
        self._file.seek(0)
        for _ in self._ends:
            yield from pickle.load(self._file)  # noqa: S301 (our own file)

    def close(self) -> None:
        self._file.close()
