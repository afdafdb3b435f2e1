"""A plugin whose migrations are missing (a wheel built without ``versions/``, an empty
folder, none declared for its models) stops ``db upgrade``, ``serve``, ``worker`` and the
app factory with a message naming it, instead of serving "Unexpected error" on every call."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway import migrate
from gateway.app import create_app
from gateway.cli import main
from gateway.errors import PluginError
from gateway.testing import temporary_database

PLUGIN = """
from pathlib import Path

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.sdk import Base, PluginInfo, hookimpl


class Item(Base):
    __tablename__ = "{name}_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    text: Mapped[str] = mapped_column(String(200))


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(name="{name}", title="{name}", version="1.0", migrations={migrations})


@hookimpl
def crm_models() -> list:
    return [Item]
"""


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with temporary_database(tmp_path, os.environ.get("TEST_DATABASE_URL")) as url:
        yield url


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], str]:
    """``broken_plugin(name, how)`` writes module ``<name>_plugin`` whose migrations are
    ``missing`` (declared folder absent), ``empty`` (no revision) or ``undeclared``."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, how: str) -> str:
        module = f"{name}_plugin"
        package = tmp_path / module
        package.mkdir()
        migrations = {
            "missing": 'Path(__file__).parent / "versions"',
            "empty": 'Path(__file__).parent / "versions"',
            "undeclared": "None",
        }[how]
        if how == "empty":
            (package / "versions").mkdir()
            (package / "versions" / "__init__.py").write_text("")
        (package / "__init__.py").write_text(PLUGIN.format(name=name, migrations=migrations))
        return module

    return write


def cli(database: str, module: str, *args: str) -> tuple[int, str]:
    env = {
        "DATABASE_URL": database,
        "CRM_PLUGINS": module,
        "CRM_DISCOVER_PLUGINS": "0",
        "CRM_JOBS_IN_PROCESS": "0",
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("how", "message"),
    [("missing", "which does not exist"), ("empty", "which holds no revision")],
)
def test_a_missing_migrations_folder_stops_upgrade_and_serve(database, broken_plugin, how, message):
    module = broken_plugin(f"lost{how}", how)
    for command in (["db", "upgrade"], ["serve", "--port", "1"], ["worker"]):
        code, output = cli(database, module, *command)
        assert code == 1, output
        assert f"plugin 'lost{how}' ({module})" in output and message in output
        assert "Traceback" not in output


def test_tables_absent_after_upgrade_stop_it_naming_the_plugin(database, broken_plugin):
    module = broken_plugin("nomig", "undeclared")
    code, output = cli(database, module, "db", "upgrade")
    assert code == 1
    assert "plugin 'nomig' (nomig_plugin) lacks the tables ['nomig_items']" in output
    # The other modules' migrations were applied; the refusal stands at every start.
    code, output = cli(database, module, "worker")
    assert code == 1 and "lacks the tables ['nomig_items']" in output


def test_the_app_factory_refuses_too(database, broken_plugin, monkeypatch, tmp_path):
    """``uvicorn --factory gateway.app:create_app`` (each worker process)."""
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_PLUGINS", "")
    with pytest.raises(migrate.MigrationsPending, match="crm-gateway db upgrade"):
        create_app()
    monkeypatch.setenv("CRM_PLUGINS", broken_plugin("lostapp", "missing"))
    with pytest.raises(PluginError, match=r"plugin 'lostapp' .* does not exist"):
        create_app()
