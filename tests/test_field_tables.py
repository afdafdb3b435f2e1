"""Declared field tables (``gateway.sdk.DeclaredField``): every field they name exists in the
published schema, the leads services read their mappings from them, and the rows an import
will read say how to parse a cell and whether it is required."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType

from gateway.fieldtable import Feature, ValueKind, having
from plugins.contacts import fields as contact_fields
from plugins.leads import fields as lead_fields
from plugins.leads.services.common import written_fields
from plugins.leads.services.leads import LEAD_TEXT

TABLES = [
    ("Lead", lead_fields.LEAD_FIELDS),
    ("Opportunity", lead_fields.OPPORTUNITY_FIELDS),
    ("Contact", contact_fields.FIELDS),
]


@pytest.mark.parametrize(("type_name", "table"), TABLES)
def test_every_field_a_table_names_is_published(gateway, type_name, table):
    schema = gateway.schemas.full()._schema
    for declared in table:
        for read in declared.reads:
            owner, _, field = read.rpartition(".")
            gql_type = schema.type_map[owner or type_name]
            assert isinstance(gql_type, GraphQLObjectType)
            assert field in gql_type.fields, f"{declared.name}: {read}"


def test_the_leads_services_read_the_table():
    assert written_fields("Opportunity", ["amount", "owner_id"]) == {
        "budget",
        "Budget.amount",
        "responsible",
    }
    assert written_fields("Lead", ["company_contact_id", "notes"]) == {"companyContact", "notes"}
    assert LEAD_TEXT == {"name": 200, "company": 200, "source": 80, "notes": 20_000}


def test_import_rows_say_how_to_read_a_cell():
    lead_import = {f.name: f for f in having(lead_fields.LEAD_FIELDS, Feature.IMPORT)}
    assert lead_import["name"].required and lead_import["name"].kind is ValueKind.TEXT
    assert lead_import["email"].kind is ValueKind.EMAIL
    assert lead_import["phone"].kind is ValueKind.PHONE
    assert lead_import["owner"].kind is ValueKind.REFERENCE
    assert [f.name for f in lead_fields.LEAD_IMPORT] == list(lead_import)
    opportunity = {f.name: f for f in lead_fields.OPPORTUNITY_IMPORT}
    assert opportunity["title"].required
    assert opportunity["expectedCloseDate"].kind is ValueKind.DATE
    assert opportunity["amount"].kind is ValueKind.DECIMAL
    for table in (lead_fields.LEAD_IMPORT, lead_fields.OPPORTUNITY_IMPORT):
        assert all(f.attr and f.kind is not ValueKind.LIST for f in table)


def test_the_contact_table_names_its_import_columns():
    imported = {f.name: f for f in contact_fields.IMPORTED}
    assert imported["email"].import_as is ValueKind.EMAIL
    assert imported["discount"].import_as is ValueKind.DECIMAL
    assert imported["owner"].import_as is ValueKind.REFERENCE
    assert Feature.IMPORT in imported["lastName"].features
    assert {Feature.EXPORT, Feature.MERGE, Feature.WEB_FORM} <= imported["city"].features
    assert "customFields" not in imported and "displayName" not in imported
