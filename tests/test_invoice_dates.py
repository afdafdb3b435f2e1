"""Issue dates and date arithmetic of invoices (issue 12, item 6).

Issue dates are bounded — at most one day after the organisation's today, at most ten years
back — so no user who may issue invoices can block a series by dating one in the far future
(dates follow the numbers within a series). Series that old data already blocked are
unblocked by an administrator (``rebaseInvoiceSeries``). Every date computed from a typed
date (due terms, duplicates) answers BAD_USER_INPUT instead of overflowing the calendar.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gateway.db import utcnow
from plugins.invoices import services
from plugins.invoices.models import DueTerm, Invoice, InvoiceSeries, InvoiceStatus
from tests.test_invoices import (
    CREATE,
    ISSUE_ON,
    catalogue,
    contact_id,
    create,
    create_contact,
    service_line,
)

SERIES = """{ invoiceSeries { id name nextFormatted } }"""
SAVE_SERIES = """mutation($i: InvoiceSeriesInput!) { saveInvoiceSeries(input: $i) {
  series { id } errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateInvoiceInput!) { updateInvoice(id: $id, input: $input)
  { invoice { id issueDate dueDate } errors { code message field } } }"""
DUPLICATE = """mutation($id: ID!) { duplicateInvoice(id: $id) {
  invoice { id issueDate dueDate } errors { code message field } } }"""
REBASE = """mutation($id: ID!) { rebaseInvoiceSeries(id: $id) {
  series { id nextFormatted } redated { id number issueDate dueDate }
  errors { code message field } } }"""


def stored_date(gateway, global_id, *, issue=None, due=None) -> None:
    """Write a draft's dates directly, as data from before dates were bounded."""
    pk = int(base64.b64decode(global_id).decode().split(":")[1])
    with gateway.db.transaction() as session:
        invoice = session.get_one(Invoice, pk)
        invoice.issue_date = issue or invoice.issue_date
        invoice.due_date = due or invoice.due_date


def tenant_today(gateway, demo) -> date:
    with gateway.db.transaction() as session:
        return services.tenant_today(session, demo["demo"].id)


def invoice_count(gateway) -> int:
    with gateway.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Invoice))


def issue_on(client, invoice_id, when, number=None):
    return client(ISSUE_ON, {"id": invoice_id, "n": number, "d": str(when)})


def draft(client, client_id=None, **fields):
    _taxes, items = catalogue(client)
    return create(
        client,
        clientId=client_id or contact_id(client, "Iberia Logistics S.L."),
        lines=[service_line(items)],
        **fields,
    )


def refused_on(response, field="issueDate", code="BAD_USER_INPUT"):
    """Refused with ``code`` on ``field``: by the Date scalar at the edge (years outside
    1900-2999, a GraphQL error) or by the service (the payload's errors)."""
    if response.errors:
        found = [
            (e["extensions"].get("code"), e["extensions"].get("field", "").removeprefix("input."))
            for e in response.errors
        ]
    else:
        (payload,) = response.data.values()
        assert payload["invoice"] is None, payload
        found = [(e["code"], e["field"]) for e in payload["errors"]]
    assert found == [(code, field)], response.body


def accepted(response):
    assert response.errors == [], response.errors
    (payload,) = response.data.values()
    assert payload["errors"] == [], payload
    return payload["invoice"]


# -- issue date bounds ---------------------------------------------------------------------


@pytest.mark.parametrize("manual", [False, True], ids=["series", "manual-number"])
def test_issue_dates_after_tomorrow_are_refused_and_nothing_changes(as_, gateway, demo, manual):
    backoffice = as_("backoffice")  # may issue manual numbers
    today = tenant_today(gateway, demo)
    number = "HAND-1" if manual else None
    before = backoffice(SERIES).data["invoiceSeries"]
    inv = draft(backoffice)
    for when in ("9000-01-01", "9999-12-31", today + timedelta(days=2)):
        refused_on(issue_on(backoffice, inv["id"], when, number))
    assert backoffice(SERIES).data["invoiceSeries"] == before  # no number consumed
    r = backoffice("query($id: ID!) { invoice(id: $id) { status number } }", {"id": inv["id"]})
    assert r.data["invoice"] == {"status": "DRAFT", "number": None}
    # One day ahead is tolerated (a user's calendar may be a day ahead of the organisation's).
    ok = accepted(issue_on(backoffice, inv["id"], today + timedelta(days=1), number))
    assert ok["issueDate"] == str(today + timedelta(days=1))


def test_a_rep_cannot_block_the_series_for_everyone(as_, gateway, demo):
    rep1, rep2 = as_("rep1"), as_("rep2")
    refused_on(issue_on(rep1, draft(rep1)["id"], "9000-01-01"))
    today = tenant_today(gateway, demo)
    own_client = create_contact(rep2, companyName="Rep2 Client S.L.")
    assert accepted(issue_on(rep2, draft(rep2, own_client)["id"], today))["issueDate"] == str(today)


def test_issue_dates_more_than_ten_years_back_are_refused(as_, gateway, demo):
    admin = as_("admin")
    today = tenant_today(gateway, demo)
    r = admin(SAVE_SERIES, {"i": {"name": "Archive", "prefix": "ARC"}})
    series = r.data["saveInvoiceSeries"]["series"]["id"]
    inv = draft(admin, seriesId=series)
    earliest = date(today.year - 10, 1, 1)
    for when in ("0001-01-01", "1900-01-01", earliest - timedelta(days=1)):
        refused_on(issue_on(admin, inv["id"], when))
    assert accepted(issue_on(admin, inv["id"], earliest))["issueDate"] == str(earliest)


# -- date arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["DAYS_15", "DAYS_30", "DAYS_45"])
def test_due_terms_past_the_calendar_end_are_bad_user_input(as_, gateway, term):
    rep1 = as_("rep1")
    _taxes, items = catalogue(rep1)
    client = contact_id(rep1, "Iberia Logistics S.L.")
    before = invoice_count(gateway)
    r = rep1(
        CREATE,
        {
            "input": {
                "clientId": client,
                "issueDate": "9999-12-31",
                "dueTerm": term,
                "lines": [service_line(items)],
            }
        },
    )
    refused_on(r)
    assert invoice_count(gateway) == before
    inv = draft(rep1)
    for change in (
        {"issueDate": "9999-12-31", "dueTerm": term},
        {"issueDate": "9999-12-20", "dueTerm": term},
    ):
        refused_on(rep1(UPDATE, {"id": inv["id"], "input": change}))
    r = rep1("query($id: ID!) { invoice(id: $id) { issueDate } }", {"id": inv["id"]})
    assert r.data["invoice"]["issueDate"] == inv["issueDate"]  # rolled back
    # A draft stored that late before dates were bounded: changing its term is refused too.
    stored_date(gateway, inv["id"], issue=date(9999, 12, 20))
    refused_on(rep1(UPDATE, {"id": inv["id"], "input": {"dueTerm": term}}))


def test_duplicating_a_due_date_past_the_calendar_end_is_bad_user_input(as_, gateway):
    rep1 = as_("rep1")
    # A draft may be dated anywhere (the date is provisional); a due date nearly 8000 years
    # after it cannot be carried over to a copy dated today.
    inv = draft(rep1, issueDate="2001-01-01", dueTerm="DATE", dueDate="2001-01-31")
    stored_date(gateway, inv["id"], due=date(9999, 12, 31))  # as stored before the bounds
    before = invoice_count(gateway)
    refused_on(rep1(DUPLICATE, {"id": inv["id"]}), field="dueDate")
    assert invoice_count(gateway) == before


# -- unblocking a series that old data blocked ---------------------------------------------


def _old_blocking_invoice(gateway, demo, when: date, term: DueTerm, due: date) -> int:
    """An invoice issued before issue dates were bounded, dated ``when`` (written directly,
    as the old data would be)."""
    tenant = demo["demo"]
    with gateway.db.transaction() as session:
        series = session.scalar(
            select(InvoiceSeries).where(
                InvoiceSeries.tenant_id == tenant.id, InvoiceSeries.is_default.is_(True)
            )
        )
        source = session.scalar(
            select(Invoice).where(
                Invoice.tenant_id == tenant.id, Invoice.status == InvoiceStatus.DRAFT
            )
        )
        blocking = Invoice(
            tenant_id=tenant.id,
            status=InvoiceStatus.BILLED,
            series_id=series.id,
            number=series.next_number,
            number_text=series.format(series.next_number),
            issue_date=when,
            due_term=term,
            due_date=due,
            contact_id=source.contact_id,
            owner_id=tenant.users["rep1@demo.test"].id,
            total=Decimal(10),
            issued_at=utcnow(),
        )
        series.next_number += 1
        session.add(blocking)
        session.flush()
        return blocking.id


def test_an_administrator_unblocks_a_series_blocked_by_old_data(as_, gateway, demo):
    admin, rep1, backoffice = as_("admin"), as_("rep1"), as_("backoffice")
    today = tenant_today(gateway, demo)
    _old_blocking_invoice(gateway, demo, date(9000, 1, 1), DueTerm.DAYS_30, date(9000, 1, 31))
    _old_blocking_invoice(
        gateway, demo, date(9000, 6, 1), DueTerm.DATE, date(9000, 6, 1) + timedelta(days=10)
    )
    inv = draft(rep1)
    refused_on(issue_on(rep1, inv["id"], today))  # the series is blocked
    series = next(s for s in admin(SERIES).data["invoiceSeries"] if s["name"] == "Default")
    # Re-dating issued invoices is for administrators only (not for settings managers).
    for client in (rep1, backoffice):
        r = client(REBASE, {"id": series["id"]})
        assert r.codes == ["FORBIDDEN"], r.body
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    r = admin(REBASE, {"id": series["id"]})
    assert r.errors == [], r.errors
    payload = r.data["rebaseInvoiceSeries"]
    assert payload["errors"] == []
    assert payload["series"]["nextFormatted"] == series["nextFormatted"]  # numbers untouched
    # Each is dated the day it was really issued; due dates move with them.
    assert [(i["issueDate"], i["dueDate"]) for i in payload["redated"]] == [
        (str(today), str(today + timedelta(days=30))),
        (str(today), str(today + timedelta(days=10))),
    ]
    trail = admin("{ auditTrail { entity kind } }").data["auditTrail"]
    assert trail.count({"entity": "invoice", "kind": "updated"}) == 2
    # The series works again, and a second run has nothing to do.
    assert accepted(issue_on(rep1, inv["id"], today))["number"] == series["nextFormatted"]
    again = admin(REBASE, {"id": series["id"]}).data["rebaseInvoiceSeries"]
    assert again["errors"] == [] and again["redated"] == []


def test_rebasing_an_unknown_series_is_not_found(as_):
    admin = as_("admin")
    r = admin(REBASE, {"id": "SW52b2ljZVNlcmllczo5OTk5OTk="})  # InvoiceSeries:999999
    assert r.errors == [], r.errors
    payload = r.data["rebaseInvoiceSeries"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "id")]
