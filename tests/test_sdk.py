"""Modules import from the kernel only through its public surface, ``gateway.sdk``."""

from __future__ import annotations

import ast

import gateway.sdk
from tests.conftest import REPO


def kernel_imports(path) -> list[str]:
    """Every ``gateway…`` module ``path`` imports other than ``gateway.sdk``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = (
                [node.module]
                if node.module != "gateway"
                else [f"gateway.{alias.name}" for alias in node.names]
            )
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            n for n in names if (n == "gateway" or n.startswith("gateway.")) and n != "gateway.sdk"
        ]
    return found


def module_files():
    return sorted(
        p for p in (REPO / "plugins").rglob("*.py") if "versions" not in p.relative_to(REPO).parts
    )


def test_the_check_sees_what_it_should(tmp_path):
    assert module_files(), "no module files found"
    assert all(hasattr(gateway.sdk, name) for name in gateway.sdk.__all__)
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import gateway.db\nfrom gateway import events, sdk\n"
        "from gateway.sdk import mutate\nfrom gateway.access.fields import guarded\n"
    )
    assert kernel_imports(sample) == ["gateway.db", "gateway.events", "gateway.access.fields"]
    # the test plugins and the example are written on the kit
    written_on_the_kit = [
        *(REPO / "tests" / "plugins").rglob("*.py"),
        *(REPO / "examples").glob("*/*/__init__.py"),
    ]
    for path in written_on_the_kit:
        if "versions" not in path.parts:
            assert kernel_imports(path) == [], path


def test_modules_import_the_kernel_only_through_gateway_sdk():
    offenders = {
        str(p.relative_to(REPO)): imports for p in module_files() if (imports := kernel_imports(p))
    }
    assert offenders == {}


def service_files():
    """A module's services: ``services.py`` or a ``services/`` package (``services_*`` too)."""
    plugins = REPO / "plugins"
    return sorted(
        p
        for p in plugins.rglob("*.py")
        if any(
            part == "services" or part.startswith("services")
            for part in p.relative_to(plugins).parts[1:]
        )
    )


def test_module_services_take_the_kernel_caller_context():
    """Services run outside HTTP (jobs, imports, web forms): they take ``CallerContext``;
    only the GraphQL resolvers see ``RequestContext``."""
    files = service_files()
    assert REPO / "plugins" / "contacts" / "services.py" in files
    assert REPO / "plugins" / "invoices" / "services" / "drafts.py" in files
    assert REPO / "plugins" / "leads" / "services" / "leads.py" in files
    offenders = [
        str(p.relative_to(REPO)) for p in files if "RequestContext" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_contract_has_one_caller_context():
    import gateway.context
    import gateway.contract

    assert gateway.contract.CallerContext is gateway.context.CallerContext
    assert gateway.sdk.CallerContext is gateway.context.CallerContext
