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
from sqlalchemy import Engine

from gateway.plugins import PluginRegistry

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def include_name(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """Autogenerate compares our tables only: procrastinate's (PostgreSQL jobs) are its own,
    created by :func:`upgrade` from its schema file, not by our revisions."""
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


def upgrade(engine: Engine, registry: PluginRegistry) -> None:
    """Bring the database to every installed plugin's head revision (and, on PostgreSQL,
    create procrastinate's schema, which runs the background jobs, if missing)."""
    cfg = alembic_config(registry)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
        if connection.dialect.name == "postgresql":
            # Background jobs run on procrastinate there: its schema, once (idempotent).
            from gateway.jobs.engine import apply_schema

            apply_schema(connection)


def pending(engine: Engine, registry: PluginRegistry) -> set[str]:
    """Revisions not yet applied (empty when the database is current).

    Alembic records only the heads it reached; a revision another one ``depends_on`` is
    applied without being recorded, so walk down from the recorded heads.
    """
    script = ScriptDirectory.from_config(alembic_config(registry))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    applied = {r.revision for r in script.iterate_revisions(current, "base")} if current else set()
    return {r.revision for r in script.walk_revisions()} - applied
