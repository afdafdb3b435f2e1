"""Every hookspec is documented (docstring and docs/plugins.md) and has its own test."""

from __future__ import annotations

import inspect
import types
from pathlib import Path

import pluggy

from gateway import hookspecs
from tests.conftest import REPO


def hookspec_functions(module: types.ModuleType) -> dict[str, types.FunctionType]:
    marker = f"{hookspecs.PROJECT}_spec"
    return {
        name: fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and hasattr(fn, marker)
    }


def contract_problems(module: types.ModuleType, docs: str, tests_dir: Path) -> list[str]:
    """What is missing for each hookspec: docstring sections, a docs entry, a test."""
    test_sources = "\n".join(p.read_text() for p in tests_dir.rglob("test_*.py"))
    problems = []
    for name, fn in hookspec_functions(module).items():
        doc = inspect.getdoc(fn) or ""
        if len(doc) < 40:
            problems.append(f"{name}: no docstring")
        for param in inspect.signature(fn).parameters:
            if f":param {param}:" not in doc:
                problems.append(f"{name}: parameter {param!r} undocumented")
        returns = inspect.signature(fn).return_annotation
        if returns not in ("None", None, inspect.Signature.empty) and ":returns:" not in doc:
            problems.append(f"{name}: return value undocumented")
        if f"`{name}`" not in docs:
            problems.append(f"{name}: not described in docs/plugins.md")
        if f"def test_hook_{name}(" not in test_sources:
            problems.append(f"{name}: no test named test_hook_{name}")
    return problems


def test_every_hookspec_is_documented_and_tested():
    docs = (REPO / "docs" / "plugins.md").read_text()
    assert len(hookspec_functions(hookspecs)) >= 10
    assert contract_problems(hookspecs, docs, REPO / "tests") == []


def test_every_hookspec_a_module_declares_is_documented_and_tested(registry):
    declared = 0
    for impl in registry.pm.hook.crm_add_hookspecs.get_hookimpls():
        module = registry.by_object(impl.plugin).info.name
        page = REPO / "docs" / "modules" / f"{module}.md"
        docs = page.read_text() if page.exists() else ""
        for namespace in impl.function():
            declared += len(hookspec_functions(namespace))
            assert contract_problems(namespace, docs, REPO / "tests") == [], module
            kernel = set(hookspec_functions(hookspecs))
            assert not kernel & set(hookspec_functions(namespace)), "a module redefines a hook"
    assert declared >= 1  # contacts declares crm_web_form_submission


def test_hook_crm_add_hookspecs(registry):
    """A module's hookspecs are registered: calling one reaches the implementations of the
    modules built on it, and the hook is unknown to a registry without that module."""
    from gateway.plugins import build_registry

    assert registry.pm.hook.crm_web_form_submission.spec is not None
    callers = {
        registry.by_object(i.plugin).info.name
        for i in registry.pm.hook.crm_web_form_submission.get_hookimpls()
    }
    assert callers == {"leads"}
    bare = build_registry(builtin=("tests.plugins.notes",), entry_points=False)
    assert not hasattr(bare.pm.hook, "crm_web_form_submission")


def test_the_check_catches_an_undocumented_untested_hookspec(tmp_path):
    fake = types.ModuleType("fake_hookspecs")
    spec = pluggy.HookspecMarker(hookspecs.PROJECT)

    @spec
    def crm_new_thing(context) -> list:
        pass

    fake.crm_new_thing = crm_new_thing
    problems = contract_problems(fake, docs="", tests_dir=tmp_path)
    assert problems == [
        "crm_new_thing: no docstring",
        "crm_new_thing: parameter 'context' undocumented",
        "crm_new_thing: return value undocumented",
        "crm_new_thing: not described in docs/plugins.md",
        "crm_new_thing: no test named test_hook_crm_new_thing",
    ]
