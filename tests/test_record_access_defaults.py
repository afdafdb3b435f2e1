"""Default record access per entity: an organisation chooses the level new records get."""

from __future__ import annotations

import pytest

DEFAULTS = "{ recordAccessDefaults { entity access builtin } }"
SET = """mutation($e: String!, $a: AccessLevel) { setRecordAccessDefault(entity: $e, access: $a) {
  default { entity access builtin } errors { code field } } }"""
CREATE_OPP = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id access } errors { code message } } }"""
SEE = "query($id: ID!) { opportunity(id: $id) { title } }"


@pytest.fixture
def admin(demo, as_):
    return as_("admin")


def test_builtin_defaults_and_who_may_change_them(admin, as_):
    found = {d["entity"]: d for d in admin(DEFAULTS).data["recordAccessDefaults"]}
    assert found["case"] == {"entity": "case", "access": "PUBLIC_WRITE", "builtin": True}
    assert found["contact"] == {"entity": "contact", "access": "PRIVATE", "builtin": True}
    assert as_("rep1")(DEFAULTS).codes == ["FORBIDDEN"]
    assert as_("rep1")(SET, {"e": "contact", "a": "PUBLIC_READ"}).codes == ["FORBIDDEN"]
    bad = admin(SET, {"e": "spaceship", "a": "PRIVATE"}).data["setRecordAccessDefault"]
    assert bad == {"default": None, "errors": [{"code": "BAD_USER_INPUT", "field": "entity"}]}


def test_new_records_get_the_organisations_default(admin, as_):
    """Opportunities are open to every user unless restricted (the seeds' default); an
    organisation may make them private by default instead."""
    rep1, rep2 = as_("rep1"), as_("rep2")
    found = {d["entity"]: d for d in admin(DEFAULTS).data["recordAccessDefaults"]}
    assert found["opportunity"] == {
        "entity": "opportunity",
        "access": "PUBLIC_WRITE",
        "builtin": True,
    }

    def create(title: str) -> dict:
        return rep1(CREATE_OPP, {"i": {"title": title}}).data["createOpportunity"]["opportunity"]

    opened = create("Open to all")
    assert opened["access"] == "PUBLIC_WRITE"
    assert rep2(SEE, {"id": opened["id"]}).data["opportunity"] == {"title": "Open to all"}

    chosen = admin(SET, {"e": "opportunity", "a": "PRIVATE"}).data["setRecordAccessDefault"]
    assert chosen["default"] == {"entity": "opportunity", "access": "PRIVATE", "builtin": False}
    private = create("Private by default")
    assert private["access"] == "PRIVATE"
    assert rep2(SEE, {"id": private["id"]}).data["opportunity"] is None
    # a level given by the creator still wins
    given = rep1(CREATE_OPP, {"i": {"title": "Mine", "access": "PUBLIC_READ"}}).data
    assert given["createOpportunity"]["opportunity"]["access"] == "PUBLIC_READ"
    # other organisations keep their own default
    acme = as_("admin@acme.test")(DEFAULTS).data["recordAccessDefaults"]
    assert {"entity": "opportunity", "access": "PUBLIC_WRITE", "builtin": True} in acme

    reset = admin(SET, {"e": "opportunity", "a": None}).data["setRecordAccessDefault"]
    assert reset["default"]["builtin"] is True
    assert create("After reset")["access"] == "PUBLIC_WRITE"
    log = admin('{ auditLog(filter: {actions: ["access.default_access_set"]}) { totalCount } }')
    assert log.data["auditLog"]["totalCount"] == 2


def test_leaving_out_the_level_returns_to_the_builtin_one(admin):
    """``access`` may be left out, as null: the built-in level (the fuzzer's find: leaving
    it out was an internal error)."""
    r = admin(SET, {"e": "contact", "a": "PUBLIC_READ"})
    assert r.data["setRecordAccessDefault"]["errors"] == []
    r = admin(
        'mutation { setRecordAccessDefault(entity: "contact") { default { access builtin } } }'
    )
    assert r.errors == [] and r.data["setRecordAccessDefault"]["default"] == {
        "access": "PRIVATE",
        "builtin": True,
    }
