"""Issue 12 item 2: ``contactDuplicates`` prints no value of a field the caller's profile
hides, and groups no contacts by such a field (the group and its reason would say that two
contacts share a value the caller cannot read). Nor does any error message print a stored
value of a hidden field."""

from __future__ import annotations

import pytest

from tests.test_contacts import create, exported
from tests.test_search_leaks import hide

DUPLICATES = """{ contactDuplicates(first: 100) { reason value contacts { id } } }"""
#: Two pairs of rep1's contacts: one sharing an email, a phone and a fiscal ID, one sharing
#: only a name.
SHARED = {
    "email": "twin@dup.example",
    "phone": "+34 699 111 222",
    "fiscalId": "12345678Z",
    "fiscalIdType": "NIF",
}


@pytest.fixture
def twins(as_):
    rep1 = as_("rep1")
    a = create(rep1, firstName="Twin", lastName="Alpha", **SHARED)
    b = create(rep1, firstName="Twin", lastName="Beta", **SHARED)
    c = create(rep1, firstName="Namesake", lastName="Same")
    d = create(rep1, firstName="Namesake", lastName="Same", email="other@dup.example")
    return {a["id"], b["id"]}, {c["id"], d["id"]}


def groups(client) -> dict[str, dict[str, set[str]]]:
    """reason → value → contact ids."""
    r = client(DUPLICATES)
    assert r.errors == [], r.errors
    found: dict[str, dict[str, set[str]]] = {}
    for g in r.data["contactDuplicates"]:
        found.setdefault(g["reason"], {})[g["value"]] = {c["id"] for c in g["contacts"]}
    return found


def test_without_rules_every_reason_is_found(as_, twins):
    pair, names = twins
    found = groups(as_("rep1"))
    assert found["EMAIL"]["twin@dup.example"] == pair
    assert found["PHONE"]["699111222"] == pair
    assert found["FISCAL_ID"]["12345678Z"] == pair
    assert found["NAME"]["namesake same"] == names


#: (fields the profile hides, the reason that must disappear, the value it would print)
CASES = [
    (("email",), "EMAIL", "twin@dup.example"),
    (("emails",), "EMAIL", "twin@dup.example"),
    (("phone",), "PHONE", "699111222"),
    (("phones",), "PHONE", "699111222"),
    (("fiscalId",), "FISCAL_ID", "12345678Z"),
    (("firstName",), "NAME", "namesake same"),
    (("lastName",), "NAME", "namesake same"),
    (("displayName",), "NAME", "namesake same"),
]


@pytest.mark.parametrize(("fields", "reason", "value"), CASES)
def test_hidden_fields_neither_print_nor_group(as_, twins, fields, reason, value):
    hide(as_, *fields)
    r = as_("rep1")(DUPLICATES)
    assert r.errors == [], r.errors
    assert value not in r.body.__repr__()
    found = groups(as_("rep1"))
    assert reason not in found, found
    # the reasons the rules leave readable are still found
    pair, _ = twins
    for other, shown in (("EMAIL", "twin@dup.example"), ("FISCAL_ID", "12345678Z")):
        if other != reason:
            assert found[other][shown] == pair
    # profiles without the rules are unaffected
    assert groups(as_("manager"))[reason][value]


def test_a_hidden_fiscal_id_is_not_printed_by_an_error(as_, twins):
    """Changing the ID's type re-checks the stored ID: the refusal must not print it."""
    hide(as_, "fiscalId")
    rep1 = as_("rep1")
    pair, _ = twins
    r = rep1(
        """mutation($id: ID!) { updateContact(id: $id, input: {fiscalIdType: CIF}) {
        errors { code message field } } }""",
        {"id": sorted(pair)[0]},
    )
    errors = r.data["updateContact"]["errors"]
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"], r.body
    assert "12345678Z" not in errors[0]["message"]


@pytest.mark.parametrize(
    ("fields", "header", "value"),
    [
        (("emails",), "Email", "twin@dup.example"),
        (("email",), "Email", "twin@dup.example"),
        (("phones",), "Phone", "+34 699 111 222"),
        (("lastName",), "Name", "Twin Alpha"),
        (("fiscalId",), "Fiscal ID", "12345678Z"),
    ],
)
def test_the_export_prints_no_hidden_value(as_, twins, fields, header, value):
    """An export prints values outside the typed fields: a column showing a hidden field's
    value (under any of its names) is left out."""
    before = exported(as_("rep1"))
    assert header in [c.value for c in before[1]]
    hide(as_, *fields)
    sheet = exported(as_("rep1"))
    assert header not in [c.value for c in sheet[1]]
    cells = {str(v) for row in sheet.iter_rows(values_only=True) for v in row}
    assert value not in cells
    assert header in [c.value for c in exported(as_("manager"))[1]]
