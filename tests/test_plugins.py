"""The plugin contract at start-up: discovery, identity, dependencies, duplicate names."""

from __future__ import annotations

from pathlib import Path

import pytest
import strawberry

from gateway.contract import AccessControlledEntity, AssignmentGrant, Permission, PluginInfo
from gateway.errors import PluginError
from gateway.graphql.schema_factory import SchemaFactory
from gateway.hookspecs import hookimpl
from gateway.plugins import build_registry
from gateway.tenancy.models import Tenant
from tests.conftest import BUILTIN_PLUGINS, REPO, TEST_PLUGINS

EXAMPLE = REPO / "examples" / "crm-hello-plugin"


def install_example_plugin(site: Path) -> None:
    """What ``pip install examples/crm-hello-plugin`` leaves behind, minus the copy of the
    code: distribution metadata declaring the ``crm_gateway`` entry point."""
    dist = site / "crm_hello_plugin-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-hello-plugin\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text("[crm_gateway]\nhello = crm_hello\n")


def test_example_plugin_is_discovered_through_its_entry_point(site_packages, monkeypatch, settings):
    assert "hello" not in build_registry().plugins
    install_example_plugin(site_packages)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    registry = build_registry()
    loaded = registry.plugins["hello"]
    assert loaded.origin == "crm-hello-plugin 0.1.0, entry point"
    assert "hello.greet" in registry.permissions
    schema = SchemaFactory(registry, settings).for_modules(frozenset({"core", "hello"}))
    assert 'hello(name: String! = "world"): String!' in str(schema)
    # Built-in modules come first, third-party ones after them.
    assert next(iter(registry.plugins)) == "core"


def plugin(name: str, **hooks):
    """A plugin object named ``name`` implementing the given hooks."""

    class Plugin:
        __name__ = f"plugin_{name}"

    obj = Plugin()
    hooks.setdefault("crm_plugin_info", lambda: PluginInfo(name=name, title=name, version="1"))
    for hook_name, fn in hooks.items():
        setattr(obj, hook_name, hookimpl(fn))
    obj.__name__ = f"plugin_{name}"
    return obj


def registry_with(*plugins):
    return build_registry(plugins, builtin=(*BUILTIN_PLUGINS, *TEST_PLUGINS), entry_points=False)


@strawberry.field
def notes() -> list[str]:
    return []


@strawberry.type(name="Note")
class OtherNote:
    text: str


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"crm_models": lambda: [Tenant]}, "duplicate table 'tenants'"),
        ({"crm_query_fields": lambda: [notes]}, "duplicate Query field 'notes'"),
        ({"crm_graphql_types": lambda: [OtherNote]}, "duplicate GraphQL type 'Note'"),
    ],
)
def test_duplicate_names_fail_start_up_naming_both_plugins(hooks, message):
    with pytest.raises(PluginError) as err:
        registry_with(plugin("rival", **hooks))
    assert message in str(err.value)
    assert "'rival' (plugin_rival)" in str(err.value)
    assert "'core'" in str(err.value) or "'notes'" in str(err.value)


def test_duplicate_permission_and_entity_fail_start_up():
    first = plugin("alpha", crm_permissions=lambda: [Permission("alpha.x", "x")])
    with pytest.raises(PluginError, match=r"must start with 'beta\.'"):
        registry_with(first, plugin("beta", crm_permissions=lambda: [Permission("alpha.x", "x")]))
    from tests.plugins.notes.models import Note

    with pytest.raises(
        PluginError, match=r"duplicate access-controlled entity 'note'.*'notes'.*'gamma'"
    ):
        registry_with(
            plugin(
                "gamma",
                crm_access_controlled=lambda: [AccessControlledEntity(entity="note", model=Note)],
            )
        )


def test_an_assignment_grant_names_real_columns():
    from tests.plugins.notes.models import Note, NoteAssignment

    grant = AssignmentGrant(NoteAssignment, "record_id")  # the column is note_id
    with pytest.raises(
        PluginError, match=r"assignment model NoteAssignment has no attribute 'record_id'"
    ):
        registry_with(
            plugin(
                "delta",
                crm_access_controlled=lambda: [
                    AccessControlledEntity(entity="memo", model=Note, assignments=grant)
                ],
            )
        )


def test_duplicate_module_name_fails_start_up():
    with pytest.raises(PluginError, match="duplicate module name 'notes'"):
        registry_with(plugin("notes"))


def test_missing_requirement_and_cycles_fail_start_up():
    needy = plugin(
        "needy",
        crm_plugin_info=lambda: PluginInfo(
            name="needy", title="n", version="1", requires=("ghost",)
        ),
    )
    with pytest.raises(PluginError, match="requires module 'ghost'"):
        registry_with(needy)
    a = plugin(
        "aa",
        crm_plugin_info=lambda: PluginInfo(name="aa", title="a", version="1", requires=("bb",)),
    )
    b = plugin(
        "bb",
        crm_plugin_info=lambda: PluginInfo(name="bb", title="b", version="1", requires=("aa",)),
    )
    with pytest.raises(PluginError, match="cycle"):
        registry_with(a, b)


def test_misspelt_hook_fails_loudly():
    class Typo:
        __name__ = "typo"

        @hookimpl
        def crm_plugin_info(self):
            return PluginInfo(name="typo", title="t", version="1")

        @hookimpl
        def crm_query_feilds(self):
            return []

    with pytest.raises(PluginError, match="crm_query_feilds"):
        registry_with(Typo())


def test_plugin_without_identity_or_bad_field_fails():
    class Anonymous:
        __name__ = "anonymous"

        @hookimpl
        def crm_models(self):
            return []

    with pytest.raises(PluginError, match="does not implement crm_plugin_info"):
        registry_with(Anonymous())
    with pytest.raises(PluginError, match="returned"):
        registry_with(plugin("bad", crm_query_fields=lambda: ["not a field"]))


def test_incompatible_contract_version_fails():
    old = plugin(
        "old",
        crm_plugin_info=lambda: PluginInfo(
            name="old", title="o", version="1", contract_versions=(0,)
        ),
    )
    with pytest.raises(PluginError, match="contract versions"):
        registry_with(old)
