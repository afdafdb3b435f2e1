"""Loading plugins and checking what they declare, once, at start-up.

The kernel names no CRM module. Built-in modules are declared the way a partner declares a
third-party one: as ``crm_gateway`` entry points (:data:`gateway.hookspecs.ENTRY_POINT_GROUP`)
of this project (``[project.entry-points.crm_gateway]`` in ``pyproject.toml``), read by
:func:`builtin_plugins`; they are registered first, in the order declared, then the entry
points of other distributions. Registration hooks are called plugin by plugin so every
contribution is attributed, and any duplicate name fails start-up with a message naming
both plugins.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pluggy
from strawberry.types.base import has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from gateway import hookspecs
from gateway.contract import (
    CONTRACT_VERSION,
    AccessControlledEntity,
    Action,
    JobKind,
    Permission,
    PermissionKind,
    PluginInfo,
    TypeField,
)
from gateway.errors import PluginError

#: The kernel's own plugin (sign-in, ``me``, modules), registered before any module.
KERNEL_PLUGINS: tuple[str, ...] = ("gateway.core.plugin",)
#: The distribution whose ``crm_gateway`` entry points are the built-in modules.
DISTRIBUTION = "crm-gateway"
#: A source checkout's project file (read before the installed metadata, which an
#: editable install may have written from an older checkout).
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def builtin_plugins(pyproject: Path | None = PYPROJECT) -> tuple[str, ...]:
    """The kernel, then the built-in modules: the ``crm_gateway`` entry points this project
    declares, in declaration order — from ``pyproject`` in a source checkout, else from the
    installed distribution's metadata."""
    declared: list[str] | None = None
    if pyproject is not None and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == DISTRIBUTION:
            group = project.get("entry-points", {}).get(hookspecs.ENTRY_POINT_GROUP, {})
            declared = list(group.values())
    if declared is None:
        try:
            dist = importlib.metadata.distribution(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            declared = []
        else:
            group_eps = dist.entry_points.select(group=hookspecs.ENTRY_POINT_GROUP)
            declared = [ep.value for ep in group_eps]
    return (*KERNEL_PLUGINS, *_requirements_first(declared))


def _requirements_first(dotted: Sequence[str]) -> list[str]:
    """``dotted`` with every module after the modules it requires, otherwise in the given
    order (an installed distribution's metadata lists entry points by name, not as
    declared). Unknown requirements and cycles are left for the registry to report."""
    requires: dict[str, tuple[str, ...]] = {}
    name_of: dict[str, str] = {}
    for path in dotted:
        info_hook = getattr(importlib.import_module(path), "crm_plugin_info", None)
        info = info_hook() if callable(info_hook) else None
        if isinstance(info, PluginInfo):
            name_of[info.name] = path
            requires[path] = tuple(info.requires)
    ordered: list[str] = []

    def place(path: str, seen: frozenset[str]) -> None:
        if path in ordered or path in seen:
            return
        for name in requires.get(path, ()):
            if name in name_of:
                place(name_of[name], seen | {path})
        ordered.append(path)

    for path in dotted:
        place(path, frozenset())
    return ordered


def _third_party_entry_points() -> Iterator[tuple[importlib.metadata.EntryPoint, str]]:
    """Every ``crm_gateway`` entry point of another distribution, with its origin label."""
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or ""
        if _canonical(name) == _canonical(DISTRIBUTION):
            continue
        for ep in dist.entry_points.select(group=hookspecs.ENTRY_POINT_GROUP):
            yield ep, f"{name} {dist.version}, entry point"


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@dataclass(frozen=True)
class LoadedPlugin:
    """A registered plugin and what it says about itself."""

    info: PluginInfo
    plugin: object
    #: Where it came from: a dotted module path or an entry point's distribution.
    origin: str

    @property
    def label(self) -> str:
        return f"'{self.info.name}' ({self.origin})"


@dataclass
class _Claims:
    """Names claimed so far in one namespace (tables, fields…), for duplicate detection."""

    what: str
    owners: dict[str, LoadedPlugin] = field(default_factory=dict)

    def claim(self, name: str, owner: LoadedPlugin) -> None:
        previous = self.owners.get(name)
        if previous is not None:
            raise PluginError(
                f"duplicate {self.what} {name!r}: declared by plugin {previous.label} "
                f"and by plugin {owner.label}"
            )
        self.owners[name] = owner


def graphql_field_name(f: StrawberryField) -> str:
    if f.graphql_name:
        return f.graphql_name
    if not f.python_name:
        raise PluginError(f"field {f!r} has no name")
    return to_camel_case(f.python_name)


def graphql_type_name(cls: type[Any]) -> str:
    if not has_object_definition(cls):
        raise PluginError(f"{cls!r} is not a Strawberry type")
    return cls.__strawberry_definition__.name


class PluginRegistry:
    """Every installed plugin and its checked contributions. One per application."""

    def __init__(self, pm: pluggy.PluginManager, origins: dict[int, str]) -> None:
        self.pm = pm
        self.plugins: dict[str, LoadedPlugin] = {}
        self._by_object: dict[int, LoadedPlugin] = {}
        for name, plugin in pm.list_name_plugin():  # registration order
            if plugin is not None:
                self._load_identity(plugin, origins.get(id(plugin)) or name)
        self._check_dependencies()

        self.tables: dict[str, LoadedPlugin] = {}
        self.models: list[type[Any]] = []
        self.permissions: dict[str, Permission] = {}
        self.permission_owner: dict[str, LoadedPlugin] = {}
        self.entities: dict[str, AccessControlledEntity] = {}
        #: Importers by entity key (``crm_importers``).
        self.importers: dict[str, Any] = {}
        self.entity_module: dict[str, str] = {}
        self.entity_of_model: dict[type[Any], AccessControlledEntity] = {}
        #: An assignment model (``AssignmentGrant.model``) → the entity it grants access to.
        self.entity_of_assignment: dict[type[Any], AccessControlledEntity] = {}
        self.entity_of_type: dict[str, AccessControlledEntity] = {}
        self.types: dict[str, tuple[type[Any], LoadedPlugin]] = {}
        self.query_fields: dict[str, tuple[StrawberryField, LoadedPlugin]] = {}
        self.mutation_fields: dict[str, tuple[StrawberryField, LoadedPlugin]] = {}
        #: Fields modules add to other modules' types (``crm_type_fields``): type name →
        #: field name → (field, owner).
        self.type_fields: dict[str, dict[str, tuple[StrawberryField, LoadedPlugin]]] = {}
        #: Background job kinds by name, with the module that owns each.
        self.job_kinds: dict[str, JobKind] = {}
        self.job_kind_module: dict[str, str] = {}
        self._collect()
        self._relays: dict[frozenset[str], HookRelay] = {}

    # -- identity ------------------------------------------------------------------------

    def _load_identity(self, plugin: object, origin: str) -> None:
        impls = [i for i in self.pm.hook.crm_plugin_info.get_hookimpls() if i.plugin is plugin]
        if not impls:
            raise PluginError(f"plugin {origin} does not implement crm_plugin_info")
        info = impls[0].function()
        if not isinstance(info, PluginInfo):
            raise PluginError(f"plugin {origin}: crm_plugin_info must return a PluginInfo")
        loaded = LoadedPlugin(info=info, plugin=plugin, origin=origin)
        if CONTRACT_VERSION not in info.contract_versions:
            raise PluginError(
                f"plugin {loaded.label} supports contract versions {info.contract_versions}, "
                f"this gateway speaks version {CONTRACT_VERSION}"
            )
        if info.name in self.plugins:
            _Claims("module name", {info.name: self.plugins[info.name]}).claim(info.name, loaded)
        self.plugins[info.name] = loaded
        self._by_object[id(plugin)] = loaded

    def _check_dependencies(self) -> None:
        for loaded in self.plugins.values():
            for required in loaded.info.requires:
                if required not in self.plugins:
                    raise PluginError(
                        f"plugin {loaded.label} requires module {required!r}, "
                        "which is not installed"
                    )
        for name in self.plugins:
            self.requirement_closure(name)  # raises on cycles

    def requirement_closure(self, name: str, _path: tuple[str, ...] = ()) -> list[str]:
        """``name``'s direct and indirect requirements (not including itself)."""
        if name in _path:
            raise PluginError(f"module dependency cycle: {' -> '.join((*_path, name))}")
        result: list[str] = []
        for required in self.plugins[name].info.requires:
            for dep in [*self.requirement_closure(required, (*_path, name)), required]:
                if dep not in result:
                    result.append(dep)
        return result

    @cached_property
    def dependency_order(self) -> tuple[str, ...]:
        """Every module after the modules it requires (otherwise in registration order)."""
        order: list[str] = []
        for name in self.plugins:
            for dep in [*self.requirement_closure(name), name]:
                if dep not in order:
                    order.append(dep)
        return tuple(order)

    def dependents(self, name: str, among: Iterable[str]) -> list[str]:
        """The modules in ``among`` that need ``name``, directly or indirectly."""
        return [m for m in among if m != name and name in self.requirement_closure(m)]

    # -- contributions --------------------------------------------------------------------

    def _per_plugin(self, hook_name: str) -> Iterable[tuple[LoadedPlugin, Any]]:
        """Call a registration hook plugin by plugin, so results stay attributed."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order
            result = impl.function()
            if result is not None:
                yield self._by_object[id(impl.plugin)], result

    def _collect(self) -> None:
        tables = _Claims("table")
        for owner, models in self._per_plugin("crm_models"):
            for model in models:
                table = model.__table__
                tables.claim(table.name, owner)
                self.models.append(model)
        self.tables = tables.owners

        permissions = _Claims("permission")
        for owner, perms in self._per_plugin("crm_permissions"):
            for perm in perms:
                if not perm.code.startswith(owner.info.name + "."):
                    raise PluginError(
                        f"permission {perm.code!r} of plugin {owner.label} must start with "
                        f"'{owner.info.name}.'"
                    )
                permissions.claim(perm.code, owner)
                self.permissions[perm.code] = perm

        entities = _Claims("access-controlled entity")
        for owner, declared in self._per_plugin("crm_access_controlled"):
            for entity in declared:
                for attr in ("id", "tenant_id", entity.owner_attribute, entity.access_attribute):
                    if not hasattr(entity.model, attr):
                        raise PluginError(
                            f"entity {entity.entity!r} of plugin {owner.label}: model "
                            f"{entity.model.__name__} has no attribute {attr!r}"
                        )
                grant = entity.assignments
                needed = (grant.record_attribute, grant.user_attribute) if grant else ()
                for attr in ("tenant_id", *needed) if grant else ():
                    if not hasattr(grant.model, attr):
                        raise PluginError(
                            f"entity {entity.entity!r} of plugin {owner.label}: assignment "
                            f"model {grant.model.__name__} has no attribute {attr!r}"
                        )
                entities.claim(entity.entity, owner)
                self.entities[entity.entity] = entity
                self.entity_module[entity.entity] = owner.info.name
                for action in Action:
                    code = f"{owner.info.name}.{entity.entity}.{action.value}"
                    permissions.claim(code, owner)
                    self.permissions[code] = Permission(
                        code,
                        f"{action.value.capitalize()} {entity.entity} records",
                        kind=PermissionKind.MODULE,
                        entity=entity.entity,
                        action=action,
                    )
        self.permission_owner = permissions.owners
        importers = _Claims("importer")
        for owner, declared in self._per_plugin("crm_importers"):
            for importer in declared:
                if self.entity_module.get(importer.entity) != owner.info.name:
                    raise PluginError(
                        f"importer of plugin {owner.label}: {importer.entity!r} is not one of "
                        "its access-controlled entities"
                    )
                importers.claim(importer.entity, owner)
                self.importers[importer.entity] = importer
        self.entity_of_model = {e.model: e for e in self.entities.values()}
        self.entity_of_assignment = {
            e.assignments.model: e for e in self.entities.values() if e.assignments is not None
        }
        self.entity_of_type = {e.graphql_type: e for e in self.entities.values() if e.graphql_type}

        types = _Claims("GraphQL type")
        for owner, declared in self._per_plugin("crm_graphql_types"):
            for cls in declared:
                name = graphql_type_name(cls)
                types.claim(name, owner)
                self.types[name] = (cls, owner)

        kinds = _Claims("job kind")
        for owner, declared in self._per_plugin("crm_job_kinds"):
            for kind in declared:
                if not isinstance(kind, JobKind) or not kind.name.startswith(owner.info.name + "."):
                    raise PluginError(
                        f"job kind {getattr(kind, 'name', kind)!r} of plugin {owner.label} must "
                        f"be a JobKind whose name starts with '{owner.info.name}.'"
                    )
                if kind.permission is not None and kind.permission not in self.permissions:
                    raise PluginError(
                        f"job kind {kind.name!r} of plugin {owner.label} needs the unknown "
                        f"permission {kind.permission!r}"
                    )
                kinds.claim(kind.name, owner)
                self.job_kinds[kind.name] = kind
                self.job_kind_module[kind.name] = owner.info.name

        self.query_fields = self._collect_fields("crm_query_fields", "Query field")
        self.mutation_fields = self._collect_fields("crm_mutation_fields", "Mutation field")
        self._collect_type_fields()

    def _collect_type_fields(self) -> None:
        claims = _Claims("type field")
        for owner, declared in self._per_plugin("crm_type_fields"):
            for extension in declared:
                if not isinstance(extension, TypeField) or not isinstance(
                    extension.field, StrawberryField
                ):
                    raise PluginError(
                        f"crm_type_fields of plugin {owner.label} returned {extension!r}: "
                        "give TypeField(type_name, a @strawberry.field)"
                    )
                name = graphql_field_name(extension.field)
                claims.claim(f"{extension.type_name}.{name}", owner)
                self.type_fields.setdefault(extension.type_name, {})[name] = (
                    extension.field,
                    owner,
                )

    def _collect_fields(
        self, hook_name: str, what: str
    ) -> dict[str, tuple[StrawberryField, LoadedPlugin]]:
        claims = _Claims(what)
        fields: dict[str, tuple[StrawberryField, LoadedPlugin]] = {}
        for owner, declared in self._per_plugin(hook_name):
            for f in declared:
                if not isinstance(f, StrawberryField):
                    raise PluginError(f"{hook_name} of plugin {owner.label} returned {f!r}")
                name = graphql_field_name(f)
                claims.claim(name, owner)
                fields[name] = (f, owner)
        return fields

    # -- per tenant -----------------------------------------------------------------------

    @cached_property
    def optional_modules(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.plugins.items() if p.info.optional)

    @cached_property
    def always_on(self) -> frozenset[str]:
        return frozenset(n for n, p in self.plugins.items() if not p.info.optional)

    def hooks_for(self, enabled: frozenset[str]) -> HookRelay:
        """Hook callers that skip the plugins a tenant has not enabled (cached per set)."""
        relay = self._relays.get(enabled)
        if relay is None:
            disabled = [p.plugin for n, p in self.plugins.items() if n not in enabled]
            relay = self._relays[enabled] = HookRelay(self, disabled)
        return relay

    def permission_for(self, entity: str, action: Action) -> str:
        """The module permission code for ``action`` on ``entity``."""
        return f"{self.entity_module[entity]}.{entity}.{action.value}"

    @cached_property
    def tenant_models(self) -> tuple[type[Any], ...]:
        """Every model with a ``tenant_id`` column: filtered to the caller's tenant."""
        return tuple(m for m in self.models if "tenant_id" in m.__table__.columns)

    def by_object(self, plugin: object) -> LoadedPlugin:
        return self._by_object[id(plugin)]

    def module_of_field(self, root: str, name: str) -> str | None:
        table = self.query_fields if root == "Query" else self.mutation_fields
        entry = table.get(name)
        return entry[1].info.name if entry else None


class HookRelay:
    """``relay.crm_xxx(...)`` calls the hook on a fixed subset of plugins (a tenant's)."""

    def __init__(self, registry: PluginRegistry, disabled: Sequence[object]) -> None:
        self._registry = registry
        self._pm = registry.pm
        self._disabled = disabled
        self._callers: dict[str, Callable[..., Any]] = {}

    def call_attributed(
        self,
        name: str,
        *,
        only_modules: Collection[str] | None = None,
        dependency_order: bool = False,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """Call hook ``name`` plugin by plugin; return ``(module name, result)`` pairs.

        For hooks whose answers must say who gave them (vetoes name the vetoing module).
        ``only_modules`` restricts the call to those modules (e.g. the dashboard figures a
        frontend asked for). ``dependency_order`` calls each module after the modules it
        requires (otherwise registration order), for implementations that build on their
        requirements' results, such as demo data.
        """
        impls = [
            (self._registry.by_object(impl.plugin).info.name, impl)
            for impl in getattr(self, name).get_hookimpls()  # registration order
        ]
        if dependency_order:
            rank = {module: i for i, module in enumerate(self._registry.dependency_order)}
            impls.sort(key=lambda pair: rank[pair[0]])
        return [
            (module, impl.function(*[kwargs[arg] for arg in impl.argnames]))
            for module, impl in impls
            if only_modules is None or module in only_modules
        ]

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if not name.startswith("crm_"):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            caller = self._pm.subset_hook_caller(name, remove_plugins=self._disabled)
            self._callers[name] = caller
        return caller


def build_registry(
    extra_plugins: Sequence[object] = (),
    *,
    builtin: Sequence[str] | None = None,
    entry_points: bool = True,
) -> PluginRegistry:
    """Register built-in, extra (tests, embedding) and third-party entry-point plugins;
    check them all. ``builtin`` defaults to :func:`builtin_plugins`; ``entry_points=False``
    leaves out every other distribution's plugins (the published schema, tests)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    origins: dict[int, str] = {}
    for dotted in builtin_plugins() if builtin is None else builtin:
        module = importlib.import_module(dotted)
        pm.register(module, name=dotted)
        origins[id(module)] = dotted
    for plugin in extra_plugins:
        name = getattr(plugin, "__name__", None) or repr(plugin)
        pm.register(plugin, name=name)
        origins[id(plugin)] = name
    if entry_points:
        for ep, origin in _third_party_entry_points():
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            plugin = ep.load()
            if pm.is_registered(plugin):
                continue
            pm.register(plugin, name=ep.name)
            origins[id(plugin)] = origin
    # Modules' own hookspecs (crm_add_hookspecs), before any implementation is checked.
    for impl in pm.hook.crm_add_hookspecs.get_hookimpls():
        # pluggy types an implementation's result as object; this hook's are namespaces.
        namespaces = cast("Sequence[ModuleType | type] | None", impl.function())
        for namespace in namespaces or ():
            pm.add_hookspecs(namespace)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"unknown hook implemented by plugin {exc.plugin!r}: {exc}") from exc
    return PluginRegistry(pm, origins)
