"""Issue 19 item 5: the search looks words up in a trigram index (PostgreSQL ``pg_trgm``,
SQLite FTS5) and must find exactly what the plain ``LIKE`` over the readable search columns
finds — for callers whose profile hides search fields, with accents and case, words shorter
than a trigram, LIKE's and FTS5's special characters — and keep doing so after every kind of
write (updates, deletes, bulk imports, merges, a tenant's cascade)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import false, or_, select, text

from gateway.context import CallerContext, Via
from gateway.identity.models import User
from gateway.sdk import unreadable_fields, visible_rows
from plugins.contacts import services
from plugins.contacts.filtering import COMPANY_SEARCH_READS, SEARCHED, search_condition
from plugins.contacts.models import Contact
from plugins.contacts.search_index import FTS_NAME
from plugins.contacts.services import ContactData
from plugins.contacts.validation import fold
from tests.test_contacts import DELETE, UPDATE, create
from tests.test_contacts_merge_photo import MERGE
from tests.test_search_leaks import hide

#: Searches whose indexed answer is compared with the plain LIKE's.
TEXTS = [
    "mar",
    "MAR",
    "már",
    "maria nunez",
    "NÚÑEZ",
    "ma",
    "m",
    "ño",
    "lopez 600",
    "600",
    "@mar.exa",
    "%",
    "50%",
    "%_o",
    "_",
    "\\",
    "a\\b",
    '"',
    '"quoted"',
    'd" or "x',
    "o'neil",
    "*",
    "mar*",
    "{first} : mar",
    "ltd",
    "customer",
    "quartz",
    "nothing-like-this",
]


def _plain(ctx: CallerContext, search: str) -> Any:
    """The search before the index (``LIKE`` on each readable column): the oracle."""
    words = [w for w in fold(search).split() if w]
    needed = {f for _, fields in SEARCHED for f in fields} | set(COMPANY_SEARCH_READS)
    hidden = unreadable_fields(ctx, "Contact", needed)
    columns = [column for column, fields in SEARCHED if not hidden.intersection(fields)]
    company = (
        None
        if hidden.intersection(COMPANY_SEARCH_READS)
        else visible_rows(ctx.access, Contact, "plain_company")
    )
    conditions = []
    for word in words:
        alternatives = [column.contains(word, autoescape=True) for column in columns]
        if company is not None:
            name = company.table.c.search_company_name.contains(word, autoescape=True)
            alternatives.append(
                Contact.company_id.in_(select(company.table.c.id).where(company.condition, name))
            )
        conditions.append(or_(*alternatives) if alternatives else false())
    return conditions


def _context(gateway, email: str, *, write: bool = False) -> CallerContext:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    return CallerContext.acting_for(gateway, user_id, via=Via.JOB, write=write)


def _ids(ctx: CallerContext, *conditions: Any) -> set[int]:
    return set(ctx.session.scalars(select(Contact.id).where(*conditions)))


def assert_same_as_plain(gateway, email: str, texts: list[str] = TEXTS) -> dict[str, set[int]]:
    """Every text finds the same contacts indexed and plain; the FTS5 index (SQLite) agrees
    with the contacts table it indexes."""
    found = {}
    ctx = _context(gateway, email)
    try:
        for search in texts:
            indexed = _ids(ctx, search_condition(ctx, search))
            assert indexed == _ids(ctx, *_plain(ctx, search)), (email, search)
            found[search] = indexed
        if gateway.db.is_sqlite:  # rank 1: compare the index with its content table
            ctx.session.execute(
                text(f"INSERT INTO {FTS_NAME}({FTS_NAME}, rank) VALUES ('integrity-check', 1)")
            )
    finally:
        ctx.close()
    return found


@pytest.fixture
def tricky(as_):
    """Contacts of rep1 with accents, case, and LIKE's and FTS5's special characters."""
    rep1 = as_("rep1")
    company = create(rep1, kind="COMPANY", companyName='Mar & "Quoted" 50%_Off \\ Ltd')
    return {
        "company": company,
        "maria": create(
            rep1,
            firstName="María",
            lastName="Núñez-López",
            email="maria.nunez@mar.example",
            phone="+34 600 111 222",
            tags=["customer"],
            companyId=company["id"],
        ),
        "oneil": create(rep1, firstName="ÜNAL", lastName="O'Neil", access="PUBLIC_READ"),
        "odd": create(rep1, firstName='a\\b "x"', lastName="%_o mar*", phone="600 5050"),
        "quartz": create(rep1, kind="COMPANY", companyName="Zephyrine Quartz GmbH"),
    }


@pytest.mark.parametrize(
    "hidden",
    [(), ("email", "company"), ("firstName", "lastName", "tags"), ("phone", "companyName")],
)
@pytest.mark.parametrize("user", ["rep1", "rep2", "manager"])
def test_the_indexed_search_finds_what_like_finds(gateway, as_, tricky, user, hidden):
    if hidden:
        for profile in ("Sales rep", "Sales manager"):
            hide(as_, *hidden, profile=profile)
    found = assert_same_as_plain(gateway, f"{user}@demo.test")
    if user != "rep2" and not hidden:  # rep1's contacts: the searches find something
        for search in ("mar", "%", "\\", '"quoted"', "ma"):
            assert found[search], search


def test_the_index_follows_updates_deletes_merges_and_imports(gateway, as_, tricky):
    rep1 = as_("rep1")
    r = rep1(UPDATE, {"id": tricky["quartz"]["id"], "input": {"companyName": "Borealis Tin"}})
    assert r.data["updateContact"]["errors"] == [], r.body
    found = assert_same_as_plain(gateway, "rep1@demo.test", ["quartz", "borealis", "tin"])
    assert found["quartz"] == set() and len(found["borealis"]) == 1

    manager = as_("manager")  # reps may not delete nor merge
    r = manager(DELETE, {"id": tricky["oneil"]["id"]})
    assert r.data["deleteContact"]["errors"] == [], r.body
    assert assert_same_as_plain(gateway, "rep1@demo.test", ["o'neil", "unal"]) == {
        "o'neil": set(),
        "unal": set(),
    }

    twin = create(rep1, firstName="Maria", lastName="Twinmerge", email="twin@merge.example")
    r = manager(MERGE, {"k": tricky["maria"]["id"], "m": twin["id"], "t": ["lastName"]})
    assert r.data["mergeContacts"]["errors"] == [], r.body
    found = assert_same_as_plain(gateway, "rep1@demo.test", ["twinmerge", "lopez", "merge.ex"])
    assert found["twinmerge"] == found["merge.ex"] and found["lopez"] == set()
    assert len(found["twinmerge"]) == 1

    ctx = _context(gateway, "rep1@demo.test", write=True)
    try:
        with ctx.transaction():  # an import's chunk: one INSERT per table
            services.create_contacts(
                ctx,
                [
                    ContactData(values={"kind": "PERSON", "first_name": f"Bulkmarta{i}"})
                    for i in range(3)
                ],
            )
    finally:
        ctx.close()
    found = assert_same_as_plain(gateway, "rep1@demo.test", ["bulkmarta", "bulkmarta1", "mar"])
    assert len(found["bulkmarta"]) == 3 and len(found["bulkmarta1"]) == 1


def test_the_index_follows_a_tenant_deleted_by_its_cascade(gateway, as_, tricky):
    """No tenant deletion API yet: the foreign keys' cascade is how it happens (SQLite fires
    the index's triggers for the rows it deletes)."""
    count = "SELECT count(*) FROM contacts WHERE search_text LIKE '%zephyrine%'"
    with gateway.db.engine.begin() as conn:
        assert conn.scalar(text(count)) == 1
        conn.execute(text("DELETE FROM tenants WHERE slug = 'demo'"))
    with gateway.db.engine.connect() as conn:
        assert conn.scalar(text(count)) == 0
        if gateway.db.is_sqlite:
            conn.execute(
                text(f"INSERT INTO {FTS_NAME}({FTS_NAME}, rank) VALUES ('integrity-check', 1)")
            )
            match = f"SELECT count(*) FROM {FTS_NAME} WHERE {FTS_NAME} MATCH :w"
            assert conn.scalar(text(match), {"w": '"zephyrine"'}) == 0


def _plan(gateway, ctx: CallerContext, search: str) -> str:
    stmt = select(Contact.id).where(search_condition(ctx, search))
    compiled = stmt.compile(gateway.db.engine, compile_kwargs={"literal_binds": True})
    with gateway.db.engine.begin() as conn:
        if gateway.db.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a test's few rows
        return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))


@pytest.mark.parametrize("hidden", [(), ("email", "tags")])
def test_words_of_three_characters_or_more_use_the_index(gateway, as_, tricky, hidden):
    if hidden:
        hide(as_, *hidden)
    ctx = _context(gateway, "rep1@demo.test")
    try:
        index = FTS_NAME if gateway.db.is_sqlite else "textsearch_contacts_trgm"
        assert index in _plan(gateway, ctx, "mar"), _plan(gateway, ctx, "mar")
        if gateway.db.is_sqlite:  # no trigram: LIKE alone (PostgreSQL's planner may still
            # scan the whole GIN index, as here with sequential scans off)
            assert index not in _plan(gateway, ctx, "ma")
    finally:
        ctx.close()
