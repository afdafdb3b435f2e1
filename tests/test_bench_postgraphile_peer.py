"""The PostGraphile benchmark peer answers the same rows as the gateway (issue 19).

Runs only where the peer is installed (``python -m bench.peers.postgraphile install``
downloads it from the npm registry, so CI never has it) and on PostgreSQL: the peer's
visibility is row-level security. The dataset is bench.generate's, small.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.generate import ensure_dataset
from bench.peers.postgraphile import peer
from bench.peers.postgraphile.check import check
from gateway.testing import temporary_database

SHARE_CLAUSE = "    OR id = ANY ((SELECT crm_peer_private.shared('contact'))::integer[])\n"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="the peer needs PostgreSQL"),
    pytest.mark.skipif(
        not peer.installed() or bool(os.environ.get("CI")),
        reason="PostGraphile peer not installed (python -m bench.peers.postgraphile install), or CI",
    ),
]


def test_postgraphile_pages_equal_the_gateways_and_a_broken_policy_shows(tmp_path: Path) -> None:
    with temporary_database(tmp_path, os.environ["TEST_DATABASE_URL"]) as url:
        ensure_dataset(url, 400, 22, 1, quiet=True)
        results = check(url, pages=2, first=20, log_dir=tmp_path / "logs")
        assert [r.line() for r in results if not r.equal] == []
        assert {r.caller.email for r in results} == {c.email for c in peer.CALLERS}
        assert all(r.rows > 0 and r.pages >= 1 for r in results)
        by_email = {r.caller.email: r.total for r in results}
        assert by_email["few@sparse.test"] == 33
        assert by_email["structural@bench.test"] == by_email["admin@bench.test"] == 400

        script = peer.policies_sql()
        assert SHARE_CLAUSE in script
        broken = check(
            url,
            pages=1,
            first=20,
            log_dir=tmp_path / "logs",
            policies=script.replace(SHARE_CLAUSE, ""),
        )
        different = {r.caller.email for r in broken if not r.equal}
        # (rep001's shares are also opened to it by the sharing rule in a 3-team dataset)
        assert {"manager01@bench.test", "few@sparse.test"} <= different
        assert "admin@bench.test" not in different
