"""The suite is isolated from the plugins installed in its environment: a partner's plugin
named like a test plugin (``notes``), with a table the test database lacks, and the example
plugin, both installed (distribution metadata with their entry points on ``sys.path``)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.app import Gateway
from tests.conftest import REPO
from tests.test_plugins import EXAMPLE, install_example_plugin

PARTNER = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.sdk import Base, PluginInfo, hookimpl


class PartnerNote(Base):
    __tablename__ = "partner_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    text: Mapped[str] = mapped_column(String(200))


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(name="notes", title="Partner notes", version="1.0")


@hookimpl
def crm_models() -> list:
    return [PartnerNote]
"""


def install_partner_plugin(site: Path) -> None:
    """A partner's module ``notes`` (package ``partner_notes``), as pip leaves it."""
    (site / "partner_notes").mkdir()
    (site / "partner_notes" / "__init__.py").write_text(PARTNER)
    dist = site / "partner_notes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: partner-notes\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[crm_gateway]\nnotes = partner_notes\n")


def test_crm_discover_plugins_0_leaves_installed_plugins_out(site_packages, settings):
    install_partner_plugin(site_packages)
    discovered = Gateway.create(settings).registry
    assert discovered.plugins["notes"].origin == "partner-notes 1.0, entry point"
    assert "partner_notes" in discovered.tables
    alone = Gateway.create(replace(settings, discover_plugins=False)).registry
    assert "notes" not in alone.plugins and "partner_notes" not in alone.tables


def test_the_suites_registry_ignores_tables_of_imported_plugins(site_packages, registry):
    """Importing a plugin maps its models on the shared metadata; what the suite empties
    between tests and compares with its migrations is its registry's tables only."""
    install_partner_plugin(site_packages)
    import partner_notes  # noqa: F401

    from gateway.db import Base

    assert "partner_notes" in Base.metadata.tables
    assert "partner_notes" not in {t.name for t in registry.sorted_tables}


@pytest.mark.slow
@pytest.mark.engine_agnostic
def test_suite_passes_with_a_partner_plugin_and_the_example_installed(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    install_partner_plugin(site)
    install_example_plugin(site)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(site), str(EXAMPLE)]),
    }
    env.pop("CRM_DISCOVER_PLUGINS", None)  # as a developer's shell would have it
    # Tests that build registries, empty the database, run the CLI and compare migrations.
    chosen = [
        "tests/test_storage.py",
        "tests/test_cli.py",
        "tests/test_plugins.py",
        "tests/test_builtin_registration.py",
        "tests/test_modules.py",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *chosen],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "error" not in run.stdout.splitlines()[-1]
