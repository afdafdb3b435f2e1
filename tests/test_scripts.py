"""``scripts/demo`` and ``scripts/test`` install the package only when ``pyproject.toml``
changed since the last install into that virtualenv (a stamp file in it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.engine_agnostic

FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >>"$(dirname "$0")/../calls"
"""
FAKE_SERVER = """#!/usr/bin/env bash
echo "crm-gateway $*" >>"$(dirname "$0")/../calls"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the scripts and pyproject.toml, with a virtualenv whose python and
    crm-gateway only record how they were called."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "scripts", root / "scripts")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("python", FAKE_PYTHON), ("crm-gateway", FAKE_SERVER)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return root


def _env() -> dict[str, str]:
    """The scripts' environment without ``VENV`` (CI exports its own virtualenv there; the
    scripts must use the checkout's fake one)."""
    return {k: v for k, v in os.environ.items() if k != "VENV"}


def run_demo(root: Path) -> list[str]:
    calls = root / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run(
        [str(root / "scripts" / "demo"), "--port", "9001"], check=True, timeout=60, env=_env()
    )
    return calls.read_text().splitlines()


def installs(calls: list[str]) -> list[str]:
    return [c for c in calls if c.startswith("python -m pip install --quiet -e")]


def test_demo_installs_once_then_only_when_pyproject_changes(checkout: Path):
    assert installs(run_demo(checkout)) == ["python -m pip install --quiet -e ."]
    again = run_demo(checkout)
    assert installs(again) == []
    assert again == ["crm-gateway serve --demo --port 9001"]
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a new dependency\n")
    assert installs(run_demo(checkout)) == ["python -m pip install --quiet -e ."]
    assert installs(run_demo(checkout)) == []


def test_a_failed_install_is_retried(checkout: Path):
    python = checkout / ".venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON + "exit 1\n")
    with pytest.raises(subprocess.CalledProcessError):
        run_demo(checkout)
    python.write_text(FAKE_PYTHON)
    assert installs(run_demo(checkout)) == ["python -m pip install --quiet -e ."]


def test_the_test_extras_have_their_own_stamp(checkout: Path):
    run_demo(checkout)
    calls = checkout / ".venv" / "calls"
    calls.unlink()
    subprocess.run(
        [str(checkout / "scripts" / "test"), "-k", "nothing"], check=True, timeout=60, env=_env()
    )
    assert installs(calls.read_text().splitlines()) == ["python -m pip install --quiet -e .[test]"]
