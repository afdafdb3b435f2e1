"""The benchmark runner: ``python -m bench [--contacts 10000] [--database-url URL] [--runs 30]``.

1. Generates the dataset if the database does not hold it yet (:mod:`bench.generate`).
2. In process: for every case of :mod:`bench.queries`, checks once that the GraphQL ``data``
   equals the floor's JSON (and that no other tenant's contact appears), then times
   ``--runs`` interleaved pairs (GraphQL request through the ASGI app with
   ``httpx2.ASGITransport``, then the floor, or the other way round on odd runs) after a
   warm-up, and reports median and p90 of both, their ratio, and the SQL statements of a
   GraphQL request (``before_cursor_execute`` on the app's engine) split into kernel work
   (transaction starts, token lookup, module switches, access scope) and the query's own.
3. Statement counts of the list queries at page sizes 10, 50, 200 and 500.
4. Over HTTP: ``crm-gateway serve`` and the raw-ASGI floor (:mod:`bench.floor_app`), each
   a real uvicorn process, loaded with Q1 ``first: 50`` at concurrency 1 and 8.
5. Prints the tables and appends them to ``bench/RESULTS.md`` with the machine and date.

``DATABASE_URL`` (or ``--database-url``) selects PostgreSQL; the default is an SQLite file
under ``bench/.data``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url

from bench import load as loadgen
from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset, sqlite_path
from bench.module_data import ensure_module_rows
from bench.queries import (
    CONTACTS,
    MANAGER,
    Case,
    Viewer,
    cases,
    lookup_viewer,
    normalised,
    q1_case,
    run_floor,
)
from gateway import migrate
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.plugins import build_registry
from gateway.testing import LOGIN

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PAGE_SIZES = (10, 50, 200, 500)


# -- statements ---------------------------------------------------------------------------------

_SCOPE_TABLES = (
    "profile_field_rules",
    "profile_permissions",
    "user_hierarchy",
    "record_shares",
    "sharing_rules",
)


def category(statement: str) -> str:
    """Kernel work (tx, auth, modules, scope) or the query's own (data)."""
    head = statement.lstrip()[:40].upper()
    if head.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
        return "tx"
    if "auth_sessions" in statement:
        return "auth"
    if "tenant_modules" in statement:
        return "modules"
    first_from = statement.split("FROM", 1)[1].split()[0] if "FROM" in statement else ""
    if first_from in _SCOPE_TABLES:
        return "scope"
    return "data"


CATEGORIES = ("tx", "auth", "modules", "scope", "data")


class StatementLog:
    """SQL statements sent on an engine while :meth:`recording`."""

    def __init__(self, engine: Engine) -> None:
        self.active = False
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.active:
            self.statements.append(statement)

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def breakdown(statements: list[str]) -> str:
    counts = Counter(category(s) for s in statements)
    return " + ".join(f"{counts[c]} {c}" for c in CATEGORIES if counts[c])


# -- in-process measurement ---------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


@dataclass
class CaseResult:
    case: Case
    rows: int
    gql_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    #: CPU time of this process (``time.process_time``: the app, the client and SQLite;
    #: not PostgreSQL's backend), steadier than wall time on a busy machine.
    gql_cpu: list[float] = field(default_factory=list)
    floor_cpu: list[float] = field(default_factory=list)
    counts: Counter[int] = field(default_factory=Counter)
    breakdown: str = ""
    floor_statements: int = 0
    check: str = ""

    @property
    def ratio(self) -> float:
        return statistics.median(self.gql_ms) / statistics.median(self.floor_ms)

    @property
    def statements(self) -> str:
        common = self.counts.most_common(1)[0][0]
        extra = max(self.counts)
        return f"{common}" + (f" (max {extra})" if extra != common else "")


def _rows(data: dict[str, Any]) -> int:
    for name in ("contacts", "leads", "opportunities", "invoices"):
        if name in data:
            return len(data[name]["edges"])
    return 0 if data.get("contact") is None else 1


def _contact_ids(value: Any) -> set[int]:
    found: set[int] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "id" and isinstance(v, str):
                decoded = base64.b64decode(v).decode()
                if decoded.startswith("Contact:"):
                    found.add(int(decoded.split(":", 1)[1]))
            else:
                found |= _contact_ids(v)
    elif isinstance(value, list):
        for v in value:
            found |= _contact_ids(v)
    return found


class Bench:
    def __init__(self, gateway: Gateway, log: StatementLog) -> None:
        self.gateway = gateway
        self.engine = gateway.db.engine
        self.log = log
        self.tokens: dict[str, str] = {}
        self.viewers: dict[str, Viewer] = {}
        self.http: httpx2.AsyncClient | None = None
        self.last_cpu = 0.0

    async def login(self, email: str) -> None:
        assert self.http is not None
        r = await self.http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
        )
        payload = r.json()["data"]["login"]
        if payload["errors"]:
            raise SystemExit(f"login of {email} failed: {payload['errors']}")
        self.tokens[email] = payload["token"]
        self.viewers[email] = lookup_viewer(self.engine, email)

    async def graphql(
        self, case: Case, variables: dict[str, Any] | None = None
    ) -> tuple[float, dict[str, Any], list[str]]:
        """One request: elapsed ms (the ASGI round trip), body, statements sent."""
        assert self.http is not None
        payload = {"query": case.document, "variables": variables or case.variables}
        headers = {"Authorization": f"Bearer {self.tokens[case.email]}"}
        with self.log.recording() as statements:
            t, cpu = time.perf_counter(), time.process_time()
            r = await self.http.post("/graphql", json=payload, headers=headers)
            elapsed = 1000 * (time.perf_counter() - t)
            self.last_cpu = 1000 * (time.process_time() - cpu)
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise SystemExit(f"{case.key}: {r.status_code} {body.get('errors')}")
        return elapsed, body, list(statements)

    def floor(self, case: Case) -> tuple[float, str]:
        t, cpu = time.perf_counter(), time.process_time()
        answer = run_floor(self.engine, case, self.viewers[case.email])
        self.last_cpu = 1000 * (time.process_time() - cpu)
        return 1000 * (time.perf_counter() - t), answer

    def check(self, case: Case, body: dict[str, Any], floor_json: str) -> str:
        ours, floor = normalised(body["data"]), normalised(json.loads(floor_json)["data"])
        ids = _contact_ids(ours)
        if ids:
            with self.engine.connect() as conn:
                strangers = conn.scalar(
                    select(CONTACTS.c.id)
                    .where(
                        CONTACTS.c.id.in_(ids),
                        CONTACTS.c.tenant_id != self.viewers[case.email].tenant_id,
                    )
                    .limit(1)
                )
            if strangers is not None:
                raise SystemExit(f"{case.key}: contact {strangers} of another tenant returned")
        if ours != floor:
            (REPO / "bench" / ".data").mkdir(exist_ok=True)
            dump = REPO / "bench" / ".data" / f"mismatch-{case.key.replace(' ', '_')}.json"
            dump.write_text(json.dumps({"graphql": ours, "floor": floor}, indent=1))
            return f"DIFFERENT (see {dump.relative_to(REPO)})"
        return "equal"

    async def run(self, all_cases: list[Case], runs: int, warmup: int) -> list[CaseResult]:
        transport = httpx2.ASGITransport(app=create_app(self.gateway))
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            self.http = http
            for email in sorted({c.email for c in all_cases}):
                await self.login(email)
            results = []
            for case in all_cases:
                _, body, statements = await self.graphql(case)
                with self.log.recording() as floor_statements:
                    _, floor_json = self.floor(case)
                result = CaseResult(case, _rows(body["data"]))
                result.check = self.check(case, body, floor_json)
                result.breakdown = breakdown(statements)
                result.floor_statements = len(floor_statements)
                results.append(result)
            for _ in range(warmup):
                for case in all_cases:
                    await self.graphql(case)
                    self.floor(case)
            gc.collect()
            for run in range(runs):
                for result in results:
                    if run % 2:
                        result.floor_ms.append(self.floor(result.case)[0])
                        result.floor_cpu.append(self.last_cpu)
                    elapsed, _, statements = await self.graphql(result.case)
                    result.gql_ms.append(elapsed)
                    result.gql_cpu.append(self.last_cpu)
                    result.counts[len(statements)] += 1
                    if not run % 2:
                        result.floor_ms.append(self.floor(result.case)[0])
                        result.floor_cpu.append(self.last_cpu)
            return results

    async def page_size_counts(self, all_cases: list[Case]) -> list[tuple[str, list[int]]]:
        transport = httpx2.ASGITransport(app=create_app(self.gateway))
        rows = []
        seen: set[tuple[str, str]] = set()
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            self.http = http
            for case in all_cases:
                if not case.page_sized or (case.document, case.email) in seen:
                    continue
                seen.add((case.document, case.email))
                counts = []
                for size in PAGE_SIZES:
                    _, _, statements = await self.graphql(case, {**case.variables, "first": size})
                    counts.append(len(statements))
                rows.append((case.key.split(" first")[0], counts))
        return rows


# -- HTTP ---------------------------------------------------------------------------------------


@dataclass
class HttpRow:
    server: str
    result: loadgen.LoadResult


def http_bench(
    url: str,
    data_dir: Path,
    seconds: float,
    workers: int,
    tool: str,
    floor_json: str,
) -> list[HttpRow]:
    """Q1 first:50 as manager01 through ``crm-gateway serve`` and through the floor app."""
    workdir = data_dir
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CRM_DATA_DIR": str(data_dir),
        "CRM_LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO),
        "BENCH_DATABASE_URL": url,
        "BENCH_EMAIL": MANAGER,
        "BENCH_FIRST": "50",
    }
    case = q1_case(50)
    payload = {"query": case.document, "variables": case.variables}
    expected = normalised(json.loads(floor_json)["data"])
    servers = {
        "gateway (crm-gateway serve)": [sys.executable, "-m", "gateway", "serve"],
        "raw-ASGI floor (bench.floor_app)": [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor_app:create_app",
            "--factory",
            "--log-level",
            "warning",
        ],
    }
    rows = []
    for name, argv in servers.items():
        port = loadgen.free_port()
        argv = [*argv, "--port", str(port), "--workers", str(workers)]
        with loadgen.server(argv, env, REPO, workdir / f"server-{port}.log", port) as base:
            headers: dict[str, str] = {}
            if "gateway" in name:
                r = httpx2.post(
                    f"{base}/graphql",
                    json={"query": LOGIN, "variables": {"e": MANAGER, "p": PASSWORD}},
                    timeout=30,
                )
                headers["Authorization"] = f"Bearer {r.json()['data']['login']['token']}"
            answer = httpx2.post(f"{base}/graphql", json=payload, headers=headers, timeout=30)
            if normalised(answer.json()["data"]) != expected:
                raise SystemExit(f"{name} does not answer the floor's JSON")
            loadgen.load(tool, f"{base}/graphql", payload, headers, 1, 2, workdir)  # warm-up
            for concurrency in (1, 8):
                result = loadgen.load(
                    tool, f"{base}/graphql", payload, headers, concurrency, seconds, workdir
                )
                rows.append(HttpRow(name, result))
    return rows


# -- report -------------------------------------------------------------------------------------


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable"


def machine(engine: Engine) -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            pg = str(conn.scalar(text("SHOW server_version")))
    else:
        pg = f"not used by this run (client: {_run(['psql', '--version'])})"
    libs = ", ".join(
        f"{p} {version(p)}"
        for p in ("sqlalchemy", "strawberry-graphql", "graphql-core", "starlette", "uvicorn")
    )
    commit = _run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(REPO), "status", "--porcelain", "--", "gateway", "plugins"])
    code = f"commit {commit}" + (
        " + uncommitted changes in gateway/ or plugins/" if dirty and dirty != "unavailable" else ""
    )
    return [
        f"- code: {code}",
        f"- machine: {os.cpu_count()} CPUs (`nproc`: {_run(['nproc'])}), {cpu}, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}",
        f"- {libs}, psycopg {version('psycopg')}",
    ]


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def report(
    *,
    label: str,
    command: str,
    engine: Engine,
    contacts: int,
    users: int,
    runs: int,
    results: list[CaseResult],
    page_counts: list[tuple[str, list[int]]],
    http: list[HttpRow],
    http_note: str,
) -> str:
    engine_name = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    out = [
        f"### {engine_name}, {contacts:,} contacts, {users} users — {label}",
        "",
        f"- date: {_run(['date', '-u'])}",
        f"- command: `{command}`",
        f"- dataset: tenant `bench` {contacts:,} contacts / {users} users (+ admin), tenant "
        f"`sparse` {contacts:,} contacts, tenant `other` 30 contacts",
        *machine(engine),
        f"- {runs} interleaved runs per case; times in ms; ratio = GraphQL median / floor median",
        "",
        "| case | rows | GraphQL median | p90 | floor median | p90 | ratio | CPU GraphQL / "
        "floor | statements (GraphQL) | of which | floor statements | data = floor? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        out.append(
            f"| {r.case.key} | {r.rows} | {ms(statistics.median(r.gql_ms))} | "
            f"{ms(percentile(r.gql_ms, 0.9))} | {ms(statistics.median(r.floor_ms))} | "
            f"{ms(percentile(r.floor_ms, 0.9))} | {r.ratio:.1f}x | "
            f"{ms(statistics.median(r.gql_cpu))} / {ms(statistics.median(r.floor_cpu))} | "
            f"{r.statements} | "
            f"{r.breakdown} | {r.floor_statements} | {r.check} |"
        )
    out += ["", "Statements per GraphQL request by page size (`first`):", ""]
    out += ["| query | " + " | ".join(str(s) for s in PAGE_SIZES) + " |"]
    out += ["|---|" + "---:|" * len(PAGE_SIZES)]
    out += [f"| {name} | " + " | ".join(map(str, counts)) + " |" for name, counts in page_counts]
    if http:
        out += ["", f"HTTP, Q1 `first: 50` as manager01 ({http_note}):", ""]
        out += ["| server | concurrency | requests/s | p50 ms | p99 ms | errors |"]
        out += ["|---|---:|---:|---:|---:|---:|"]
        for row in http:
            r = row.result
            out.append(
                f"| {row.server} | {r.concurrency} | {r.rps:.0f} | {r.p50_ms:.2f} | "
                f"{r.p99_ms:.2f} | {r.errors} |"
            )
        by_c = {(row.server.split()[0], row.result.concurrency): row.result for row in http}
        for c in (1, 8):
            g, f = by_c.get(("gateway", c)), by_c.get(("raw-ASGI", c))
            if g and f and f.rps:
                out.append(
                    f"\nConcurrency {c}: gateway throughput = {g.rps / f.rps:.2f} x the raw-ASGI "
                    "floor's."
                )
    return "\n".join(out) + "\n"


def append_results(section: str, path: Path) -> None:
    if not path.exists():
        path.write_text("# Benchmark results\n\n## Runs\n\n")
    with path.open("a") as f:
        f.write("\n" + section)


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL (default: $DATABASE_URL, else an SQLite file under --data-dir)",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--force", action="store_true", help="regenerate the dataset")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", help="comma-separated case prefixes, e.g. Q1,Q5")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--http-seconds", type=float, default=10)
    parser.add_argument("--http-workers", type=int, default=1)
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--label", default="baseline (before optimisation)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-results", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    url = normalise_url(args.database_url or default_url(args.data_dir, args.contacts, args.users))
    shown = make_url(url).render_as_string(hide_password=True)
    prefix = f"DATABASE_URL={shown} " if "--database-url" not in argv and args.database_url else ""
    command = f"{prefix}python -m bench {shlex.join(argv)}".strip()
    path = sqlite_path(url)
    data_dir = path.parent if path else args.data_dir / "postgresql"
    data_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    ensure_dataset(url, args.contacts, args.users, args.seed, force=args.force)
    ensure_module_rows(url, args.seed)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        password_hash_profile="fast",
        # CRM_METRICS_TOKEN=… measures with Prometheus metrics on (HTTP servers inherit it)
        metrics_token=os.environ.get("CRM_METRICS_TOKEN") or None,
    )
    gateway = Gateway(
        settings=settings, db=Database(url), registry=build_registry(entry_points=False)
    )
    log = StatementLog(gateway.db.engine)
    bench = Bench(gateway, log)
    all_cases = cases(gateway.db.engine)
    if args.only:
        prefixes = tuple(p.strip() for p in args.only.split(","))
        all_cases = [c for c in all_cases if c.key.startswith(prefixes)]
    print(f"{len(all_cases)} cases x {args.runs} interleaved runs on {shown} …", flush=True)
    results = asyncio.run(bench.run(all_cases, args.runs, args.warmup))
    page_counts = asyncio.run(bench.page_size_counts(all_cases))
    floor_json = run_floor(
        gateway.db.engine, q1_case(50), lookup_viewer(gateway.db.engine, MANAGER)
    )

    http: list[HttpRow] = []
    http_note = ""
    if not args.no_http:
        if not gateway.db.is_sqlite:  # what `crm-gateway db upgrade` does before serving
            migrate.upgrade(gateway.db.engine, build_registry())
        tool = loadgen.tool_for(args.load_tool)
        http_note = (
            f"{tool}, {args.http_seconds:g} s per measurement after a 2 s warm-up, "
            f"{args.http_workers} uvicorn worker(s) each, load generator on the same machine"
        )
        print(f"HTTP: {http_note} …", flush=True)
        http = http_bench(url, data_dir, args.http_seconds, args.http_workers, tool, floor_json)
    section = report(
        label=args.label,
        command=command,
        engine=gateway.db.engine,
        contacts=args.contacts,
        users=args.users,
        runs=args.runs,
        results=results,
        page_counts=page_counts,
        http=http,
        http_note=http_note,
    )
    gateway.db.dispose()
    print()
    print(section)
    print(f"(took {time.perf_counter() - start:.0f} s)")
    if not args.no_results:
        append_results(section, args.results)
        print(f"appended to {args.results}")
