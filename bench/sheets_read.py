"""Spreadsheet readers compared: ``python -m bench.sheets_read [--rows 100000]``.

Writes a client-like xlsx (text, integers, decimals, dates, empty cells; 12 columns) with
openpyxl's write-only mode, then reads it in a fresh process per reader so each peak RSS is
its own: openpyxl ``read_only=True, data_only=True`` (the reference), python-calamine
(``iter_rows``) and ``gateway.sheets.read_table`` (what the import uses: zip inspection,
limits and text conversion included). Prints seconds, peak RSS and whether the values agree
with openpyxl's. No figures are asserted anywhere: they go to ``bench/RESULTS.md`` by hand.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path


def generate(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Clients")
    ws.append(
        ["Name", "Fiscal ID", "Email", "Phone", "City", "Country", "Source", "Segment",
         "Employees", "Discount %", "Since", "Last call"]
    )  # fmt: skip
    for i in range(rows):
        ws.append(
            [
                f"Client {i} S.L.",
                f"B{i:08d}",
                f"client{i}@example.test",
                f"+34 600 {i % 1000:03d} {i % 997:03d}",
                ("Madrid", "Sevilla", "Bilbao", "València")[i % 4],
                "ES",
                ("Web", "Fair", "Referral")[i % 3],
                None if i % 5 == 0 else "SME",
                i % 250,
                (i % 40) / 4,
                date(2000 + i % 25, 1 + i % 12, 1 + i % 28),
                datetime(2024, 1 + i % 12, 1 + i % 28, i % 24, i % 60),
            ]
        )
    wb.save(path)


def read_openpyxl(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    out: list[list[object]] = []
    for row in wb.worksheets[0].iter_rows(values_only=True):
        out.append(list(row))
    wb.close()
    return out


def read_calamine(path: Path) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    sheet = wb.get_sheet_by_index(0)
    return [list(r) for r in sheet.iter_rows()]


def read_gateway(path: Path) -> list[list[object]]:
    from gateway.sheets import SheetLimits, read_table

    limits = SheetLimits(max_rows=10_000_000, max_bytes=1 << 31)
    table = read_table(path.read_bytes(), path.name, limits)
    return [list(table.header), *(list(r.values) for r in table.rows)]


READERS = {"openpyxl": read_openpyxl, "calamine": read_calamine, "gateway": read_gateway}


def child(reader: str, path: Path) -> None:
    """Runs in its own process: read, then print the figures and a digest of the values."""
    started = time.perf_counter()
    rows = READERS[reader](path)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sample = [[_plain(v) for v in r] for r in (rows[1], rows[len(rows) // 2], rows[-1])]
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "rows": len(rows),
                      "sample": sample}))  # fmt: skip


def _plain(value: object) -> object:
    """Values as comparable text: calamine gives floats for integers written as numbers."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None if value in (None, "") else str(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clients-{args.rows}.xlsx"
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB, "
              f"written in {time.perf_counter() - started:.1f} s")  # fmt: skip
        results = {}
        for reader in READERS:
            out = subprocess.run(
                [sys.executable, "-m", "bench.sheets_read", "--child", reader, str(path)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[reader] = json.loads(out.stdout)
        reference = results["openpyxl"]["sample"]
        for reader, r in results.items():
            same = "same values" if r["sample"] == reference else f"DIFFERENT: {r['sample']}"
            print(f"{reader:9} {r['seconds']:6.2f} s  peak {r['peak_mib']:6.0f} MiB  "
                  f"{r['rows']} rows  {same}")  # fmt: skip


if __name__ == "__main__":
    main()
