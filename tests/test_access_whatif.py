"""What-if previews of access changes: the answer equals the difference of two real
evaluations (before, and after the change is really saved), nothing is saved by a preview,
and the cost does not grow with the number of users."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.access.enforcement import can, scope_session
from gateway.access.models import ProfilePermission, SharingRule
from gateway.access.predicates import Mode
from gateway.access.scope import AccessScope
from gateway.audit.models import AdminEvent
from gateway.graphql.common import global_id
from gateway.identity.models import Profile, User
from gateway.notifications import Notification
from gateway.tenancy.services import enabled_modules

RESULT = """preview { usersCompared usersChanged truncated users { user { id email }
    kindBefore kindAfter entities { entity readGained readLost writeGained writeLost }
    fields { field before after } permissionsGained permissionsLost } }
    errors { code field message }"""

PROFILE = f"""mutation($id: ID!, $input: UpdateProfileInput!) {{
    previewProfileChange(id: $id, input: $input) {{ {RESULT} }} }}"""
RULE = f"""mutation($input: SharingRuleChangeInput!) {{
    previewSharingRuleChange(input: $input) {{ {RESULT} }} }}"""
MANAGER = f"""mutation($u: ID!, $m: ID) {{
    previewManagerChange(userId: $u, managerId: $m) {{ {RESULT} }} }}"""


@pytest.fixture
def admin(demo, as_):
    return as_("admin")


def evaluate(gateway, registry, tenant_id: int) -> dict[tuple[int, str], tuple[set, set]]:
    """(user, entity) → (readable ids, writable ids), from real scoped sessions."""
    with gateway.db.reading() as s:
        people = s.execute(
            select(User.id, User.profile_id, Profile.kind)
            .join(Profile, Profile.id == User.profile_id)
            .where(User.tenant_id == tenant_id, User.is_active.is_(True))
        ).all()
        modules = enabled_modules(s, registry, tenant_id)
    entities = [registry.entities[k] for k, m in registry.entity_module.items() if m in modules]
    result = {}
    for uid, profile_id, kind in people:
        with gateway.db.session() as s:
            scope = AccessScope(
                tenant_id=tenant_id,
                user_id=uid,
                profile_id=profile_id,
                kind=kind,
                all_permissions=frozenset(registry.permissions),
                session=s,
            )
            scope_session(s, scope, registry)
            for entity in entities:
                records = list(s.scalars(select(entity.model)))
                readable = {r.id for r in records}
                writable = {r.id for r in records if can(s, r, Mode.WRITE)}
                result[(uid, entity.entity)] = (readable, writable)
    return result


def differences(before, after) -> dict[tuple[int, str], tuple[int, int, int, int]]:
    diff = {}
    for key, (read0, write0) in before.items():
        read1, write1 = after[key]
        counts = (
            len(read1 - read0),
            len(read0 - read1),
            len(write1 - write0),
            len(write0 - write1),
        )
        if any(counts):
            diff[key] = counts
    return diff


def previewed(payload: dict[str, Any], ids: dict[str, int]) -> dict[tuple[int, str], tuple]:
    return {
        (ids[u["user"]["email"]], e["entity"]): (
            e["readGained"],
            e["readLost"],
            e["writeGained"],
            e["writeLost"],
        )
        for u in payload["preview"]["users"]
        for e in u["entities"]
    }


def counts(gateway) -> tuple[int, ...]:
    with gateway.db.reading() as s:
        sizes = [
            s.scalar(select(func.count()).select_from(m))
            for m in (ProfilePermission, SharingRule, AdminEvent, Notification, Profile)
        ]
        return (*sizes, tuple(s.execute(select(User.id, User.manager_id).order_by(User.id)).all()))


def test_previews_need_the_permission_of_the_change(demo, as_):
    rep = as_("rep1")
    r = rep(MANAGER, {"u": global_id("User", 1)})
    assert r.codes == ["FORBIDDEN"]


def test_manager_change_preview_saves_nothing_and_matches_reality(gateway, registry, demo, admin):
    tenant = demo["demo"]
    users = tenant.users
    rep2, director = users["rep2@demo.test"], users["director@demo.test"]
    before_rows = counts(gateway)
    before = evaluate(gateway, registry, tenant.id)
    r = admin(MANAGER, {"u": global_id("User", rep2.id), "m": global_id("User", director.id)})
    payload = r.data["previewManagerChange"]
    assert payload["errors"] == []
    assert counts(gateway) == before_rows  # nothing saved, logged or notified
    ids = {email: u.id for email, u in users.items()}
    got = previewed(payload, ids)
    assert any(key[0] == users["manager@demo.test"].id for key in got)  # the manager loses rep2
    saved = admin(
        "mutation($u: ID!, $m: ID) { updateUser(id: $u, input: {managerId: $m}) { errors { code } } }",
        {"u": global_id("User", rep2.id), "m": global_id("User", director.id)},
    )
    assert saved.data["updateUser"]["errors"] == []
    assert got == differences(before, evaluate(gateway, registry, tenant.id))


def test_invalid_change_is_a_typed_error(demo, admin):
    users = demo["demo"].users
    r = admin(
        MANAGER,
        {
            "u": global_id("User", users["manager@demo.test"].id),
            "m": global_id("User", users["rep1@demo.test"].id),
        },
    )
    payload = r.data["previewManagerChange"]
    assert payload["preview"] is None
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"


def test_profile_preview_reports_field_rules_and_permissions(demo, admin):
    profile = demo["demo"].profiles["Sales rep"]
    r = admin(
        PROFILE,
        {
            "id": global_id("Profile", profile.id),
            "input": {
                "fieldRules": [{"typeName": "Contact", "fieldName": "email", "mode": "HIDDEN"}]
            },
        },
    )
    payload = r.data["previewProfileChange"]
    assert payload["errors"] == []
    reps = {u["user"]["email"]: u for u in payload["preview"]["users"]}
    assert set(reps) == {"rep1@demo.test", "rep2@demo.test"}
    fields = {f["field"]: (f["before"], f["after"]) for f in reps["rep1@demo.test"]["fields"]}
    assert fields["Contact.email"] == (None, "HIDDEN")
    assert reps["rep1@demo.test"]["entities"] == []


def test_statements_per_entity_do_not_grow_with_users(gateway, registry, demo, admin, sql_log):
    """One aggregate statement per entity, however many users change (2 vs 5 here)."""
    tenant = demo["demo"]
    rep = tenant.profiles["Sales rep"]
    with sql_log:
        few = admin(PROFILE, {"id": global_id("Profile", rep.id), "input": {"permissions": []}})
    few_statements = len(sql_log.touching("FROM contacts"))
    users = tenant.users
    create = {
        "name": "back office to the sales team",
        "ownerRootId": global_id("User", users["backoffice@demo.test"].id),
        "granteeRootId": global_id("User", users["director@demo.test"].id),
    }
    with sql_log:
        many = admin(RULE, {"input": {"create": create}})
    many_statements = len(sql_log.touching("FROM contacts"))
    assert few.data["previewProfileChange"]["preview"]["usersChanged"] == 2
    assert many.data["previewSharingRuleChange"]["preview"]["usersChanged"] == 5
    assert few_statements == many_statements == 1


# -- property: preview == after - before, for random changes --------------------------------

changes = st.one_of(
    st.tuples(
        st.just("profile"),
        st.sampled_from(["Sales rep", "Sales manager", "Director", "Back office"]),
        st.sampled_from([None, "HIERARCHICAL", "STRUCTURAL"]),
        st.integers(0, 2**16),
    ),
    st.tuples(
        st.just("rule"),
        st.integers(0, 6),
        st.integers(0, 6),
        st.sampled_from([None, "contact", "note"]),
        st.booleans(),
    ),
    st.tuples(st.just("manager"), st.integers(1, 6), st.integers(0, 6)),
)


def _apply(admin, tenant, registry, change) -> tuple[dict[str, Any], Any]:
    """(preview payload, the real mutation to run after it)."""
    emails = sorted(tenant.users)
    user = lambda i: global_id("User", tenant.users[emails[i % len(emails)]].id)  # noqa: E731
    kind = change[0]
    if kind == "profile":
        _, name, new_kind, mask = change
        codes = sorted(registry.permissions)
        keep = [c for i, c in enumerate(codes) if ".read" in c and not mask & (1 << (i % 16))]
        spec: dict[str, Any] = {"permissions": keep}
        if new_kind:
            spec["kind"] = new_kind
        variables = {"id": global_id("Profile", tenant.profiles[name].id), "input": spec}
        payload = admin(PROFILE, variables).data["previewProfileChange"]
        real = (
            "mutation($id: ID!, $input: UpdateProfileInput!) { updateProfile(id: $id, "
            "input: $input) { errors { code } } }",
            variables,
            "updateProfile",
        )
    elif kind == "rule":
        _, owner, grantee, entity, write = change
        create = {
            "name": "r",
            "ownerRootId": user(owner),
            "granteeRootId": user(grantee),
            "entity": entity,
            "canWrite": write,
        }
        payload = admin(RULE, {"input": {"create": create}}).data["previewSharingRuleChange"]
        real = (
            "mutation($i: CreateSharingRuleInput!) { createSharingRule(input: $i) "
            "{ errors { code } } }",
            {"i": create},
            "createSharingRule",
        )
    else:
        _, who, manager = change
        variables = {"u": user(who), "m": user(manager) if manager else None}
        payload = admin(MANAGER, variables).data["previewManagerChange"]
        real = (
            "mutation($u: ID!, $m: ID) { updateUser(id: $u, input: {managerId: $m}) "
            "{ errors { code } } }",
            variables,
            "updateUser",
        )
    return payload, real


@pytest.mark.parametrize("_", [None])  # function-scoped fixtures, one demo per run
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(changes, min_size=1, max_size=3))
def test_preview_equals_difference_of_real_evaluations(gateway, registry, demo, admin, steps, _):
    tenant = demo["demo"]
    ids = {email: u.id for email, u in tenant.users.items()}
    for change in steps:
        before = evaluate(gateway, registry, tenant.id)
        rows = counts(gateway)
        payload, (mutation, variables, root) = _apply(admin, tenant, registry, change)
        assert counts(gateway) == rows
        errors = admin(mutation, variables).data[root]["errors"]
        assert [e["code"] for e in payload["errors"]] == [e["code"] for e in errors], change
        if errors:
            continue
        assert not payload["preview"]["truncated"]
        assert previewed(payload, ids) == differences(
            before, evaluate(gateway, registry, tenant.id)
        ), change


VISIBILITY = f"""mutation($v: RecordVisibility!) {{
    previewRecordVisibilityChange(visibility: $v) {{ {RESULT} }} }}"""
ROLE = f"""mutation($u: ID!, $r: ID) {{
    previewRoleChange(userId: $u, roleId: $r) {{ {RESULT} }} }}"""


def test_role_tree_previews_match_reality(gateway, registry, demo, admin):
    """Switching visibility to the role tree, then moving a user to another role: each
    preview equals the difference the saved change makes, and saves nothing."""
    tenant = demo["demo"]
    users = tenant.users
    ids = {email: u.id for email, u in users.items()}
    before_rows, before = counts(gateway), evaluate(gateway, registry, tenant.id)
    r = admin(VISIBILITY, {"v": "ROLE_TREE"}).data["previewRecordVisibilityChange"]
    assert r["errors"] == [] and counts(gateway) == before_rows
    got = previewed(r, ids)
    saved = admin(
        """mutation { updateOrganization(input: {recordVisibility: ROLE_TREE}) {
        errors { code } } }"""
    )
    assert saved.data["updateOrganization"]["errors"] == []
    after = evaluate(gateway, registry, tenant.id)
    assert got == differences(before, after)

    roles = {x["name"]: x["id"] for x in admin("{ roles { id name } }").data["roles"]}
    rep2 = global_id("User", users["rep2@demo.test"].id)
    before_rows = counts(gateway)
    r = admin(ROLE, {"u": rep2, "r": roles["CEO"]}).data["previewRoleChange"]
    assert r["errors"] == [] and counts(gateway) == before_rows
    got = previewed(r, ids)
    assert got  # rep2 as CEO sees everyone's records below; those above lose rep2's
    moved = admin(
        "mutation($u: ID!, $r: ID) { updateUser(id: $u, input: {roleId: $r}) { errors { code } } }",
        {"u": rep2, "r": roles["CEO"]},
    )
    assert moved.data["updateUser"]["errors"] == []
    assert got == differences(after, evaluate(gateway, registry, tenant.id))
    unknown = admin(ROLE, {"u": rep2, "r": global_id("Role", 10**6)})
    assert [e["code"] for e in unknown.data["previewRoleChange"]["errors"]] == ["NOT_FOUND"]
