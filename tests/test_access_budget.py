"""Access control stays in SQL and costs the same for any page size: statement budgets, and
an index-backed plan for a hierarchical user on a 100k-row table (PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, text

from gateway.access.enforcement import scope_session
from gateway.access.scope import AccessScope
from gateway.contract import AccessLevel
from gateway.identity.models import User
from tests.plugins.notes.models import Note

LIST = "query($n: Int) { notes(first: $n) { id title access owner { email displayName } parent { title } children { title } } }"


def seed_notes(gateway, demo, count: int) -> None:
    owners = [
        demo["demo"].users[e].id for e in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test")
    ]
    with gateway.db.transaction() as s:
        notes = [
            Note(
                tenant_id=demo["demo"].id,
                owner_id=owners[i % 3],
                title=f"n{i}",
                access=(AccessLevel.PUBLIC_READ if i % 5 == 0 else AccessLevel.PRIVATE).value,
            )
            for i in range(count)
        ]
        s.add_all(notes)
        s.flush()
        for i, n in enumerate(notes[1:], start=1):
            if i % 4 == 0:
                n.parent_id = notes[i - 1].id


@pytest.mark.parametrize("who", ["manager@demo.test", "rep1@demo.test", "backoffice@demo.test"])
def test_list_statement_count_does_not_grow_with_page_size(demo, gateway, client_for, sql_log, who):
    seed_notes(gateway, demo, 450)
    client = client_for(who)
    client(LIST, {"n": 1})  # the list's plan probe (narrowing) is remembered for a minute
    counts = {}
    for size in (10, 200):
        with sql_log:
            r = client(LIST, {"n": size})
        assert r.errors == []
        assert len(r.data["notes"]) == size
        counts[size] = len(sql_log.statements)
    assert counts[10] == counts[200], counts
    assert counts[10] <= 16, sql_log.statements  # auth + access scope + list + 3 batches


def test_nesting_does_not_add_statements_per_row(demo, gateway, client_for, sql_log):
    seed_notes(gateway, demo, 120)
    client = client_for("manager@demo.test")
    with sql_log:
        client("{ notes(first: 100) { id } }")
    flat = len(sql_log.statements)
    with sql_log:
        client(LIST, {"n": 100})
    nested = len(sql_log.statements)
    assert nested - flat <= 4, sql_log.statements  # children + parents + owners, once each


def _captured_sql(session, run):
    captured = []

    def grab(_conn, _cursor, statement, parameters, *_):
        if "test_notes" in statement:
            captured.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return captured[0]


def test_visibility_predicate_uses_indexes_on_100k_rows(demo, gateway, registry):
    if gateway.db.is_sqlite:
        pytest.skip("the plan check runs on PostgreSQL")
    tenant = demo["demo"].id
    with gateway.db.transaction() as s:
        # 100k notes spread over the demo tenant's users (director > manager > reps), 20% public
        reps = [u.id for u in s.scalars(select(User).where(User.tenant_id == tenant))]
        s.execute(
            text("""
            INSERT INTO test_notes (tenant_id, owner_id, access, title, body, secret)
            SELECT :tenant, (ARRAY[:owners])[1 + (g % :n)],
                   CASE WHEN g % 5 = 0 THEN 'PUBLIC_READ' ELSE 'PRIVATE' END,
                   'note ' || g, '', ''
            FROM generate_series(1, 100000) AS g"""),
            {"tenant": tenant, "owners": reps, "n": len(reps)},
        )
        s.execute(text("ANALYZE test_notes"))
    rep1 = demo["demo"].users["rep1@demo.test"]
    manager = demo["demo"].users["manager@demo.test"]
    plans = {}
    for label, user in (("rep1", rep1), ("manager", manager)):  # hierarchical users
        with gateway.db.session() as s:
            scope_session(
                s,
                AccessScope(
                    tenant,
                    user.id,
                    user.profile_id,
                    user.profile.kind,
                    frozenset(registry.permissions),
                    s,
                ),
                registry,
            )
            statement, params = _captured_sql(
                s, lambda s=s: s.scalars(select(Note).order_by(Note.id.desc()).limit(50)).all()
            )
            with gateway.db.engine.connect() as conn:
                plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar()
        plans[label] = json.dumps(plan)
        assert "Seq Scan" not in plans[label], plans[label]
    print("PLANS", plans)


def test_users_list_statements_do_not_grow_with_page_size(demo, gateway, client_for, sql_log):
    """The kernel's own list: users with their profile, grants, manager and served users."""
    from gateway.identity.models import Profile

    tenant = demo["demo"]
    with gateway.db.transaction() as s:
        rep = s.scalar(select(Profile).where(Profile.id == tenant.profiles["Sales rep"].id))
        manager_id = tenant.users["manager@demo.test"].id
        s.add_all(
            User(
                tenant_id=tenant.id,
                email=f"user{i:03d}@demo.test",
                display_name=f"User {i}",
                password_hash="x",
                profile_id=rep.id,
                manager_id=manager_id,
            )
            for i in range(220)
        )
    admin = client_for("admin@demo.test")
    query = """query($n: Int) { users(first: $n) { id email displayName isActive
        profile { name permissions fieldRules { typeName } } manager { email profile { name } }
        servedUsers { email } } }"""
    counts = {}
    for size in (10, 200):
        with sql_log:
            r = admin(query, {"n": size})
        assert r.errors == [] and len(r.data["users"]) == size
        counts[size] = len(sql_log.statements)
    assert counts[10] == counts[200], counts
