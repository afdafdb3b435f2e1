"""Where one worker's CPU goes under load: ``python -m bench.pyspy [--database-url URL]``.

Starts ``crm-gateway serve --workers 1`` on the benchmark database, signs in as manager01,
loads Q1 (``first: 50``) with wrk at concurrency 8 while py-spy samples the worker (only
samples that hold the GIL: CPU, not waits), and prints the share of samples under the parts
of a request (inclusive) and by package (self). py-spy is not a dependency: install it
anywhere (``pip install py-spy``) and pass ``--py-spy PATH`` if it is not on ``PATH``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import load as loadgen
from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset
from bench.queries import MANAGER, Q1
from gateway.testing import LOGIN

REPO = Path(__file__).resolve().parent.parent

#: Parts of a request, found by a frame in the sample's stack (inclusive shares).
PARTS = {
    "Strawberry execute_sync (the operation)": "execute_sync (",
    "list resolver (shaped_page)": "shaped_page (",
    "  its statement (plain_rows)": "plain_rows (",
    "  shaping rows (_shape)": "_shape (gateway/shaping/page.py",
    "sign-in (authenticate)": "authenticate (",
    "event loop: uvicorn protocol and the ASGI app": "httptools_impl.py",
    "response encoding (json_response)": "json_response (",
}


#: A frame's package: the first path component after site-packages or the repository.
_PACKAGE = re.compile(r"\((?:[^)]*?/site-packages/|" + re.escape(str(REPO)) + r"/)?([^/ )]+)")


def summarise(collapsed: Path) -> str:
    """The two tables from py-spy's ``raw`` (collapsed stacks) output."""
    total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for label, frame in PARTS.items():
            if frame in stack:
                inclusive[label] += n
        leaf = stack.rsplit(";", 1)[-1]
        found = re.search(
            r"\((?:[^)]*?/site-packages/|" + re.escape(str(REPO)) + r"/)?([^/ )]+)", leaf
        )
        own[found.group(1) if found else leaf[:40]] += n
    lines = [f"{total} samples holding the GIL", "", "| inclusive | part |", "|---:|---|"]
    lines += [f"| {100 * inclusive[k] / total:.1f}% | {k} |" for k in PARTS]
    lines += ["", "| self | package or file |", "|---:|---|"]
    lines += [f"| {100 * n / total:.1f}% | {k} |" for k, n in own.most_common(12)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pyspy", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(DEFAULT_DATA_DIR, args.contacts, args.users)
    ensure_dataset(url, args.contacts, args.users, 1)
    port = loadgen.free_port()
    env = {**os.environ, "DATABASE_URL": url, "CRM_LOG_LEVEL": "warning"}
    argv_ = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log = work / "serve.log"
        with loadgen.server_process(argv_, env, REPO, log, port, 120) as (base, proc):
            headers = loadgen.bearer(base, MANAGER, PASSWORD, LOGIN)
            pid = str(proc.pid)  # one worker: uvicorn serves in this process
            out = work / "stacks.txt"
            spy = subprocess.Popen(
                [
                    *(args.py_spy, "record", "--gil", "-r", "200", "-d", str(int(args.seconds))),
                    *("-f", "raw", "-o", str(out), "-p", pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            payload = {"query": Q1, "variables": {"first": args.first}}
            result = loadgen.load(
                "wrk", f"{base}/graphql", payload, headers, args.concurrency, args.seconds, work
            )
            spy.wait()
        print(f"Q1 first:{args.first}, c={args.concurrency}: {result.rps:.0f} req/s")
        print(summarise(out))


if __name__ == "__main__":
    main()
