"""``crm-gateway plugin new NAME``: a partner's module project, ready to install and test.

The files under ``template/`` follow docs/modules/anatomy.md; ``{{module}}`` (the module
name), ``{{Camel}}``, ``{{camel}}``, ``{{dist}}`` and ``{{title}}`` are replaced, the
``package`` folder takes the module's name and ``.tmpl`` is dropped.
"""

from __future__ import annotations

from pathlib import Path

from gateway.contract import MODULE_NAME
from gateway.errors import BadUserInput

TEMPLATE = Path(__file__).resolve().parent / "template"


def names(module: str) -> dict[str, str]:
    """The placeholders' values for module ``module`` (``acme_notes``)."""
    words = module.split("_")
    camel = "".join(w.capitalize() for w in words)
    return {
        "module": module,
        "Camel": camel,
        "camel": camel[0].lower() + camel[1:],
        "dist": "crm-" + module.replace("_", "-"),
        "title": " ".join(words).capitalize(),
    }


def _target_name(relative: Path, module: str) -> Path:
    parts = [module if p == "package" else p for p in relative.parts]
    name = parts[-1].removesuffix(".tmpl")
    if name == "test_module.py":
        name = f"test_{module}.py"
    elif parts[-2:-1] == ["versions"]:
        name = f"{module}_{name}"
    return Path(*parts[:-1], name)


def new_plugin(module: str, target: Path) -> list[Path]:
    """Write the project of module ``module`` into ``target`` (absent or empty); the files
    written. Raises BadUserInput for an invalid name or a folder that is not empty."""
    if not MODULE_NAME.match(module) or module.endswith("_") or "__" in module:
        raise BadUserInput(
            f"{module!r} is not a module name: lower-case letters, digits and single "
            "underscores, starting with a letter, 2 to 31 characters",
            field="name",
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadUserInput(f"{target} exists and is not an empty folder", field="path")
    values = names(module)
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        path = target / _target_name(source.relative_to(TEMPLATE), module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
