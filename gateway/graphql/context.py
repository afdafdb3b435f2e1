"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from gateway.access.enforcement import AccessContext, access_of, scope_session
from gateway.access.scope import AccessScope
from gateway.errors import Forbidden, Unauthenticated
from gateway.identity.services import Caller

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.plugins import HookRelay


@dataclass
class RequestContext:
    """Who calls, in which tenant, with which modules, and the request's database session.

    The session is opened lazily in the worker thread that executes the operation and is
    closed when the operation ends (``UnitOfWork`` extension). Mutations get a write session
    (``BEGIN IMMEDIATE`` on SQLite) and commit through :meth:`transaction`.
    """

    gateway: Gateway
    request_id: str
    caller: Caller | None
    enabled_modules: frozenset[str]
    auth_problem: str | None = None
    request: Any = None
    response: Any = None
    client: str = ""
    client_address: str = "unknown"
    write: bool = False
    #: Bounds the worker threads executing operations (see ``Settings.execution_threads``).
    limiter: Any = None
    #: The caller's access facts as read with the token, if they were (saves a round trip).
    facts: Any = None
    #: Per-request memo for batch loaders (e.g. users by id), so no field loads per row.
    cache: dict[str, Any] = field(default_factory=dict)
    _session: Session | None = field(default=None, repr=False)

    # -- database --------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The operation's session; for a signed-in caller, filtered to what it may see."""
        if self._session is None:
            session = self.gateway.db.session(write=self.write)
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
        """The caller's access context (``None`` when signed out)."""
        return access_of(self.session) if self.caller is not None else None

    def require(self, permission: str) -> Caller:
        """The caller, if its profile holds ``permission``; FORBIDDEN otherwise."""
        caller = self.require_caller()
        access = self.access
        if access is None or not access.scope.has(permission):
            raise Forbidden(f"this needs the permission {permission!r}", permission=permission)
        return caller

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One mutation's unit of work: commit on success, roll back on any exception."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- identity --------------------------------------------------------------------------

    def require_caller(self) -> Caller:
        if self.caller is None:
            raise Unauthenticated(self.auth_problem or "sign in first")
        return self.caller

    def require_admin(self) -> Caller:
        caller = self.require_caller()
        if not caller.is_admin:
            raise Forbidden("this needs the Administrator profile")
        return caller

    @property
    def tenant_id(self) -> int:
        return self.require_caller().tenant_id

    @property
    def user_id(self) -> int | None:
        return self.caller.user_id if self.caller else None

    @property
    def hooks(self) -> HookRelay:
        """Hooks of the plugins enabled for the caller's tenant only."""
        return self.gateway.registry.hooks_for(self.enabled_modules)
