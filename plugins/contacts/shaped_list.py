"""The contacts list answered as a pre-shaped result (see :mod:`gateway.graphql.shaped`).

When a ``contacts`` selection uses only the plain fields below, the page is read as plain
rows — the contact's selected columns, its owner by a join, its first email and phone by
scalar sub-queries — plus one statement for the page's tags, and shaped straight into the
response. Both run as plain rows on the connection (no ORM loading), so they carry the
caller's criteria explicitly: the visibility predicate on ``contacts``, the tenant on the
joined owner and on the tags (``AccessContext.read_criteria``). The e-mail/phone
sub-queries and the filters' sub-queries are correlated to the (visible) contact. Any other
selection returns ``None`` and the general path answers; tests/test_shaped_results.py
compares both for random selections, users and filters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    AccessContext,
    AccessLevel,
    Selected,
    User,
    access_of,
    after_cursor,
    encode_cursor,
    global_id,
    plain_rows,
)
from plugins.contacts.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    ContactTagLink,
    Tag,
    display_name,
)

Row = Any
Getter = Callable[[Row], Any]


def _enum(value: Enum | None) -> str | None:
    return value.name if value is not None else None


def _text(column: Any) -> tuple[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]]:
    return (column,), lambda v: v[0]


def _first_of(model: Any, attribute: str) -> Any:
    """The first email/phone of the contact (by position), as a scalar sub-query."""
    return (
        select(getattr(model, attribute))
        .where(model.contact_id == Contact.id, model.tenant_id == Contact.tenant_id)
        .order_by(model.position, model.id)
        .limit(1)
        .scalar_subquery()
    )


#: Contact fields a shaped list can answer: the SQL expressions each needs, and how to turn
#: their values into the field's response value (as graphql-core would serialise it).
NODE_FIELDS: dict[str, tuple[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]]] = {
    "id": ((Contact.id,), lambda v: global_id("Contact", v[0])),
    "kind": ((Contact.kind,), lambda v: v[0].name),
    "firstName": _text(Contact.first_name),
    "lastName": _text(Contact.last_name),
    "companyName": _text(Contact.company_name),
    "displayName": (
        (Contact.kind, Contact.company_name, Contact.first_name, Contact.last_name),
        lambda v: display_name(*v),
    ),
    "email": ((_first_of(ContactEmail, "address"),), lambda v: v[0]),
    "phone": ((_first_of(ContactPhone, "number"),), lambda v: v[0]),
    "clientKind": ((Contact.client_kind,), lambda v: _enum(v[0])),
    "category": ((Contact.category,), lambda v: _enum(v[0])),
    "currency": _text(Contact.currency),
    "website": _text(Contact.website),
    "fiscalId": _text(Contact.fiscal_id),
    "fiscalIdType": ((Contact.fiscal_id_type,), lambda v: _enum(v[0])),
    "source": _text(Contact.source),
    "segment": _text(Contact.segment),
    "zone": _text(Contact.zone),
    "access": ((Contact.access,), lambda v: AccessLevel(v[0]).name),
    "createdAt": ((Contact.created_at,), lambda v: v[0].isoformat()),
    "updatedAt": ((Contact.updated_at,), lambda v: v[0].isoformat()),
}

#: The owner is joined as ``users`` itself (one join per statement), so the tenant criterion
#: the gateway adds to ``User`` applies to it unchanged.
Owner = User
OWNER_FIELDS: dict[str, tuple[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]]] = {
    "id": ((Owner.id,), lambda v: global_id("User", v[0])),
    "email": _text(Owner.email),
    "displayName": _text(Owner.display_name),
    "isActive": _text(Owner.is_active),
}
#: Tag fields, from the row (contact id, tag id, name, restricted) of the tags statement.
TAG_FIELDS: dict[str, Callable[[Row], Any]] = {
    "id": lambda t: global_id("Tag", t[1]),
    "name": lambda t: t[2],
    "restricted": lambda t: t[3],
}
CONNECTION_FIELDS = {"edges", "pageInfo", "totalCount", "__typename"}
EDGE_FIELDS = {"cursor", "node", "__typename"}
PAGE_INFO_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}


class _Columns:
    """The page statement's columns, each selected once, addressed by position."""

    def __init__(self) -> None:
        self.expressions: list[Any] = []
        self._index: dict[int, int] = {}

    def positions(self, expressions: tuple[Any, ...]) -> tuple[int, ...]:
        found = []
        for expression in expressions:
            key = id(expression)
            if key not in self._index:
                self._index[key] = len(self.expressions)
                self.expressions.append(expression)
            found.append(self._index[key])
        return tuple(found)


def _getter(positions: tuple[int, ...], convert: Callable[[tuple[Any, ...]], Any]) -> Getter:
    if len(positions) == 1:
        (p,) = positions
        return lambda row: convert((row[p],))
    return lambda row: convert(tuple(row[p] for p in positions))


class ContactListPlan:
    """A compiled ``contacts`` selection: which columns to read and how to shape each row."""

    def __init__(self, selection: Selected, sort_column: Any) -> None:
        self.selection = selection
        self.columns = _Columns()
        self.id_at, self.sort_at = self.columns.positions((Contact.id, sort_column))
        self.joins_owner = False
        self.tags: Selected | None = None
        self.node: list[tuple[str, Getter | None]] = []
        node = None
        for edges in (e for e in selection.children if e.name == "edges"):
            for entry in edges.children:
                if entry.name == "node":
                    node = entry
        if node is not None:
            self._compile_node(node)

    @classmethod
    def compile(cls, selection: Selected, sort_column: Any) -> ContactListPlan | None:
        """The plan, or ``None`` if the selection holds a field this shaper does not know."""
        if not selection.names() <= CONNECTION_FIELDS:
            return None
        nodes: list[Selected] = []
        for entry in selection.children:
            if entry.name == "edges":
                if not entry.names() <= EDGE_FIELDS:
                    return None
                nodes.extend(e for e in entry.children if e.name == "node")
            elif entry.name == "pageInfo" and not entry.names() <= PAGE_INFO_FIELDS:
                return None
        # Several differently aliased ``node`` selections would need merging: not plain.
        if len(nodes) > 1 or any(not _node_is_plain(n) for n in nodes):
            return None
        return cls(selection, sort_column)

    def _compile_node(self, node: Selected) -> None:
        for entry in node.children:
            if entry.name == "__typename":
                self.node.append((entry.key, lambda _row: "Contact"))
            elif entry.name == "owner":
                self.joins_owner = True
                getters = [
                    (
                        user.key,
                        (lambda _row: "User")
                        if user.name == "__typename"
                        else _getter(
                            self.columns.positions(OWNER_FIELDS[user.name][0]),
                            OWNER_FIELDS[user.name][1],
                        ),
                    )
                    for user in entry.children
                ]
                owner_present = self.columns.positions((Owner.id,))[0]
                self.node.append((entry.key, _owner_getter(owner_present, getters)))
            elif entry.name == "tags":
                self.tags = entry
                self.node.append((entry.key, None))  # filled from the tags statement
            else:
                expressions, convert = NODE_FIELDS[entry.name]
                self.node.append((entry.key, _getter(self.columns.positions(expressions), convert)))

    def statement(self, base: Select[Any], access: AccessContext) -> Select[Any]:
        """The page's columns with the caller's criteria written in (run as plain rows)."""
        stmt = base.with_only_columns(*self.columns.expressions).where(
            access.read_criteria(Contact)
        )
        if self.joins_owner:
            stmt = stmt.outerjoin(
                Owner, and_(Owner.id == Contact.owner_id, access.read_criteria(Owner))
            )
        return stmt

    def run(
        self,
        session: Session,
        base: Select[Any],
        sort_column: Any,
        *,
        first: int,
        after: str | None,
        descending: bool,
        total: Callable[[], int] | None,
    ) -> dict[str, Any]:
        access = access_of(session)
        assert access is not None, "shaped lists serve signed-in callers only"
        stmt = self.statement(base, access)
        if after is not None:
            stmt = stmt.where(after_cursor(sort_column, Contact.id, after, descending))
        order = (sort_column.desc(), Contact.id.desc()) if descending else (sort_column, Contact.id)
        rows = plain_rows(session, stmt.order_by(*order).limit(first + 1)).all()
        has_next = len(rows) > first
        rows = rows[:first]
        sort_at, id_at = self.sort_at, self.id_at
        # Cursors cost a JSON + base64 encoding each: only the page's ends unless the edges'
        # cursors are selected.
        ends = (
            (
                encode_cursor(rows[0][sort_at], rows[0][id_at]),
                encode_cursor(rows[-1][sort_at], rows[-1][id_at]),
            )
            if rows
            else (None, None)
        )
        cursors = (
            [encode_cursor(r[sort_at], r[id_at]) for r in rows] if self._edge_cursors() else None
        )
        tags = self._tags(session, access, [r[id_at] for r in rows]) if self.tags else {}
        return self._shape(rows, cursors, ends, tags, has_next, after is not None, total)

    def _edge_cursors(self) -> bool:
        return any(
            part.name == "cursor"
            for edges in self.selection.children
            if edges.name == "edges"
            for part in edges.children
        )

    def _tags(
        self, session: Session, access: AccessContext, ids: list[int]
    ) -> dict[int, list[dict[str, Any]]]:
        assert self.tags is not None
        getters = [
            (t.key, (lambda _tag: "Tag") if t.name == "__typename" else TAG_FIELDS[t.name])
            for t in self.tags.children
        ]
        found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return found
        assert not {Tag, ContactTagLink} & access.registry.entity_of_model.keys()
        links = plain_rows(
            session, _tags_statement(), {"ids": ids, "tenant": access.tenant_id}
        ).all()
        for link in links:
            found[link[0]].append({k: g(link) for k, g in getters})
        return found

    def _shape(
        self,
        rows: Sequence[Row],
        cursors: Sequence[str | None] | None,
        ends: tuple[str | None, str | None],
        tags: dict[int, list[dict[str, Any]]],
        has_next: bool,
        has_previous: bool,
        total: Callable[[], int] | None,
    ) -> dict[str, Any]:
        id_at = self.id_at
        out: dict[str, Any] = {}
        for entry in self.selection.children:
            name = entry.name
            if name == "__typename":
                out[entry.key] = "ContactConnection"
            elif name == "totalCount":
                out[entry.key] = total() if total is not None else None
            elif name == "pageInfo":
                out[entry.key] = _page_info(entry, ends, has_next, has_previous)
            elif name == "edges":
                edges = []
                for row, cursor in zip(rows, cursors or [None] * len(rows), strict=True):
                    edge: dict[str, Any] = {}
                    for part in entry.children:
                        if part.name == "cursor":
                            edge[part.key] = cursor
                        elif part.name == "__typename":
                            edge[part.key] = "ContactEdge"
                        else:
                            edge[part.key] = {
                                k: (g(row) if g is not None else tags[row[id_at]])
                                for k, g in self.node
                            }
                    edges.append(edge)
                out[entry.key] = edges
        return out


@cache
def _tags_statement() -> Select[int, int, str, bool]:
    """The page's tags, built once (its cache key is memoised). Tags and their links follow
    the tenant only, so their criteria are the ``tenant`` parameter."""
    tenant = bindparam("tenant", type_=Integer)
    return (
        select(ContactTagLink.contact_id, Tag.id, Tag.name, Tag.restricted)
        .join(Tag, and_(Tag.id == ContactTagLink.tag_id, Tag.tenant_id == tenant))
        .where(
            ContactTagLink.contact_id.in_(bindparam("ids", expanding=True)),
            ContactTagLink.tenant_id == tenant,
        )
        .order_by(ContactTagLink.contact_id, ContactTagLink.tag_id)
    )


def _owner_getter(present_at: int, getters: list[tuple[str, Getter]]) -> Getter:
    def owner(row: Row) -> dict[str, Any] | None:
        if row[present_at] is None:
            return None
        return {k: g(row) for k, g in getters}

    return owner


def _page_info(
    entry: Selected, ends: tuple[str | None, str | None], has_next: bool, has_previous: bool
) -> dict[str, Any]:
    values = {
        "hasNextPage": has_next,
        "hasPreviousPage": has_previous,
        "startCursor": ends[0],
        "endCursor": ends[1],
        "__typename": "PageInfo",
    }
    return {e.key: values[e.name] for e in entry.children}


def _node_is_plain(node: Selected) -> bool:
    if sum(entry.name == "tags" for entry in node.children) > 1:
        return False  # differently shaped tag lists under aliases: the general path
    for entry in node.children:
        if entry.name == "owner":
            if not entry.names() <= set(OWNER_FIELDS) | {"__typename"}:
                return False
        elif entry.name == "tags":
            if not entry.names() <= set(TAG_FIELDS) | {"__typename"}:
                return False
        elif entry.name != "__typename" and entry.name not in NODE_FIELDS:
            return False
    return True
