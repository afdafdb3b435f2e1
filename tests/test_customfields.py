"""The kernel's custom-field values: coercion refuses what cannot be stored, and numbers
print in plain notation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from gateway.customfields import FieldType, coerce, plain_decimal
from gateway.errors import BadUserInput


@dataclass
class _Def:
    type: FieldType
    key: str = "k"
    label: str = "K"
    required: bool = False
    id: int = 1
    choices: str = "a\nb"

    @property
    def choice_list(self) -> list[str]:
        return self.choices.split("\n")


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-inf", "1e999999", "1e12", "x", ""])
def test_numbers_must_be_finite_and_fit_the_column(raw):
    with pytest.raises(BadUserInput) as err:
        coerce(_Def(FieldType.NUMBER), raw, "customFields")
    assert err.value.field == "customFields"


@pytest.mark.parametrize(
    ("kind", "raw", "typed"),
    [
        (FieldType.NUMBER, "12.50", Decimal("12.50")),
        (FieldType.BOOLEAN, "TRUE", True),
        (FieldType.CHOICE, "b", "b"),
        (FieldType.TEXT, "x" * 500, "x" * 500),
    ],
)
def test_valid_values_are_typed(kind, raw, typed):
    assert coerce(_Def(kind), raw, "customFields") == typed


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (FieldType.BOOLEAN, "yes"),
        (FieldType.CHOICE, "c"),
        (FieldType.TEXT, "x" * 501),
        (FieldType.DATE, "9999-99-99"),
    ],
)
def test_invalid_values_are_bad_user_input(kind, raw):
    with pytest.raises(BadUserInput):
        coerce(_Def(kind), raw, "customFields")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("10", "10"),
        ("10.000000", "10"),
        ("1E+1", "10"),
        ("0.50", "0.5"),
        ("0", "0"),
        ("-0.000100", "-0.0001"),
        ("123456789012.5", "123456789012.5"),
    ],
)
def test_decimals_print_in_plain_notation(value, text):
    assert plain_decimal(Decimal(value)) == text


# -- the definition root fields: one kit, the same rules for every entity ----------------------

ENTITIES = [
    ("contactCustomFields", "createContactCustomField", "deleteContactCustomField"),
    ("opportunityCustomFields", "createOpportunityCustomField", "deleteOpportunityCustomField"),
]


def test_contacts_and_opportunities_publish_the_kernel_kit():
    from plugins.contacts import api as contacts_api
    from plugins.contacts.customfields_api import CUSTOM_FIELDS as CONTACT_FIELDS
    from plugins.leads import api as leads_api
    from plugins.leads.api.settings import CUSTOM_FIELDS as OPPORTUNITY_FIELDS

    for kit, api in ((CONTACT_FIELDS, contacts_api), (OPPORTUNITY_FIELDS, leads_api)):
        assert kit.query in api.QUERY_FIELDS
        assert kit.create in api.MUTATION_FIELDS and kit.delete in api.MUTATION_FIELDS


@pytest.mark.parametrize(("listed", "create", "delete"), ENTITIES)
def test_definition_fields_behave_alike(as_, listed, create, delete):
    admin = as_("admin")
    made = f"""mutation($k: String!, $t: CustomFieldType!, $c: [String!]) {{
      {create}(key: $k, label: " ", type: $t, choices: $c, required: true) {{
        customField {{ id key label type choices required }} errors {{ code field }} }} }}"""

    def run(key: str, kind: str = "CHOICE", choices: list[str] | None = None) -> dict:
        r = admin(made, {"k": key, "t": kind, "c": choices})
        assert r.errors == [], r.errors
        return r.data[create]

    assert run("not a key")["errors"] == [{"code": "BAD_USER_INPUT", "field": "key"}]
    assert run("size")["errors"] == [{"code": "BAD_USER_INPUT", "field": "choices"}]
    first = run("kit_size", choices=[" S ", "", "M"])
    assert first["errors"] == []
    assert {k: v for k, v in first["customField"].items() if k != "id"} == {
        "key": "kit_size",
        "label": "kit_size",  # a blank label falls back to the key
        "type": "CHOICE",
        "choices": ["S", "M"],
        "required": True,
    }
    assert run("kit_size", kind="TEXT")["errors"] == [{"code": "CONFLICT", "field": None}]
    keys = [f["key"] for f in admin(f"{{ {listed} {{ key }} }}").data[listed]]
    assert keys[-1] == "kit_size" and keys.count("kit_size") == 1  # last, once

    gone = f"mutation($id: ID!) {{ {delete}(id: $id) {{ ok errors {{ code field }} }} }}"
    field_id = first["customField"]["id"]
    assert admin(gone, {"id": field_id}).data[delete] == {"ok": True, "errors": []}
    assert admin(gone, {"id": field_id}).data[delete] == {
        "ok": False,
        "errors": [{"code": "NOT_FOUND", "field": "id"}],
    }
    assert "kit_size" not in [f["key"] for f in admin(f"{{ {listed} {{ key }} }}").data[listed]]
    assert as_("rep1")(made, {"k": "kit_rep", "t": "TEXT", "c": None}).codes == ["FORBIDDEN"]
