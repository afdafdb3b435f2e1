"""The module kit outside HTTP: a caller context acting for a user lists exactly what that
user lists over GraphQL, forwards and backwards; a write conflict is CONFLICT."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.context import CallerContext, Loader, Via
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.graphql.common import global_id
from gateway.identity.models import User
from gateway.lists import Order, Window, list_records
from plugins.contacts import services as contacts
from plugins.contacts.models import Contact, Tag

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]
PAGE = "query($a: String) { contacts(first: 3, after: $a, orderBy: {field: NAME}) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"


def _over_http(client) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = client(PAGE, {"a": after}).data["contacts"]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def _acting_for(gateway, name: str, write: bool = False) -> CallerContext:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == f"{name}@demo.test"))
    return CallerContext.acting_for(gateway, user_id, via=Via.JOB, write=write)


def _listed(ctx: CallerContext, window: Window) -> list[Contact]:
    stmt = contacts.filtered(ctx, None, None)
    order = Order(Contact.sort_name, reads=("firstName", "lastName", "companyName"))
    return list_records(ctx, Contact, "Contact", stmt, order=order, window=window).rows


@pytest.mark.parametrize("name", USERS)
def test_a_job_acting_for_a_user_lists_what_the_user_lists_over_http(gateway, as_, name):
    expected = _over_http(as_(name))
    ctx = _acting_for(gateway, name)
    try:
        rows = _listed(ctx, Window.of(gateway.settings, first=500))
        assert [global_id("Contact", c.id) for c in rows] == expected
    finally:
        ctx.close()


def test_backward_pages_mirror_forward_pages(gateway, as_):
    ctx = _acting_for(gateway, "admin")
    try:
        forward = _listed(ctx, Window.of(gateway.settings, first=500))
        assert len(forward) > 6
        order = Order(Contact.sort_name)
        stmt = contacts.filtered(ctx, None, None)
        backward: list[Contact] = []
        before = None
        while True:
            listed = list_records(
                ctx,
                Contact,
                "Contact",
                stmt,
                order=order,
                window=Window.of(gateway.settings, last=4, before=before),
            )
            backward = listed.rows + backward
            if not listed.has_previous:
                break
            before = listed.cursors[0]
        assert [c.id for c in backward] == [c.id for c in forward]
        assert listed.count() == len(forward)
    finally:
        ctx.close()


def test_window_refuses_first_with_last_and_sizes_over_the_cap(gateway):
    with pytest.raises(BadUserInput):
        Window.of(gateway.settings, first=1, last=1)
    with pytest.raises(BadUserInput):
        Window.of(gateway.settings, last=gateway.settings.max_page_size + 1)


def test_acting_for_an_unknown_user_is_not_found(gateway, demo):
    with pytest.raises(NotFound):
        CallerContext.acting_for(gateway, 10**9, via=Via.CLI)


def test_a_unique_violation_in_a_transaction_is_conflict(gateway, demo):
    ctx = _acting_for(gateway, "admin", write=True)
    try:
        with ctx.transaction() as s:
            s.add(Tag(tenant_id=ctx.tenant_id, name="kit-tag"))
        with pytest.raises(Conflict), ctx.transaction() as s:
            s.add(Tag(tenant_id=ctx.tenant_id, name="kit-tag"))
    finally:
        ctx.close()


def test_a_loader_fetches_each_key_once():
    calls: list[list[int]] = []

    def fetch(keys: list[int]) -> dict[int, str]:
        calls.append(keys)
        return {k: str(k) for k in keys if k != 3}

    loader: Loader[int, str] = Loader(fetch)
    assert loader.prime([1, 2, 3, None, 2]) == {1: "1", 2: "2", 3: None}
    assert loader.get(2) == "2" and loader.get(3) is None and loader.get(4) == "4"
    assert calls == [[1, 2, 3], [4]]


def test_a_locked_database_is_busy_not_an_internal_error(gateway, demo):
    """SQLite's busy timeout running out (a long import holds the write lock) is BUSY: a
    typed error saying nothing changed, which jobs retry like any transient failure."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from gateway.errors import Busy

    ctx = _acting_for(gateway, "admin", write=True)
    try:
        with pytest.raises(Busy) as raised, ctx.transaction():
            raise OperationalError(
                "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
            )
    finally:
        ctx.close()
    assert raised.value.code.value == "BUSY"
