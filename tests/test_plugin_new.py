"""``crm-gateway plugin new NAME``: the project it writes installs as a plugin the gateway
discovers and migrates, and its own tests pass (run in a subprocess with the generated
package on ``PYTHONPATH``, and its entry point declared by distribution metadata, as
``pip install -e`` would leave it — nothing is installed into the environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.conftest import REPO


def generate(tmp_path: Path, name: str = "acme_notes") -> Path:
    target = tmp_path / "crm-acme-notes"
    result = CliRunner().invoke(main, ["plugin", "new", name, "--path", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote 13 files into {target}" in result.output
    return target


def test_the_project_follows_the_module_anatomy(tmp_path: Path):
    target = generate(tmp_path)
    files = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert files == {
        "README.md",
        "pyproject.toml",
        "acme_notes/__init__.py",
        "acme_notes/api.py",
        "acme_notes/models.py",
        "acme_notes/mutations.py",
        "acme_notes/permissions.py",
        "acme_notes/queries.py",
        "acme_notes/services.py",
        "acme_notes/types.py",
        "acme_notes/versions/acme_notes_0001_items.py",
        "tests/conftest.py",
        "tests/test_acme_notes.py",
    }
    pyproject = (target / "pyproject.toml").read_text()
    assert '[project.entry-points.crm_gateway]\nacme_notes = "acme_notes"' in pyproject
    assert 'acme_notes = ["versions/*.py"]' in pyproject  # the migrations travel in the wheel
    for path in (target / "acme_notes").rglob("*.py"):
        source = path.read_text()
        assert "{{" not in source
        imported = [line for line in source.splitlines() if line.startswith(("from ", "import "))]
        kernel = [line for line in imported if "gateway" in line]
        assert all(line.startswith("from gateway.sdk import") for line in kernel), path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Acme", "is not a module name"),
        ("a", "is not a module name"),
        ("acme__notes", "is not a module name"),
        ("acme-notes", "is not a module name"),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, message: str):
    result = CliRunner().invoke(main, ["plugin", "new", name, "--path", str(tmp_path / "x")])
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "x").exists()


def test_a_folder_with_files_is_left_alone(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["plugin", "new", "acme_notes", "--path", str(tmp_path)])
    assert result.exit_code == 1 and "is not an empty folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_the_generated_code_is_lint_clean(tmp_path: Path):
    target = generate(tmp_path)
    for command in (["check"], ["format", "--check"]):
        run = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def installed(tmp_path: Path, target: Path) -> dict[str, str]:
    """An environment where the generated project is installed, as ``pip install -e`` does
    it: its folder on the path, and distribution metadata naming its entry point."""
    site = tmp_path / "site"
    dist = site / "crm_acme_notes-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: crm-acme-notes\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[crm_gateway]\nacme_notes = acme_notes\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(site), str(target)])}
    env.pop("CRM_DISCOVER_PLUGINS", None)
    env.pop("CRM_PLUGINS", None)
    return env


@pytest.mark.slow
@pytest.mark.engine_agnostic
def test_the_generated_module_is_discovered_migrated_and_its_tests_pass(tmp_path: Path):
    target = generate(tmp_path)
    env = installed(tmp_path, target)
    env.pop("DATABASE_URL", None)
    env["CRM_DATA_DIR"] = str(tmp_path / "data")

    def gateway(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    assert "database is up to date" in gateway("db", "upgrade")
    gateway("tenant", "create", "shop", "--name", "Shop")
    listed = gateway("module", "list", "--tenant", "shop")
    assert any(line.split()[:2] == ["on", "acme_notes"] for line in listed.splitlines()), listed

    # Its own tests, as its author runs them (`pytest` in the project folder).
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "5 passed" in run.stdout
