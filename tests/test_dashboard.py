"""The kernel's ``dashboard`` query: periods in the organisation's time zone, visibility."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.dashboard import periods_for


def test_periods_start_at_local_midnight_monday_and_first_of_month():
    # Sunday 2026-03-29 10:00 UTC is 12:00 in Madrid, the day summer time began (02:00 → 03:00).
    p = periods_for("Europe/Madrid", datetime(2026, 3, 29, 10, 0, tzinfo=UTC))
    assert p.today == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # midnight was still UTC+1
    assert p.week == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # Monday 23 March
    assert p.month == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    # Just after midnight local time it is already the next day there, not in UTC.
    p = periods_for("Asia/Tokyo", datetime(2026, 11, 22, 15, 30, tzinfo=UTC))
    assert p.today == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def test_dashboard_counts_only_visible_contacts_and_filters_modules(demo, client_for):
    rep2 = client_for("rep2@demo.test")
    created = rep2(
        'mutation { createContact(input: {kind: PERSON, firstName: "Fresh"}) { errors { code } } }'
    )
    assert created.data["createContact"]["errors"] == []
    r = rep2('{ dashboard(modules: ["contacts"]) { timezone figures { key count } } }')
    figures = {f["key"]: f["count"] for f in r.data["dashboard"]["figures"]}
    assert figures["contacts.newToday"] >= 1
    assert figures["contacts.newThisWeek"] >= figures["contacts.newToday"]
    admin_total = {
        f["key"]: f["count"]
        for f in client_for("admin@demo.test")("{ dashboard { figures { key count } } }").data[
            "dashboard"
        ]["figures"]
    }["contacts.total"]
    assert figures["contacts.total"] < admin_total
    r = rep2('{ dashboard(modules: ["notes"]) { figures { key } } }')
    assert all(not f["key"].startswith("contacts.") for f in r.data["dashboard"]["figures"])
