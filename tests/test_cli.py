"""The crm-gateway command line, in-process, against the test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.conftest import REPO, TEST_PLUGINS


@pytest.fixture
def cli(gateway, monkeypatch):
    env = {
        "DATABASE_URL": gateway.settings.resolved_database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
        "CRM_PASSWORD_HASH_PROFILE": "fast",
    }
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run


def test_tenant_user_and_module_commands(cli, client_for):
    assert "database is up to date" in cli("db", "upgrade")
    assert "tenant shop created" in cli("tenant", "create", "shop", "--name", "The Shop")
    assert "already exists" in cli("tenant", "create", "shop", "--name", "Again", ok=False)
    cli(
        "user",
        "create",
        "--tenant",
        "shop",
        "--email",
        "boss@shop.test",
        "--name",
        "Boss",
        "--profile",
        "Administrator",
        "--password",
        "boss-password",
    )
    assert "no profile 'Chief'" in cli(
        "user",
        "create",
        "--tenant",
        "shop",
        "--email",
        "x@shop.test",
        "--name",
        "X",
        "--profile",
        "Chief",
        "--password",
        "long-enough",
        ok=False,
    )
    listing = cli("module", "list", "--tenant", "shop")
    assert "on   core" in listing and "on   notes" in listing and "off  audit" in listing
    assert "enabled: audit" in cli("module", "enable", "audit", "--tenant", "shop")
    out = cli("module", "disable", "notes", "--tenant", "shop", ok=False)
    assert "CONFLICT" in out and "audit" in out
    assert "disabled: audit" in cli("module", "disable", "audit", "--tenant", "shop")
    assert "disabled: notes" in cli("module", "disable", "notes", "--tenant", "shop")
    boss = client_for("boss@shop.test", "boss-password")
    assert boss("{ me { enabledModules } }").data == {
        "me": {"enabledModules": ["calendar", "consent", "contacts", "core", "invoices", "leads"]}
    }


def test_schema_export_check_passes_on_the_committed_schema(cli, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    assert "is current" in cli("schema", "export", "--check")
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")
    out = cli("schema", "export", "--check", "--output", str(stale), ok=False)
    assert "is stale" in out
    cli("schema", "export", "--output", str(stale))
    assert stale.read_text() == (REPO / "schema" / "schema.graphql").read_text()
