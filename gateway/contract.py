"""Data a plugin hands to the gateway through its hooks: the public, versioned contract.

Everything a partner needs is importable from here and from :mod:`gateway.hookspecs`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strawberry.types.field import StrawberryField

#: Version of the hook contract. Bumped on any incompatible change to a hookspec's
#: signature or meaning; plugins may declare the range they support in ``PluginInfo``.
CONTRACT_VERSION = 1

MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


@dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is. Returned by ``crm_plugin_info``; exactly one per plugin.

    ``name`` is the module key tenants switch on and off, the prefix of its permissions and
    the Alembic branch label of its migrations.
    """

    name: str
    title: str
    version: str
    description: str = ""
    #: Modules that must be enabled for this one to work (and whose Python API it may use).
    requires: tuple[str, ...] = ()
    #: Whether new tenants get it switched on.
    default_enabled: bool = True
    #: ``False`` for kernel modules that can never be switched off.
    optional: bool = True
    #: Folder holding this plugin's Alembic revisions (branch label = ``name``).
    migrations: Path | None = None
    #: Contract versions this plugin was written for.
    contract_versions: tuple[int, ...] = (CONTRACT_VERSION,)

    def __post_init__(self) -> None:
        if not MODULE_NAME.match(self.name):
            raise ValueError(f"plugin name {self.name!r} must match {MODULE_NAME.pattern}")


class PermissionKind(StrEnum):
    #: create/read/update/delete on an entity; generated for each access-controlled entity.
    MODULE = "module"
    #: A named capability a plugin declares ("set a discount", "invoice services"…).
    CONTENT = "content"


class Action(StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Permission:
    """One entry of the permission catalogue, e.g. ``contacts.set_discount``.

    ``code`` must start with the plugin's name and a dot; the gateway refuses others.
    Plugins declare content permissions; the gateway adds ``<module>.<entity>.<action>``
    module permissions for every access-controlled entity.
    """

    code: str
    description: str
    kind: PermissionKind = PermissionKind.CONTENT
    entity: str | None = None
    action: Action | None = None

    @classmethod
    def from_enum(cls, members: type[StrEnum], descriptions: dict[str, str]) -> list[Permission]:
        """Build the catalogue from a ``StrEnum`` of codes plus a description per code."""
        return [cls(m.value, descriptions[m.value]) for m in members]


class AccessLevel(StrEnum):
    """Per-record access (MISSION A9). "Restricted to chosen users" is PRIVATE + shares."""

    PRIVATE = "PRIVATE"
    PUBLIC_READ = "PUBLIC_READ"
    PUBLIC_WRITE = "PUBLIC_WRITE"


@dataclass(frozen=True)
class AssignmentGrant:
    """Users assigned to a record besides its owner (a client's user per managing company).

    Each assigned user reads and changes the record as its owner would, and so do those
    above them in the hierarchy and their assistants: the engine adds one ``EXISTS`` over
    ``model`` to the visibility predicate, and checks that whoever adds, changes or removes
    an assignment row may change the record. ``model`` needs ``tenant_id`` and the two
    foreign keys; index ``(user_attribute, record_attribute)`` for the ``EXISTS``.
    """

    model: type[Any]
    #: The foreign key to the entity's ``id``.
    record_attribute: str
    #: The assigned user's id (never an assistant: they may not manage records).
    user_attribute: str = "user_id"
    #: How ``explainAccess`` names one assignment row, e.g. ``"managing company Iberia"``.
    describe: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class AccessControlledEntity:
    """Declares that rows of ``model`` follow record access.

    Plugins only declare; the gateway builds and applies the visibility predicate to every
    ORM query of ``model``, and checks writes at flush time. The model needs an integer
    ``id`` primary key, ``tenant_id``, an owner column (a user id, nullable only if
    ``unowned_visible``) and an access column holding an :class:`AccessLevel` value.
    """

    #: Short singular key used in permissions and explanations, e.g. ``"contact"``.
    entity: str
    model: type[Any]
    #: The GraphQL type whose global IDs name these records (for ``node``/``explainAccess``).
    graphql_type: str | None = None
    owner_attribute: str = "owner_id"
    access_attribute: str = "access"
    #: Rows without an owner are visible to everyone holding the read permission
    #: (e.g. unmanaged leads).
    unowned_visible: bool = False
    #: Builds the GraphQL object of a record (a type implementing ``Node``), for ``node(id)``.
    graphql_factory: Callable[[Any], Any] | None = None
    #: The type's declaration for the kernel shaper (a ``gateway.shaping.Entity``): plain
    #: ``node(id)`` selections are then answered in one statement (``shaping.shaped_node``).
    shaped: Any | None = None
    #: Users assigned to a record (besides its owner) who get the owner's access.
    assignments: AssignmentGrant | None = None
    #: The access level new records get unless the organisation chose another
    #: (``setRecordAccessDefault``) or the creator gives one.
    default_access: AccessLevel = AccessLevel.PRIVATE


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class RecordChange:
    """What ``crm_record_changed`` receives: a record of ``entity`` was created/updated/deleted."""

    kind: ChangeKind
    entity: str
    record: Any
    changed_fields: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DashboardPeriods:
    """The instants "today", "this week" and "this month" start at, for ``crm_dashboard_figures``.

    Computed once per request in the organisation's time zone (weeks start on Monday) and
    handed to every module as aware UTC datetimes, so all figures agree on what "today" is.
    """

    now: datetime
    today: datetime
    week: datetime
    month: datetime


@dataclass(frozen=True)
class DashboardFigure:
    """One figure of the dashboard, e.g. ``contacts.newThisWeek`` = 4.

    ``key`` is stable (frontends pick figures by it) and unique per module, except that money
    figures repeat the key once per currency. Give exactly one of ``count`` or ``amount``;
    ``amount`` needs ``currency`` (ISO 4217). Figures must count only rows the caller can see
    — query through the context's session and the gateway's access predicate applies.

    ``derived_from`` names the GraphQL fields (``"Type.field"``) the figure is computed from:
    what it sums, and what it filters, groups or compares on (``Invoice.total``,
    ``Invoice.status``, ``Invoice.currency``…). The gateway leaves the figure out for callers
    whose field rules hide any of them (or anything those fields derive from), as it refuses
    the fields themselves: a sum over one record is that record's value. A figure derived from
    a ``@fullAccess`` field is shown only to profiles that see every record in full.
    """

    key: str
    label: str
    count: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    derived_from: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.count is None) == (self.amount is None):
            raise ValueError(f"dashboard figure {self.key!r}: give exactly one of count, amount")
        if self.amount is not None and not self.currency:
            raise ValueError(f"dashboard figure {self.key!r}: an amount needs a currency")
        if isinstance(self.derived_from, str):
            raise ValueError(f"dashboard figure {self.key!r}: derived_from is a tuple of names")
        for name in self.derived_from:
            type_name, dot, field_name = name.partition(".")
            if not (type_name and dot and field_name) or "." in field_name:
                raise ValueError(
                    f"dashboard figure {self.key!r}: {name!r} is not of the form Type.field"
                )


@dataclass(frozen=True)
class JobKind:
    """A kind of background job a module offers, returned by ``crm_job_kinds``.

    ``run(ctx, job, params)`` does the work as the user who started the job (``ctx`` is a
    :class:`gateway.context.CallerContext` acting for them) inside ONE transaction: it
    commits when ``run`` returns and rolls back when it raises. ``job`` is a
    :class:`gateway.jobs.JobHandle` (progress, cancellation); ``params`` the JSON given to
    ``defer_job``. It returns ``None``, a ``{name: count}`` dict or a
    :class:`gateway.jobs.JobResult`.

    Transient failures (a dropped connection, ``TransientJobError``) are retried up to
    ``max_attempts`` in all, waiting ``backoff_seconds * 2**(attempt-1)`` (at most
    ``max_backoff_seconds``) in between. A kind with a ``schedule`` (cron, 5 fields, UTC) is
    periodic: it runs once per tick for the whole installation without a user (see
    docs/architecture.md, "Jobs").
    """

    #: ``<module>.<name>``, e.g. ``"contacts.import"``: starts with the plugin's name.
    name: str
    run: Callable[..., Any]
    title: str = ""
    #: A permission the starting user must hold (checked at defer time and again at run).
    permission: str | None = None
    max_attempts: int = 3
    backoff_seconds: float = 10.0
    max_backoff_seconds: float = 3600.0
    #: Cron string for periodic system kinds (``"*/5 * * * *"``); ``None`` for user jobs.
    schedule: str | None = None
    #: A quiet kind tells its user only when it fails (routine runs, e.g. a calendar sync
    #: every few minutes, would otherwise notify at every success).
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"job kind {self.name!r}: max_attempts must be at least 1")
        if self.schedule is not None:
            from croniter import croniter

            if not croniter.is_valid(self.schedule):
                raise ValueError(f"job kind {self.name!r}: {self.schedule!r} is not a cron")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (exponential, capped)."""
        return float(min(self.backoff_seconds * 2 ** max(attempt - 1, 0), self.max_backoff_seconds))


def __getattr__(name: str) -> Any:
    """``gateway.contract.CallerContext`` is the kernel's one caller context
    (:class:`gateway.context.CallerContext`), imported lazily: the contract stays importable
    without the kernel's access machinery, and there is no second, structural copy of it."""
    if name == "CallerContext":
        from gateway.context import CallerContext

        return CallerContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class TypeField:
    """A field a module adds to a GraphQL object type it does not own, returned by
    ``crm_type_fields`` (``Contact.tasks`` from the calendar module).

    The field appears only in the schemas of tenants where the contributing module is on
    (and the type exists), so contacts never imports the modules built on it. ``field`` is
    a ``@strawberry.field`` whose resolver's first parameter is ``root``: the parent object
    (e.g. a ``ContactNode``, whose ``record`` is the row).
    """

    #: The GraphQL name of the extended type (``"Contact"``).
    type_name: str
    field: StrawberryField
