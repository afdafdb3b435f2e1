"""Enforcement, so no path can forget it.

* Every ORM SELECT (and ORM UPDATE/DELETE) on a scoped session gets the caller's criteria
  through ``do_orm_execute`` + ``with_loader_criteria`` (SQLAlchemy's documented recipe
  for global filters): the tenant on every tenant-owned model, and record visibility on
  every access-controlled entity — lists, lookups by id, counts, joins, relationship loads
  (column and relationship loads inherit the options of the statement that loaded them).
* Every flush on a scoped session is checked: creating needs the create permission, changing
  a record needs write access to it as stored, deleting needs delete permission and write
  access, new rows must belong to the caller's tenant, and no assistant may own a record.

A session is scoped by :func:`scope_session`; sessions without a scope (CLI, migrations,
sign-in) are system sessions and are not filtered.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, Result, delete, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, with_loader_criteria
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.base import ExecutableOption

from gateway.access.models import RecordShare
from gateway.access.predicates import Mode, predicate
from gateway.access.scope import SYSTEM, AccessScope
from gateway.contract import AccessControlledEntity, Action
from gateway.db import Database
from gateway.errors import BadUserInput, Forbidden, NotFound
from gateway.identity.models import Profile, ProfileKind, User
from gateway.plugins import PluginRegistry

SESSION_KEY = "crm_access"
CREATED_KEY = "crm_created_here"


class AccessContext:
    """A scoped session's caller plus the registry; builds and caches its criteria."""

    def __init__(self, scope: AccessScope, registry: PluginRegistry, dialect: str) -> None:
        self.scope = scope
        self.registry = registry
        self.dialect = dialect
        self._options: tuple[ExecutableOption, ...] | None = None
        self._read_predicates: dict[str, Any] = {}
        #: entity → record id → full access? (see gateway.access.fields.has_full_access)
        self.full_access_cache: dict[str, dict[int, bool]] = {}
        #: The scope's shape and parameter values (gateway.access.named), per request.
        self.bound_cache: dict[tuple[Any, ...], Any] = {}

    def predicate(self, entity: AccessControlledEntity, mode: Mode) -> Any:
        if mode is Mode.READ:
            found = self._read_predicates.get(entity.entity)
            if found is None:
                found = self._read_predicates[entity.entity] = predicate(
                    self.scope, self.registry, entity, mode, self.dialect
                )
            return found
        return predicate(self.scope, self.registry, entity, mode, self.dialect)

    @property
    def tenant_id(self) -> int:
        return self.scope.tenant_id

    def read_criteria(self, model: type[Any]) -> Any:
        """What the caller may read of ``model``, as a SQL condition: the visibility
        predicate of an access-controlled entity, the tenant for other tenant models.

        For statements run on the connection as plain rows (see :func:`plain_rows`), which
        the ORM hook does not see: add it to the WHERE of the model's own rows and to the ON
        of a joined model.
        """
        entity = self.registry.entity_of_model.get(model)
        if entity is not None:
            return self.predicate(entity, Mode.READ)
        return model.tenant_id == self.scope.tenant_id

    def options(self) -> tuple[ExecutableOption, ...]:
        """The loader criteria for every tenant model: visibility for access-controlled
        entities (per caller), the tenant for the others (shared by the tenant's requests)."""
        if self._options is None:
            visibility = [
                with_loader_criteria(
                    entity.model, self.predicate(entity, Mode.READ), include_aliases=True
                )
                for entity in self.registry.entities.values()
            ]
            self._options = (*_tenant_options(self.registry, self.scope.tenant_id), *visibility)
        return self._options

    def invalidate(self) -> None:
        """Forget cached scope parts and criteria (after changing shares or rules)."""
        for name in (
            "_facts",
            "permissions",
            "profile_permissions",
            "group_grants",
            "role_tree",
            "field_rules",
            "subordinate_ids",
            "served_ids",
            "shares",
            "rule_grants",
        ):
            self.scope.__dict__.pop(name, None)
        self.scope.prefetched = None  # read anew, after the change
        self._options = None
        self._read_predicates.clear()
        self.full_access_cache.clear()
        self.bound_cache.clear()


@lru_cache(maxsize=1024)
def _tenant_options(registry: PluginRegistry, tenant_id: int) -> tuple[ExecutableOption, ...]:
    """``tenant_id = :tenant`` criteria of the models without record access, built once per
    tenant: building them for every request cost more than the query they filter."""
    return tuple(
        with_loader_criteria(model, model.tenant_id == tenant_id, include_aliases=True)
        for model in registry.tenant_models
        if model not in registry.entity_of_model
    )


def scope_session(session: Session, scope: AccessScope, registry: PluginRegistry) -> None:
    dialect = session.get_bind().dialect.name
    session.info[SESSION_KEY] = AccessContext(scope, registry, dialect)


def access_of(session: Session) -> AccessContext | None:
    return session.info.get(SESSION_KEY)


def plain_rows(
    session: Session, stmt: Executable, params: dict[str, Any] | None = None
) -> Result[Any]:
    """Run a read-only statement on the session's connection and return plain rows.

    This skips the ORM's execution and loading (about half the cost of a small query) **and
    the automatic criteria**: the statement must already carry
    :meth:`AccessContext.read_criteria` for every model it reads. Meant for pre-shaped
    list resolvers (:mod:`gateway.graphql.shaped`), whose results a differential test
    compares with the ORM path.
    """
    return session.connection().execute(stmt, params)


def _on_execute(state: ORMExecuteState) -> None:
    access = access_of(state.session)
    if access is None or state.execution_options.get(SYSTEM):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(*access.options())


#: ``session.info`` key: owners already checked in this session (a bulk import checks each
#: owner once, not once per flushed row).
_OWNERS_CHECKED = "crm_owners_checked"


def _owner_problems(
    session: Session, access: AccessContext, owner_ids: set[int], field: str = "owner"
) -> None:
    checked: set[int] = session.info.setdefault(_OWNERS_CHECKED, set())
    owner_ids = owner_ids - checked
    if not owner_ids:
        return
    rows = session.execute(
        select(User.id, User.tenant_id, Profile.kind)
        .join(Profile, User.profile_id == Profile.id)
        .where(User.id.in_(owner_ids))
        .execution_options(**{SYSTEM: True})
    ).all()
    found = {uid: (tenant, kind) for uid, tenant, kind in rows}
    for owner in owner_ids:
        tenant, kind = found.get(owner, (None, None))
        if tenant != access.scope.tenant_id:
            raise BadUserInput("no such user", field=field)
        if kind is ProfileKind.ASSISTANT:
            what = "own" if field == "owner" else "be assigned"
            raise BadUserInput(f"assistants cannot {what} records", field=field)
    checked.update(owner_ids)


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    registry: PluginRegistry = session.info["crm_registry"]
    deleted_records = [
        (registry.entity_of_model[type(o)], o)
        for o in session.deleted
        if type(o) in registry.entity_of_model
    ]
    entity: AccessControlledEntity | None  # a record's entity, when it has one
    for entity, record in deleted_records:  # shares die with their record, scoped or not
        session.execute(
            delete(RecordShare).where(
                RecordShare.entity == entity.entity, RecordShare.record_id == record.id
            )
        )
    access = access_of(session)
    if access is None:
        return
    scope = access.scope
    owners = {
        o for obj in session.new if (o := _new_owner(access, type(obj), _Attrs(obj))) is not None
    }
    to_check: dict[Mode, dict[str, list[Any]]] = {Mode.WRITE: defaultdict(list)}
    created_here = session.info.get(CREATED_KEY, set())
    for obj in session.dirty:
        entity = registry.entity_of_model.get(type(obj))
        if entity is None or not session.is_modified(obj, include_collections=False):
            continue
        if _identity(obj) in created_here:  # inserted by this unit of work: still the creator's
            continue
        if get_history(obj, "tenant_id").has_changes():
            raise Forbidden("records cannot move between organisations")
        to_check[Mode.WRITE][entity.entity].append(obj)
        owner_history = get_history(obj, entity.owner_attribute)
        new_owner = next(iter(owner_history.added), None) if owner_history.has_changes() else None
        if new_owner is not None:
            owners.add(new_owner)
    for entity, record in deleted_records:
        if not scope.has(registry.permission_for(entity.entity, Action.DELETE)):
            raise Forbidden(f"your profile may not delete {entity.entity} records")
        to_check[Mode.WRITE][entity.entity].append(record)
    if owners:
        _owner_problems(session, access, owners)
    assigned = _assignment_changes(session, registry, to_check[Mode.WRITE])
    if assigned:
        _owner_problems(session, access, assigned, field="userId")
    for entity_key, records in to_check[Mode.WRITE].items():
        entity = registry.entities[entity_key]
        ids = {r if isinstance(r, int) else r.id for r in records}
        if not ids:
            continue
        writable = set(
            session.scalars(
                select(entity.model.id)
                .where(entity.model.id.in_(ids), access.predicate(entity, Mode.WRITE))
                .execution_options(**{SYSTEM: True})
            )
        )
        if ids - writable:
            raise Forbidden(f"you may not change this {entity_key}")


class _Attrs:
    """An object's attributes read like a row's mapping (``getattr`` with a default)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def get(self, key: str, default: Any = None, /) -> Any:
        return getattr(self.obj, key, default)


def _new_owner(
    access: AccessContext, model: type[Any], values: Mapping[str, Any] | _Attrs
) -> int | None:
    """What needs no query of a row about to be inserted: the caller's tenant, the create
    permission of its entity. Returns the record's owner, to be checked."""
    registry, scope = access.registry, access.scope
    if values.get("tenant_id", scope.tenant_id) != scope.tenant_id:
        raise Forbidden("records belong to the caller's organisation")
    entity = registry.entity_of_model.get(model)
    if entity is None:
        return None
    if not scope.has(registry.permission_for(entity.entity, Action.CREATE)):
        raise Forbidden(f"your profile may not create {entity.entity} records")
    owner: int | None = values.get(entity.owner_attribute)
    return owner


def check_new_rows(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """What a flush checks of new rows (:func:`_before_flush`), for rows of ``model``
    (attribute → value) inserted without the unit of work (:mod:`gateway.bulk`): the
    caller's tenant, the create permission, the owners (same tenant, no assistant) and, for
    assignment rows, the assigned users — and their records, which must be writable unless
    created in this transaction. In SQL, one query per kind of check (owners already
    checked in this session are not asked again)."""
    access = access_of(session)
    if access is None:
        return
    owners = {o for row in rows if (o := _new_owner(access, model, row)) is not None}
    if owners:
        _owner_problems(session, access, owners)
    entity = access.registry.entity_of_assignment.get(model)
    if entity is None or entity.assignments is None:
        return
    grant = entity.assignments
    created = session.info.get(CREATED_KEY, set())
    users = {row[grant.user_attribute] for row in rows} - {None}
    records = {
        row[grant.record_attribute]
        for row in rows
        if identity_key(entity.model, (row[grant.record_attribute],)) not in created
    }
    if users:
        _owner_problems(session, access, users, field="userId")
    if records:
        writable = set(
            session.scalars(
                select(entity.model.id)
                .where(entity.model.id.in_(records), access.predicate(entity, Mode.WRITE))
                .execution_options(**{SYSTEM: True})
            )
        )
        if records - writable:
            raise Forbidden(f"you may not change this {entity.entity}")


def created_in_transaction(session: Session, model: type[Any], ids: Iterable[int]) -> None:
    """Note records inserted without the unit of work as created here, like a flush does
    (``pending_to_persistent``): later changes in the transaction are still their creator's."""
    if session.info.get("crm_registry") is None:
        return
    found = session.info.setdefault(CREATED_KEY, set())
    found.update(identity_key(model, (pk,)) for pk in ids)


def _assignment_changes(
    session: Session, registry: PluginRegistry, to_check: dict[str, list[Any]]
) -> set[int]:
    """Assignment rows added, changed or removed in this flush (``AssignmentGrant``): their
    records must be writable as stored — an assignment grants access, so making one is
    changing the record — unless the record is new in this transaction (its creator's).
    Returns the users newly assigned, to be checked like new owners."""
    if not registry.entity_of_assignment:
        return set()
    users: set[int] = set()
    changed = [
        (o, registry.entity_of_assignment[type(o)])
        for group in (session.new, session.dirty, session.deleted)
        for o in group
        if type(o) in registry.entity_of_assignment
    ]
    if not changed:
        return set()
    created = session.info.get(CREATED_KEY, set())
    fresh = {
        (model, pk[0]) for model, pk, *_ in created if model in registry.entity_of_model and pk
    }
    for row, entity in changed:
        grant = entity.assignments
        assert grant is not None
        user_history = get_history(row, grant.user_attribute)
        if row not in session.deleted and (row in session.new or user_history.has_changes()):
            user = getattr(row, grant.user_attribute)
            if user is not None:
                users.add(user)
        record_ids = {
            *get_history(row, grant.record_attribute).deleted,
            getattr(row, grant.record_attribute),
        } - {None}
        to_check[entity.entity].extend(r for r in record_ids if (entity.model, r) not in fresh)
    return users


def _identity(instance: Any) -> Any:
    """A record's identity key (class, primary key, token): unlike ``id(instance)`` it stays
    its own after the object is garbage-collected (a long import frees the records it
    created; a later object may get the same ``id``)."""
    return inspect(instance).identity_key


def _on_inserted(session: Session, instance: Any) -> None:
    registry = session.info.get("crm_registry")
    if registry is not None and type(instance) in registry.entity_of_model:
        session.info.setdefault(CREATED_KEY, set()).add(_identity(instance))


def _on_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction, not a flush's subtransaction
        session.info.pop(CREATED_KEY, None)


#: The databases whose session factories carry enforcement already.
_INSTALLED: weakref.WeakSet[Database] = weakref.WeakSet()


def install(db: Database, registry: PluginRegistry) -> None:
    """Attach enforcement to a database's session factories (once per Database)."""
    if db in _INSTALLED:
        return
    for factory in (db._read, db._write):
        factory.kw.setdefault("info", {})["crm_registry"] = registry
        event.listen(factory, "do_orm_execute", _on_execute)
        event.listen(factory, "before_flush", _before_flush)
        event.listen(factory, "pending_to_persistent", _on_inserted)
        event.listen(factory, "after_transaction_end", _on_transaction_end)
    _INSTALLED.add(db)


def get_visible(session: Session, model: type[Any], pk: int, what: str = "record") -> Any:
    """The record if the caller may see it; NOT_FOUND otherwise (no existence oracle)."""
    record = session.get(model, pk)
    if record is None:
        raise NotFound(f"no such {what}", field="id")
    return record


def can(session: Session, record: Any, mode: Mode) -> bool:
    """Whether the caller has ``mode`` access to a (visible) record; system sessions can."""
    access = access_of(session)
    if access is None:
        return True
    entity = access.registry.entity_of_model[type(record)]
    stmt = (
        select(entity.model.id)
        .where(entity.model.id == record.id, access.predicate(entity, mode))
        .execution_options(**{SYSTEM: True})
    )
    return session.scalar(stmt) is not None


def get_writable(session: Session, model: type[Any], pk: int, what: str = "record") -> Any:
    """The record if the caller may change it: NOT_FOUND if invisible, FORBIDDEN if read-only."""
    record = get_visible(session, model, pk, what)
    if not can(session, record, Mode.WRITE):
        raise Forbidden(f"you may read this {what} but not change it")
    return record
