"""Filtering or sorting by a field the caller's profile hides is refused in every module's
list (contacts are covered in test_contacts.py): matches, order and cursors would reveal it."""

from __future__ import annotations

import pytest

RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""


@pytest.mark.parametrize(
    ("rule", "query", "field"),
    [
        (("Lead", "email"), '{ leads(filter: {search: "x"}) { totalCount } }', "Lead.email"),
        (("Lead", "name"), "{ leads(orderBy: {field: NAME}) { totalCount } }", "Lead.name"),
        (
            ("Opportunity", "title"),
            "{ opportunities(orderBy: {field: TITLE}) { totalCount } }",
            "Opportunity.title",
        ),
        (
            ("Opportunity", "responsible"),
            "{ opportunities(filter: {mine: true}) { totalCount } }",
            "Opportunity.responsible",
        ),
        (
            ("Invoice", "dueDate"),
            "{ invoices(filter: {overdue: true}) { totalCount } }",
            "Invoice.dueDate",
        ),
        (
            ("Invoice", "createdAt"),
            "{ invoices(orderBy: {field: CREATED_AT}) { totalCount } }",
            "Invoice.createdAt",
        ),
    ],
)
def test_filters_and_orders_on_hidden_fields_are_refused(as_, rule, query, field):
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    type_name, field_name = rule
    r = admin(
        RULES,
        {
            "id": rep_profile,
            "rules": [{"typeName": type_name, "fieldName": field_name, "mode": "HIDDEN"}],
        },
    )
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body
    refused = as_("rep1")(query)
    assert refused.codes == ["FORBIDDEN"], refused.errors
    assert refused.errors[0]["extensions"]["fields"] == [field]
    assert as_("manager")(query).errors == []  # other profiles are unaffected
