"""Built-in modules are found the way third-party plugins are: as ``crm_gateway`` entry
points, here of this project itself; the kernel does not name the ``plugins`` package."""

from __future__ import annotations

from pathlib import Path

from gateway import plugins as registration
from gateway.plugins import build_registry, builtin_plugins
from tests.conftest import BUILTIN_PLUGINS, REPO


def fake_distribution(site: Path, name: str, entry_points: str) -> None:
    dist = site / f"{name.replace('-', '_')}-9.9.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")
    (dist / "entry_points.txt").write_text(f"[crm_gateway]\n{entry_points}")


def test_the_source_checkout_declares_the_built_ins_in_order():
    assert builtin_plugins(REPO / "pyproject.toml") == BUILTIN_PLUGINS
    assert builtin_plugins() == BUILTIN_PLUGINS


def test_an_installed_gateway_reads_them_from_its_metadata(tmp_path, monkeypatch):
    fake_distribution(
        tmp_path, "crm-gateway", "leads = plugins.leads\ncontacts = plugins.contacts\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # listed by name in metadata; a module still comes after the ones it requires
    assert builtin_plugins(pyproject=None) == (
        "gateway.core.plugin",
        "plugins.contacts",
        "plugins.leads",
    )


def test_the_projects_own_entry_points_are_not_registered_twice(tmp_path, monkeypatch):
    """Installed with its entry points, the gateway still registers each built-in once."""
    fake_distribution(tmp_path, "crm-gateway", "contacts = plugins.contacts\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [origin for _ep, origin in registration._third_party_entry_points()] == []
    assert list(build_registry().plugins) == [
        "core",
        "contacts",
        "leads",
        "invoices",
        "calendar",
        "consent",
    ]


def test_the_kernel_does_not_import_the_builtin_package_by_name():
    for path in (REPO / "gateway").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import plugins" not in text and "from plugins" not in text, path
