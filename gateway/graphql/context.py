"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

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
    write: bool = False
    _session: Session | None = field(default=None, repr=False)

    # -- database --------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.gateway.db.session(write=self.write)
        return self._session

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
