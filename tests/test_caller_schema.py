"""Schema per caller (issue 17 item 1): introspection shows each signed-in caller the fields
their profile may use; operations still run against the tenant's module schema, so a hidden
field stays FORBIDDEN naming it; views are built once per fingerprint, not per request."""

from __future__ import annotations

from sqlalchemy import select

from gateway.context import CallerContext, Via
from gateway.graphql.caller_schema import hidden_fields
from gateway.identity.models import User

RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""
SCHEMA = "{ __schema { types { name kind fields { name } } } }"


def _fields(client) -> set[tuple[str, str]]:
    r = client(SCHEMA)
    assert r.errors == [], r.errors
    return {
        (t["name"], f["name"])
        for t in r.data["__schema"]["types"]
        if t["kind"] == "OBJECT" and not t["name"].startswith("__")
        for f in t["fields"] or ()
    }


def _hide_for_reps(admin, *keys: tuple[str, str]) -> None:
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    rules = [{"typeName": t, "fieldName": f, "mode": "HIDDEN"} for t, f in keys]
    r = admin(RULES, {"id": rep_profile, "rules": rules})
    assert r.data["updateProfile"]["errors"] == [], r


def _hidden_for(gateway, email: str) -> frozenset[tuple[str, str]]:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    ctx = CallerContext.acting_for(gateway, user_id, via=Via.JOB)
    try:
        return hidden_fields(ctx.access)
    finally:
        ctx.close()


def test_introspection_differs_between_profiles_by_what_their_rules_hide(as_, gateway):
    admin, rep1, manager = as_("admin"), as_("rep1"), as_("manager")
    _hide_for_reps(admin, ("Contact", "phone"), ("Opportunity", "budget"))
    rep_fields, manager_fields = _fields(rep1), _fields(manager)
    rep_hidden, manager_hidden = (
        _hidden_for(gateway, "rep1@demo.test"),
        _hidden_for(gateway, "manager@demo.test"),
    )
    assert {("Contact", "phone"), ("Opportunity", "budget")} <= rep_hidden
    # nothing the rep's rules hide is shown to the rep; on the types both see, the
    # difference is exactly the fields hidden to the rep and not to the manager (types only
    # reachable through hidden fields, such as a refused mutation's payload, go with them)
    assert not rep_fields & rep_hidden
    both = {t for t, _ in rep_fields} & {t for t, _ in manager_fields}
    differ = {k for k in manager_fields - rep_fields if k[0] in both}
    assert differ == {k for k in (rep_hidden - manager_hidden) & manager_fields if k[0] in both}
    assert ("Contact", "phone") in manager_fields - rep_fields
    # fields derived from a hidden one go too (the forecast sums budgets)
    assert ("Pipeline", "forecast") in rep_hidden and ("Pipeline", "forecast") not in rep_fields
    contact = rep1('{ __type(name: "Contact") { fields { name } } }').data["__type"]
    assert "phone" not in {f["name"] for f in contact["fields"]}
    # executing still answers with the full contract: FORBIDDEN naming the field
    r = rep1("{ contacts(first: 1) { edges { node { phone } } } }")
    assert r.codes == ["FORBIDDEN"] and "Contact.phone" in r.errors[0]["message"]


def test_views_are_built_once_per_fingerprint(as_, gateway):
    admin = as_("admin")
    _hide_for_reps(admin, ("Contact", "phone"))
    before = gateway.schemas.views_built
    for name in ("rep1", "rep2", "rep1", "rep2", "rep1"):  # one profile, one view
        _fields(as_(name))
    assert gateway.schemas.views_built == before + 1
    _fields(admin)  # sees everything: the module set's own schema, no view
    assert gateway.schemas.views_built == before + 1


def test_introspection_stands_alone(as_):
    r = as_("rep1")("{ __schema { queryType { name } } me { user { email } } }")
    assert r.codes == ["BAD_USER_INPUT"]
    ok = as_("rep1")("{ __typename __schema { queryType { name } } }")
    assert ok.errors == [] and ok.data["__schema"] == {"queryType": {"name": "Query"}}
