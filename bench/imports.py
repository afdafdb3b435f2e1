"""The import end to end: ``python -m bench.imports [--rows 100000] [--database-url URL]``.

Writes a client xlsx of ``rows`` companies (name, email, phone, city, country, source,
segment, discount), then, each in a fresh process so its peak RSS is its own:

* ``parse``: the bare parse of the same file by openpyxl ``read_only`` (the reference);
* ``dry-run`` and ``import``: the real job (``core.import``) as a sales manager (a
  hierarchical profile: access enforcement on every row) — upload stored,
  job deferred and run by ``gateway.jobs.run_pending``: the file read with
  ``gateway.sheets.read_table``, every row validated and written through
  ``contacts.services.create_contacts`` (``create_contact``'s rules, one INSERT per table
  and chunk) under the rep's access, the report and the result workbook written, all in
  one transaction.

On SQLite each run gets a new database file; with ``--database-url`` (PostgreSQL) the
database is emptied and migrated first. Prints the seconds of the parse or of the job alone
(not the set-up: migrations, demo data, upload), wall and CPU — on a shared machine the
CPU seconds compare better —, rows per second and peak RSS; figures go to
``bench/RESULTS.md`` by hand (nothing is asserted).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER = ["Company", "Email", "Phone", "City", "Country", "Source", "Segment", "Discount %"]


def generate(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Clients")
    ws.append(HEADER)
    for i in range(rows):
        ws.append(
            [
                f"Client {i} S.L.",
                f"client{i}@example.test",
                f"+34 600 {i % 1000:03d} {i % 997:03d}",
                ("Madrid", "Sevilla", "Bilbao", "València")[i % 4],
                "ES",
                ("Web", "Fair", "Referral")[i % 3],
                None if i % 5 == 0 else "SME",
                (i % 40) / 4,
            ]
        )
    wb.save(path)


def _parse(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return count - 1


def _import(path: Path, url: str | None, dry_run: bool) -> int:
    from sqlalchemy import select

    from gateway import migrate
    from gateway.app import Gateway
    from gateway.config import Settings
    from gateway.context import CallerContext, Via
    from gateway.db import Database
    from gateway.demo import seed_demo
    from gateway.files.models import FilePurpose
    from gateway.files.services import store_file
    from gateway.identity.models import User
    from gateway.imports.jobs import IMPORT_JOB
    from gateway.jobs import defer_job, run_pending
    from gateway.jobs.models import Job
    from gateway.plugins import build_registry
    from gateway.testing import empty_database

    data = Path(tempfile.mkdtemp())
    settings = Settings(
        data_dir=data,
        database_url=url or f"sqlite:///{data}/bench.db",
        password_hash_profile="fast",
        jobs_in_process=False,
    )
    registry = build_registry()
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db.engine, registry)
    if url:
        empty_database(db)
    gateway = Gateway(settings=settings, db=db, registry=registry)
    seed_demo(gateway)
    with db.reading() as session:
        rep = session.scalar(select(User.id).where(User.email == "manager@demo.test"))
    ctx = CallerContext.acting_for(gateway, rep, via=Via.API)
    with ctx.transaction():
        stored = store_file(ctx, path.name, None, path.read_bytes(), FilePurpose.UPLOAD)
        params = {"file_id": stored.id, "entity": "contact", "variant": "company",
                  "dry_run": dry_run}  # fmt: skip
        job_id = defer_job(ctx, IMPORT_JOB, params).id
    ctx.close()
    profiler = _profiler()
    started = time.perf_counter(), time.process_time()
    run_pending(gateway)
    _TIMES["seconds"] = time.perf_counter() - started[0]
    _TIMES["cpu"] = time.process_time() - started[1]
    if profiler is not None:
        profiler.stop()
        Path(_PROFILE[0]).write_text(profiler.output_text(show_all=False, color=False))
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == "succeeded", (job.status, job.errors)
        counts = (job.result or {}).get("counts", {})
    assert counts.get("failed") == 0, counts  # a benchmark of failing rows measures errors
    return int(counts.get("total", 0))


#: ``--profile FILE``: the job profiled by pyinstrument (``pip install .[bench]``), its
#: call tree written to FILE.
_PROFILE: list[str] = []


def _profiler() -> Any:
    if not _PROFILE:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    return profiler


#: The job's own wall and CPU seconds (the set-up — migrations, demo data, upload — is not
#: the import's).
_TIMES: dict[str, float] = {}


def child(what: str, path: Path, url: str | None) -> None:
    started = time.perf_counter(), time.process_time()
    rows = _parse(path) if what == "parse" else _import(path, url, what == "dry-run")
    seconds = _TIMES.get("seconds", time.perf_counter() - started[0])
    cpu = _TIMES.get("cpu", time.process_time() - started[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"what": what, "rows": rows, "seconds": seconds, "cpu": cpu, "peak_mib": peak})
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--only", default="parse,dry-run,import")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "PATH"))
    parser.add_argument("--file", help="an xlsx written by an earlier run (not generated)")
    parser.add_argument("--profile", help="write the import's pyinstrument tree here")
    args = parser.parse_args()
    if args.child:
        if args.profile:
            _PROFILE.append(args.profile)
        child(args.child[0], Path(args.child[1]), args.database_url)
        return
    if args.file:
        path = Path(args.file)
    else:
        path = Path(tempfile.mkdtemp()) / f"clients-{args.rows}.xlsx"
        generate(path, args.rows)
    engine = "postgresql" if args.database_url else "sqlite"
    print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB, {engine}")
    for what in args.only.split(","):
        command = [sys.executable, "-m", "bench.imports", "--child", what, str(path)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        if args.profile and what != "parse":
            command += ["--profile", f"{args.profile}.{what}.txt"]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        per_second = result["rows"] / result["seconds"] if result["seconds"] else 0
        print(
            f"{what:8} {result['seconds']:8.1f} s (CPU {result['cpu']:6.1f} s) "
            f"{per_second:9.0f} rows/s peak {result['peak_mib']:6.0f} MiB"
        )


if __name__ == "__main__":
    main()
