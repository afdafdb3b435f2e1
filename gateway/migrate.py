"""Alembic, driven from code: one version branch per plugin, all upgraded to their heads.

Each plugin's ``PluginInfo.migrations`` folder joins ``version_locations``; its first
revision carries ``branch_labels=(<plugin name>,)`` and ``depends_on`` the revision id that
creates the tables it references (``"core_0001"`` for ``tenants`` and ``users``).
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from gateway.errors import PluginError
from gateway.plugins import PluginRegistry

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


#: Text-search structures a plugin's revisions create that its models cannot declare
#: (PostgreSQL trigram indexes, SQLite FTS5 tables and their shadow tables).
TEXT_SEARCH_PREFIX = "textsearch_"


def include_name(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """Autogenerate compares our tables only: procrastinate's (PostgreSQL jobs) are its own,
    created by :func:`upgrade` from its schema file, not by our revisions; ``textsearch_*``
    tables and indexes are kept by their plugin's revisions alone."""
    if (name or "").startswith(TEXT_SEARCH_PREFIX) and type_ in ("table", "index"):
        return False
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def alembic_config(registry: PluginRegistry) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    locations = [
        str(p.info.migrations) for p in registry.plugins.values() if p.info.migrations is not None
    ]
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    return cfg


def check_migration_folders(registry: PluginRegistry) -> None:
    """Refuse plugins whose declared migrations folder is missing or holds no revision: a
    wheel built without its ``versions/`` would otherwise start and fail on every call."""
    for loaded in registry.plugins.values():
        folder = loaded.info.migrations
        if folder is None:
            continue
        folder = Path(folder)
        if not folder.is_dir():
            raise PluginError(
                f"plugin {loaded.label} declares its migrations in {folder}, which does not "
                "exist: was the folder left out of its package? (see docs/plugins.md, "
                "'Packaging and installing')"
            )
        if not any(f.name != "__init__.py" for f in folder.glob("*.py")):
            raise PluginError(
                f"plugin {loaded.label} declares its migrations in {folder}, which holds no "
                "revision: was it left out of its package? (see docs/plugins.md, "
                "'Packaging and installing')"
            )


def missing_tables(engine: Engine, registry: PluginRegistry) -> dict[str, list[str]]:
    """Plugin name → the tables of its models the database lacks (empty when all exist)."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
    missing: dict[str, list[str]] = {}
    for table, owner in registry.tables.items():
        if table not in present:
            missing.setdefault(owner.info.name, []).append(table)
    return missing


def check_tables(engine: Engine, registry: PluginRegistry) -> None:
    """Refuse to run when a plugin's tables are absent once its migrations are applied (no
    ``PluginInfo.migrations``, or revisions that do not create what its models declare)."""
    missing = missing_tables(engine, registry)
    if missing:
        parts = [
            f"plugin {registry.plugins[name].label} lacks the tables {sorted(tables)}"
            for name, tables in missing.items()
        ]
        raise PluginError(
            "; ".join(parts) + ": its migrations do not create them (is PluginInfo.migrations "
            "set, and are its revisions in its package?)"
        )


def upgrade(engine: Engine, registry: PluginRegistry) -> None:
    """Bring the database to every installed plugin's head revision (and, on PostgreSQL,
    create procrastinate's schema, which runs the background jobs, if missing; on SQLite,
    give tables that predate it ids that are never reused); then check that every plugin's
    tables exist.

    Raises PluginError, naming the plugin, when its migrations are missing."""
    check_migration_folders(registry)
    cfg = alembic_config(registry)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
        if connection.dialect.name == "postgresql":
            # Background jobs run on procrastinate there: its schema, once (idempotent).
            from gateway.jobs.engine import apply_schema

            apply_schema(connection)
    if engine.dialect.name == "sqlite":
        # Tables created before SQLite ids were made never to be reused (gateway.sqlite_ids).
        from gateway.sqlite_ids import adopt_autoincrement

        with engine.connect() as connection:
            adopt_autoincrement(connection, sorted(registry.tables))
    check_tables(engine, registry)


def script_directory(registry: PluginRegistry) -> ScriptDirectory:
    """Every installed plugin's revisions (checks the folders first)."""
    check_migration_folders(registry)
    return ScriptDirectory.from_config(alembic_config(registry))


def pending(
    engine: Engine, registry: PluginRegistry, script: ScriptDirectory | None = None
) -> set[str]:
    """Revisions not yet applied (empty when the database is current).

    Alembic records only the heads it reached; a revision another one ``depends_on`` is
    applied without being recorded, so walk down from the recorded heads. ``script``: a
    :func:`script_directory` kept from an earlier call (readiness probes).
    """
    script = script or script_directory(registry)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    applied = {r.revision for r in script.iterate_revisions(current, "base")} if current else set()
    return {r.revision for r in script.walk_revisions()} - applied


class MigrationsPending(RuntimeError):
    """The database lacks revisions of installed plugins: ``crm-gateway db upgrade``."""


def check_current(engine: Engine, registry: PluginRegistry) -> None:
    """What a process that serves or runs jobs checks before it starts: every plugin's
    migrations are in its package, applied, and have created its tables.

    Raises PluginError (naming the plugin) or MigrationsPending."""
    missing = pending(engine, registry)
    if missing:
        raise MigrationsPending(
            f"the database lacks migrations {sorted(missing)}: run `crm-gateway db upgrade`"
        )
    check_tables(engine, registry)
