"""Recording the trail at the ORM level, so no path escapes it: after each flush, every new,
changed and deleted instance of an access-controlled model gets a row with its columns'
before and after values (attribute history, read before SQLAlchemy resets it). The actor
and path come from the session (``CallerContext`` puts them there); a service may name
what a change is part of (:func:`reason`). Statements that bypass the unit of work (bulk
``insert()``) record through :func:`record_created`."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.base import NO_VALUE

from gateway.audit.models import RecordChangeLog
from gateway.db import Database, utcnow

#: ``session.info`` keys the caller context fills.
ACTOR = "crm_audit_actor"
VIA = "crm_audit_via"
REASON = "crm_audit_reason"
#: (client address, user agent) of the request, for the organisation log.
CLIENT = "crm_audit_client"
#: ``session.info`` key: (entity, record id) → the row written this transaction.
_LOGGED = "crm_audit_logged"
#: Columns that are not the record's data: derived search text, bookkeeping.
SKIPPED = frozenset({"id", "tenant_id", "updated_at", "created_at", "search_text"})
#: The longest text kept per value (longer values keep their start and a marker).
MAX_TEXT = 4000


def plain(value: Any) -> Any:
    """A column value as JSON."""
    if type(value) is str:  # most values: checked first (a bulk import records thousands)
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes, sha: {base64.b16encode(value[:4]).decode()}…>"
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _columns(instance: Any) -> Iterator[str]:
    for attr in inspect(type(instance)).column_attrs:
        key = attr.key
        if key not in SKIPPED and not key.startswith("search_"):
            yield key


def _changes(instance: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(instance)
    found: dict[str, list[Any]] = {}
    for key in _columns(instance):
        attr = state.attrs[key]
        if action == "updated":
            history = attr.history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
        else:
            value = attr.loaded_value
            if value is NO_VALUE or value is None or value == "":
                continue
            before, after = (None, value) if action == "created" else (value, None)
        if before != after:
            found[key] = [plain(before), plain(after)]
    return found


def _after_flush(session: Session, _context: Any) -> None:
    registry = session.info.get("crm_registry")
    if registry is None:
        return
    entities = registry.entity_of_model
    found: list[tuple[str, int, int, str, dict[str, list[Any]]]] = []
    for action, instances in (
        ("created", session.new),
        ("updated", session.dirty),
        ("deleted", session.deleted),
    ):
        for instance in instances:
            entity = entities.get(type(instance))
            if entity is None:
                continue
            changes = _changes(instance, action)
            if action == "updated" and not changes:
                continue
            found.append((entity.entity, instance.tenant_id, instance.id, action, changes))
    if found:
        _write(session, found)


def _write(session: Session, found: list[tuple[str, int, int, str, dict[str, list[Any]]]]) -> None:
    """One row per record and transaction: a record changed again in a later flush of the
    same transaction (derived columns set after the first flush, a service's second step)
    has its row updated, the first ``before`` kept. Rows are written in the transaction, so
    a rolled-back savepoint takes its rows with it."""
    logged: dict[tuple[str, int], tuple[int, str, dict[str, list[Any]]]] = session.info.setdefault(
        _LOGGED, {}
    )
    connection = session.connection()
    fresh: list[tuple[tuple[str, int], str, dict[str, list[Any]], dict[str, Any]]] = []
    for entity, tenant_id, record_id, action, changes in found:
        key = (entity, record_id)
        earlier = logged.get(key)
        if earlier is not None:
            log_id, first_action, merged = earlier
            for column, (before, after) in changes.items():
                merged[column] = [merged[column][0] if column in merged else before, after]
            merged = {c: v for c, v in merged.items() if v[0] != v[1]}
            kept = "deleted" if action == "deleted" else first_action
            done = connection.execute(
                update(RecordChangeLog)
                .where(RecordChangeLog.id == log_id)
                .values(action=kept, changes=merged)
            )
            if done.rowcount == 1:
                logged[key] = (log_id, kept, merged)
                continue
        row = _row(session, entity, tenant_id, record_id, action, changes)
        fresh.append((key, action, changes, row))
    if fresh:
        ids = connection.execute(
            insert(RecordChangeLog).returning(RecordChangeLog.id, sort_by_parameter_order=True),
            [row for *_, row in fresh],
        ).scalars()
        for (key, action, changes, _row_values), log_id in zip(fresh, ids, strict=True):
            logged[key] = (log_id, action, dict(changes))


def _forget(session: Session, transaction: Any) -> None:
    """A new transaction starts a new row per record."""
    if transaction.parent is None:
        session.info.pop(_LOGGED, None)


def _forget_after_rollback(session: Session, _previous: Any) -> None:
    """A rollback (a savepoint's too) may have taken rows with it: later flushes write new
    rows rather than merge into ones that may be gone."""
    session.info.pop(_LOGGED, None)


def _row(
    session: Session,
    entity: str,
    tenant_id: int,
    record_id: int,
    action: str,
    changes: dict[str, list[Any]],
) -> dict[str, Any]:
    info = session.info
    return {
        "tenant_id": tenant_id,
        "entity": entity,
        "record_id": record_id,
        "action": action,
        "user_id": info.get(ACTOR),
        "via": info.get(VIA) or "system",
        "reason": info.get(REASON) or "",
        "at": utcnow(),
        "changes": changes,
    }


def record_created(session: Session, entity: str, records: Iterable[Mapping[str, Any]]) -> None:
    """Record creations made with bulk statements (they bypass the flush): each mapping
    holds the new row's values, ``id`` and ``tenant_id`` included."""
    info = session.info
    common = {
        "entity": entity,
        "action": "created",
        "user_id": info.get(ACTOR),
        "via": info.get(VIA) or "system",
        "reason": info.get(REASON) or "",
        "at": utcnow(),
    }
    kept: dict[tuple[str, ...], tuple[str, ...]] = {}  # the columns recorded, per row shape
    rows = []
    for values in records:
        shape = tuple(values)
        columns = kept.get(shape)
        if columns is None:
            columns = kept[shape] = tuple(
                k for k in shape if k not in SKIPPED and not k.startswith("search_")
            )
        changes = {}
        for k in columns:
            v = values[k]
            if v is not None and v != "":
                changes[k] = [None, plain(v)]
        rows.append(
            {
                **common,
                "tenant_id": values["tenant_id"],
                "record_id": values["id"],
                "changes": changes,
            }
        )
    if rows:
        session.connection().execute(insert(RecordChangeLog), rows)


def record_updated(
    session: Session, entity: str, record: Any, changes: Mapping[str, tuple[Any, Any]]
) -> None:
    """Record an update made with a plain ``UPDATE`` statement (a guarded claim: the flush
    never sees it): ``changes`` maps each column to its (before, after) values."""
    found = {k: [plain(before), plain(after)] for k, (before, after) in changes.items()}
    if found:
        _write(session, [(entity, record.tenant_id, record.id, "updated", found)])


def relink(
    session: Session,
    column: InstrumentedAttribute[int | None],
    tenant_id: int,
    old: int,
    new: int,
    **options: Any,
) -> None:
    """Point every row of the tenant whose ``column`` holds ``old`` at ``new``, in one
    ``UPDATE … RETURNING``: how a merge moves the merged record's dependants (invoices,
    history, opportunities) to the kept one. Each moved row of an access-controlled model
    is recorded, as a flush's change would be; ``options`` are the statement's execution
    options (``SYSTEM`` to move rows the caller cannot see)."""
    model = column.class_
    moved = session.scalars(
        update(model)
        .where(model.tenant_id == tenant_id, column == old)
        .values({column.key: new})
        .returning(model.id)
        .execution_options(**options)
    ).all()
    registry = session.info.get("crm_registry")
    entity = registry.entity_of_model.get(model) if registry is not None else None
    if entity is not None and moved:
        change = {column.key: [old, new]}
        _write(session, [(entity.entity, tenant_id, i, "updated", dict(change)) for i in moved])


@contextmanager
def reason(session: Session, why: str) -> Iterator[None]:
    """Changes made inside are recorded as part of ``why`` (``merge``, ``undo_import``)."""
    before = session.info.get(REASON)
    session.info[REASON] = why
    try:
        yield
    finally:
        session.info[REASON] = before


def install(db: Database) -> None:
    for factory in (db._read, db._write):
        if not event.contains(factory, "after_flush", _after_flush):
            event.listen(factory, "after_flush", _after_flush)
            event.listen(factory, "after_transaction_end", _forget)
            event.listen(factory, "after_soft_rollback", _forget_after_rollback)
