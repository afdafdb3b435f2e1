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
