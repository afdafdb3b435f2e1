"""The caller context every service takes: who acts, in which tenant, through which path.

GraphQL requests, background jobs, imports, web forms and the CLI all act through one
:class:`CallerContext`, so a service reads and writes exactly what its caller may, whatever
path called it. The GraphQL request context (``gateway.graphql.context.RequestContext``)
only adds request and response things to it.

Three kinds of caller:

* a signed-in **user** (GraphQL), or the **system acting for a named user** (a job, an
  import, the CLI): same visibility, same field rules and permissions as that user;
* a **visitor** (a web form submission): no user; the tenant and the owner of what it
  creates are explicit, and the session is a system session the service keeps to that
  tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from gateway.access.enforcement import AccessContext, access_of, scope_session
from gateway.access.scope import AccessScope
from gateway.audit import trail as audit_trail
from gateway.errors import Busy, Conflict, Forbidden, NotFound, Unauthenticated
from gateway.identity.models import Profile, User
from gateway.identity.services import Caller
from gateway.tenancy import services as tenancy
from gateway.tenancy.models import Tenant

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.plugins import HookRelay

K = TypeVar("K")
V = TypeVar("V")


class Via(StrEnum):
    """The path a change came through (recorded with events; the audit trail reads it)."""

    API = "api"
    JOB = "job"
    IMPORT = "import"
    WEB_FORM = "web_form"
    CLI = "cli"


class Loader(Generic[K, V]):
    """A per-operation batch loader: ``prime`` many keys in one fetch, then ``get`` one.

    The one idiom for "load the page's owners/contacts/types once, not per row": the
    fetch takes the keys not loaded yet and returns what it found; keys it did not return
    are remembered as missing (``None``), so nothing is fetched twice. ``siblings`` names
    the other keys worth loading with a missed one (see :meth:`CallerContext.nested_loader`).
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], dict[K, V]],
        siblings: Callable[[], Iterable[K]] | None = None,
    ) -> None:
        self._fetch = fetch
        self._siblings = siblings
        self._found: dict[K, V | None] = {}

    def prime(self, keys: Iterable[K | None]) -> dict[K, V | None]:
        wanted = [k for k in dict.fromkeys(keys) if k is not None]
        missing = [k for k in wanted if k not in self._found]
        if missing:
            found = self._fetch(missing)
            self._found.update({k: found.get(k) for k in missing})
        return {k: self._found[k] for k in wanted}

    def get(self, key: K | None) -> V | None:
        if key is None:
            return None
        if key not in self._found:
            self.prime([key, *(self._siblings() if self._siblings else ())])
        return self._found[key]

    def put(self, key: K, value: V | None) -> None:
        self._found[key] = value

    def forget(self) -> None:
        self._found.clear()


@dataclass
class CallerContext:
    """Who acts, in which tenant, with which modules, and the operation's database session.

    The session is opened lazily and closed by :meth:`close`; for a user (or the system
    acting for one) it is scoped to what that user may see and change. Writes go through
    :meth:`transaction`.
    """

    gateway: Gateway
    caller: Caller | None
    enabled_modules: frozenset[str]
    write: bool = False
    #: The path this operation came through.
    via: Via = Via.API
    #: A visitor's tenant (no caller): web forms.
    visitor_tenant_id: int | None = None
    #: The caller's access facts as read with the token, if they were (saves a round trip).
    facts: Any = None
    #: Why there is no caller, when a token was sent but refused.
    auth_problem: str | None = None
    #: Per-operation memo (see :meth:`loader`).
    cache: dict[str, Any] = field(default_factory=dict)
    _session: Session | None = field(default=None, repr=False)

    # -- contexts outside HTTP ------------------------------------------------------------

    @classmethod
    def acting_for(
        cls, gateway: Gateway, user_id: int, *, via: Via, write: bool = True
    ) -> CallerContext:
        """The system acting for user ``user_id`` (a job, an import, the CLI): exactly that
        user's visibility, permissions and field rules. NOT_FOUND for an inactive or unknown
        user — a job started by someone since deactivated does nothing."""
        with gateway.db.reading() as session:
            row = session.execute(
                select(User, Profile.kind, Tenant.slug)
                .join(Profile, Profile.id == User.profile_id)
                .join(Tenant, Tenant.id == User.tenant_id)
                .where(User.id == user_id, User.is_active.is_(True))
            ).one_or_none()
            if row is None:
                raise NotFound("no such active user")
            user, kind, slug = row
            caller = Caller(
                user_id=user.id,
                tenant_id=user.tenant_id,
                tenant_slug=slug,
                profile_id=user.profile_id,
                profile_kind=kind,
                session_id=0,
            )
            modules = tenancy.enabled_modules(session, gateway.registry, user.tenant_id)
        return cls(gateway=gateway, caller=caller, enabled_modules=modules, write=write, via=via)

    @classmethod
    def visitor(
        cls, gateway: Gateway, tenant_id: int, modules: frozenset[str], *, via: Via
    ) -> CallerContext:
        """A visitor of tenant ``tenant_id`` (a web form): no user, a system session."""
        return cls(
            gateway=gateway,
            caller=None,
            enabled_modules=modules,
            write=True,
            via=via,
            visitor_tenant_id=tenant_id,
        )

    # -- database -------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The operation's session; for a user, filtered to what that user may see."""
        if self._session is None:
            session = self.gateway.db.session(write=self.write)
            # who and how, for the audit trail (gateway/audit/trail.py)
            session.info[audit_trail.ACTOR] = self.caller.user_id if self.caller else None
            session.info[audit_trail.VIA] = self.via.value
            session.info[audit_trail.CLIENT] = (
                getattr(self, "client_address", ""),
                getattr(self, "client", ""),
            )
            if self.caller is not None:
                registry = self.gateway.registry
                scope = AccessScope(
                    tenant_id=self.caller.tenant_id,
                    user_id=self.caller.user_id,
                    profile_id=self.caller.profile_id,
                    kind=self.caller.profile_kind,
                    all_permissions=frozenset(registry.permissions),
                    session=session,
                    prefetched=self.facts,
                )
                scope_session(session, scope, registry)
            self._session = session
        return self._session

    @property
    def access(self) -> AccessContext | None:
        """The caller's access context (``None`` for visitors and when signed out)."""
        return access_of(self.session) if self.caller is not None else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception. A unique or
        foreign-key violation at flush or commit (two callers racing for one name, a row
        deleted meanwhile) is ``CONFLICT`` — the one place that conversion is made."""
        session = self.session
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict("this conflicts with an existing record or one just changed") from exc
        except OperationalError as exc:
            session.rollback()
            if "database is locked" in str(exc.orig):  # SQLite's busy timeout ran out
                raise Busy(
                    "the database is busy with a long write (an import?); nothing was "
                    "changed — try again shortly"
                ) from exc
            raise
        except BaseException:
            session.rollback()
            raise

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def loader(self, name: str, fetch: Callable[[list[Any]], dict[Any, Any]]) -> Loader[Any, Any]:
        """The operation's loader called ``name`` (created with ``fetch`` on first use)."""
        found = self.cache.get(name)
        if not isinstance(found, Loader):
            found = self.cache[name] = Loader(fetch)
        return found

    def nested_loader(
        self, name: str, parent: type[Any], fetch: Callable[[list[int]], dict[int, Any]]
    ) -> Loader[int, Any]:
        """The loader of a field nested under ``parent`` rows (``Contact.tasks``), keyed by
        the parent's id: its first miss fetches for every ``parent`` row this operation has
        read (those in the session, i.e. the page the enclosing list loaded), so the nested
        list costs one statement per page instead of one per row, without the enclosing list
        knowing the field exists (fields of ``crm_type_fields``)."""
        found = self.cache.get(name)
        if not isinstance(found, Loader):

            def siblings() -> list[int]:
                loaded = list(self.session.identity_map.values())
                return [row.id for row in loaded if isinstance(row, parent)]

            found = self.cache[name] = Loader(fetch, siblings)
        return found

    # -- identity -------------------------------------------------------------------------

    def require_caller(self) -> Caller:
        if self.caller is None:
            raise Unauthenticated(self.auth_problem or "sign in first")
        return self.caller

    def require(self, permission: str) -> Caller:
        """The caller, if its profile holds ``permission``; FORBIDDEN otherwise."""
        caller = self.require_caller()
        access = self.access
        if access is None or not access.scope.has(permission):
            raise Forbidden(f"this needs the permission {permission!r}", permission=permission)
        return caller

    def require_admin(self) -> Caller:
        caller = self.require_caller()
        if not caller.is_admin:
            raise Forbidden("this needs the Administrator profile")
        return caller

    def has(self, permission: str) -> bool:
        """Whether the caller's profile holds ``permission`` (visitors hold none)."""
        access = self.access
        return access is not None and access.scope.has(permission)

    @property
    def tenant_id(self) -> int:
        if self.caller is None and self.visitor_tenant_id is not None:
            return self.visitor_tenant_id
        return self.require_caller().tenant_id

    @property
    def user_id(self) -> int | None:
        return self.caller.user_id if self.caller else None

    @property
    def hooks(self) -> HookRelay:
        """Hooks of the plugins enabled for the caller's tenant only."""
        return self.gateway.registry.hooks_for(self.enabled_modules)
