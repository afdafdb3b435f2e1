"""The README's "A first query" works as pasted: its ``sh`` blocks, run with bash against a
real ``crm-gateway serve --demo`` (what ``./scripts/demo`` starts) on a fresh data folder,
answer what its table of demo users says each one sees."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.servers import serve

pytestmark = [pytest.mark.slow, pytest.mark.engine_agnostic]

SEPARATOR = "@@ next block @@"


def first_query_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## A first query\n")
    return text[start : text.index("\n## ", start + 1)]


def shell_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", first_query_section(), re.MULTILINE | re.DOTALL)


def expectations() -> dict[str, tuple[str, list[str]]]:
    """``$EMAIL`` → (profile, contact names) from the README's table."""
    rows = re.findall(
        r"^\| `([^`]+)` \| ([^|]+?) \| (\d+): ([^|]+?) \|$", first_query_section(), re.MULTILINE
    )
    found = {}
    for email, profile, count, names in rows:
        listed = [n.strip() for n in names.split(",")]
        assert len(listed) == int(count), email
        found[email] = (profile.split(" (")[0], listed)
    return found


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``crm-gateway serve --demo`` as ``./scripts/demo`` runs it, on a free port."""
    with serve(tmp_path_factory.mktemp("readme"), "--demo", probe="/readyz") as (base, _):
        yield base


def run_blocks(base: str, email: str) -> list[str]:
    """The blocks pasted one after the other into one shell; each block's output."""
    script = f"\necho '{SEPARATOR}'\n".join(shell_blocks())
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run(
        [bash, "-euo", "pipefail", "-c", script],
        env={**os.environ, "GATEWAY": base, "EMAIL": email},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split(SEPARATOR + "\n")


def test_the_readme_has_the_sequence_and_every_demo_user():
    assert len(shell_blocks()) == 3
    assert {"rep1@demo.test", "rep2@demo.test", "admin@acme.test"} <= set(expectations())


@pytest.mark.parametrize("email", sorted(expectations()))
def test_the_pasted_sequence_answers_what_the_readme_says(demo_server, email):
    profile, names = expectations()[email]
    signed_in, me, contacts = run_blocks(demo_server, email)
    assert signed_in == ""  # the token went into $TOKEN
    who = json.loads(me)["data"]["me"]
    assert who["user"]["email"] == email
    assert who["profile"]["name"] == profile
    listed = json.loads(contacts)["data"]["contacts"]
    assert listed["totalCount"] == len(names)
    assert [e["node"]["displayName"] for e in listed["edges"]] == names
