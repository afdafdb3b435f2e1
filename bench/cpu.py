"""Server and database CPU per request over HTTP, two checkouts loaded side by side.

``python -m bench.cpu --database-url URL [--before /path/to/other/checkout] [--workers 2]``

Wall-clock rates swing with the machine's load; CPU time per request does not (much). For
each server (this checkout, and optionally another one to compare, e.g. ``main``), a real
``crm-gateway serve`` process is loaded with wrk (Q1 ``first: 50`` as manager01, like
``python -m bench``), and around every run the CPU time (``utime + stime`` from
``/proc/<pid>/stat``) of the server's process tree and of the database's backends
(``pg_stat_activity``; PostgreSQL only) is read, then divided by the requests answered.
All servers are loaded at the same time (one wrk each), so whatever else the machine runs
weighs on them alike; each server's connections carry their own ``application_name``, which
tells its backends apart. Each row is the median over rounds. Only the CPU per request
compares: the scheduler does not share the CPUs evenly between two loaded servers, so their
requests/s and latencies differ even for the same code (bench/RESULTS.md, issue 19).

``--env-after KEY=VALUE`` sets an environment variable of the second server only (to A/B a
switch within one checkout: pass ``--before .`` too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from bench import load as loadgen
from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset
from bench.queries import MANAGER, Q1
from gateway.db import Database, normalise_url
from gateway.testing import LOGIN

REPO = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")
#: wrk's per-request timeout (s): a loaded machine's slow answers are counted, not errors.
REQUEST_TIMEOUT = 30.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def tree(root: int) -> list[int]:
    """``root`` and its descendants (uvicorn's workers are children of the supervisor)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    server_ms: float
    db_ms: float
    errors: int


@dataclass
class Server:
    name: str
    base: str
    pid: int
    headers: dict[str, str]
    #: The ``application_name`` of its database connections.
    application: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


def _backends(db: Database, application: str) -> list[int]:
    """The database backends of one server (its connections carry ``application_name``)."""
    if db.is_sqlite:
        return []
    with db.engine.connect() as c:
        rows = c.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
            {"a": application},
        )
        return [r[0] for r in rows]


def _with_application(url: str, name: str) -> str:
    if url.startswith("sqlite"):
        return url
    return (
        make_url(url)
        .update_query_dict({"application_name": name})
        .render_as_string(hide_password=False)
    )


def _start(
    stack: ExitStack, name: str, checkout: Path, url: str, workers: int, env: dict[str, str]
) -> Server:
    port = loadgen.free_port()
    log_dir = REPO / "bench" / ".data" / "cpu-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "DATABASE_URL": _with_application(url, f"crm_bench_cpu_{name}"),
        "CRM_DATA_DIR": str(log_dir),
        "CRM_LOG_LEVEL": "warning",
        "PYTHONPATH": str(checkout),
        **env,
    }
    argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
    argv += ["--workers", str(workers)]
    base, proc = stack.enter_context(
        loadgen.server_process(argv, full_env, checkout, log_dir / f"{port}.log", port, 300)
    )
    headers = loadgen.bearer(base, MANAGER, PASSWORD, LOGIN)
    return Server(name, base, proc.pid, headers, f"crm_bench_cpu_{name}")


def measure(
    servers: list[Server], db: Database, payload: dict[str, Any], c: int, seconds: float
) -> list[Sample]:
    """Load every server at once (same moment, same machine load), each with its own wrk."""
    pids = [tree(s.pid) for s in servers]
    backends = [_backends(db, s.application) for s in servers]
    s0 = [sum(cpu_seconds(p) for p in ps) for ps in pids]
    d0 = [sum(cpu_seconds(p) for p in bs) for bs in backends]
    with ThreadPoolExecutor(len(servers)) as pool:
        results = list(
            pool.map(
                lambda s: loadgen.load(
                    "wrk",
                    f"{s.base}/graphql",
                    payload,
                    s.headers,
                    c,
                    seconds,
                    REPO / "bench",
                    REQUEST_TIMEOUT,
                ),
                servers,
            )
        )
    samples = []
    for i, (server, result) in enumerate(zip(servers, results, strict=True)):
        s1 = sum(cpu_seconds(p) for p in pids[i])
        # backends opened during the run: all of their CPU belongs to it
        after = _backends(db, server.application)
        d1 = sum(cpu_seconds(p) for p in backends[i])
        d1 += sum(cpu_seconds(p) for p in after if p not in backends[i])
        n = max(result.requests, 1)
        samples.append(
            Sample(
                result.rps,
                result.p50_ms,
                result.p99_ms,
                1000 * (s1 - s0[i]) / n,
                1000 * (d1 - d0[i]) / n,
                result.errors,
            )
        )
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--before", type=Path, help="another checkout to compare with")
    parser.add_argument("--after", type=Path, default=REPO, help="default: this checkout")
    parser.add_argument("--env-after", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first", type=int, default=50)
    args = parser.parse_args(argv)
    url = normalise_url(
        args.database_url or default_url(DEFAULT_DATA_DIR, args.contacts, args.users)
    )
    ensure_dataset(url, args.contacts, args.users, 1)
    db = Database(url)
    payload = {"query": Q1, "variables": {"first": args.first}}
    after_env = dict(item.split("=", 1) for item in args.env_after)
    with ExitStack() as stack:
        servers = []
        if args.before is not None:
            servers.append(_start(stack, "before", args.before.resolve(), url, args.workers, {}))
        servers.append(_start(stack, "after", args.after.resolve(), url, args.workers, after_env))
        measure(servers, db, payload, args.concurrency, 3)  # warm-up: caches, pools
        for n in range(args.rounds):
            for server, sample in zip(
                servers, measure(servers, db, payload, args.concurrency, args.seconds), strict=True
            ):
                server.samples.append(sample)
            print(f"round {n + 1}/{args.rounds}, load {os.getloadavg()[0]:.1f}", flush=True)
    db.dispose()
    print(
        f"\nQ1 first:{args.first}, c={args.concurrency}, {args.workers} worker(s), "
        f"{args.seconds:.0f} s x {args.rounds} rounds, on {db.engine.url.get_backend_name()}"
    )
    if len(servers) == 2:
        ratios = [
            a.server_ms / b.server_ms
            for a, b in zip(servers[1].samples, servers[0].samples, strict=True)
        ]
        print("server CPU after/before by round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print("| server | req/s | p50 ms | p99 ms | server CPU ms/req | DB CPU ms/req | errors |")
    print("|---|---|---|---|---|---|---|")
    for s in servers:
        errors = sum(x.errors for x in s.samples)
        print(
            f"| {s.name} | {s.median('rps'):.0f} | {s.median('p50_ms'):.1f} | "
            f"{s.median('p99_ms'):.1f} | {s.median('server_ms'):.2f} | "
            f"{s.median('db_ms'):.2f} | {errors} |"
        )


if __name__ == "__main__":
    main()
