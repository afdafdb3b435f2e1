"""google-api-python-client, built from the discovery document it ships, works against the
local fake Calendar v3 server: the protocol behaviours the two-way sync relies on (client ids
and 409, sync tokens and 410, etags and 412, rate limits) — and nothing reaches the internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.google_client import LocalOnlyHttp, calendar_client

CAL = "rep1@demo.test"


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar().running() as server:
        yield server


@pytest.fixture
def google(fake):
    return calendar_client(fake)


def _event(event_id: str | None = None, summary: str = "Call back", hour: int = 10, **extra):
    body = {
        "summary": summary,
        "start": {"dateTime": f"2026-12-01T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2026-12-01T{hour + 1:02d}:00:00Z"},
        **extra,
    }
    if event_id:
        body["id"] = event_id
    return body


def _error(call) -> HttpError:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value


def _reason(error: HttpError) -> str:
    return error.error_details[0]["reason"]


def _sync(google, **params) -> tuple[list[dict], str]:
    """Every page of a list; the items and the final nextSyncToken."""
    items, token = [], None
    while True:
        page = google.events().list(calendarId=CAL, pageToken=token, **params).execute()
        items += page["items"]
        token = page.get("nextPageToken")
        if token is None:
            return items, page["nextSyncToken"]


def test_insert_honours_the_client_id_and_keeps_private_properties(fake, google):
    made = (
        google.events()
        .insert(
            calendarId=CAL,
            body=_event("crm0task0001", extendedProperties={"private": {"crmTaskId": "T1"}}),
        )
        .execute()
    )
    assert made["id"] == "crm0task0001"
    assert made["status"] == "confirmed"
    assert made["extendedProperties"]["private"] == {"crmTaskId": "T1"}
    got = google.events().get(calendarId=CAL, eventId="crm0task0001").execute()
    assert got == made
    # Every request went to the fake on 127.0.0.1, with the bearer token, under the v3 path.
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert [r.method for r in fake.requests] == ["POST", "GET"]
    assert all(r.headers["host"].startswith("127.0.0.1:") for r in fake.requests)
    assert all(r.headers["authorization"] == "Bearer test-access-token" for r in fake.requests)
    assert fake.requests[0].path == "/calendar/v3/calendars/rep1%40demo.test/events"


def test_a_retried_insert_with_the_same_id_is_409_and_does_not_duplicate(fake, google):
    google.events().insert(calendarId=CAL, body=_event("crm0task0002")).execute()
    error = _error(google.events().insert(calendarId=CAL, body=_event("crm0task0002")))
    assert error.status_code == 409
    assert _reason(error) == "duplicate"
    assert len(google.events().list(calendarId=CAL).execute()["items"]) == 1
    # A deleted event's id stays taken.
    google.events().delete(calendarId=CAL, eventId="crm0task0002").execute()
    assert (
        _error(google.events().insert(calendarId=CAL, body=_event("crm0task0002"))).status_code
        == 409
    )


def test_bad_input_is_400(google):
    assert (
        _reason(_error(google.events().insert(calendarId=CAL, body=_event("UPPER-case"))))
        == "invalid"
    )
    no_end = {"summary": "x", "start": {"date": "2026-12-01"}}
    assert _reason(_error(google.events().insert(calendarId=CAL, body=no_end))) == "required"
    backwards = _event(start={"date": "2026-12-03"}, end={"date": "2026-12-01"})
    assert _error(google.events().insert(calendarId=CAL, body=backwards)).status_code == 400


def test_incremental_sync_returns_only_changes_including_deletions(fake, google):
    for n in range(5):
        google.events().insert(
            calendarId=CAL, body=_event(f"crm0seed{n:04d}", hour=8 + n)
        ).execute()
    items, token = _sync(google, maxResults=2)
    assert sorted(e["id"] for e in items) == [f"crm0seed{n:04d}" for n in range(5)]
    assert [r.query.get("pageToken") is not None for r in fake.requests[-3:]] == [False, True, True]

    empty = google.events().list(calendarId=CAL, syncToken=token).execute()
    assert empty["items"] == []
    token = empty["nextSyncToken"]

    fake.edit_event(CAL, "crm0seed0001", summary="Moved by the Google user")
    fake.remove_event(CAL, "crm0seed0002")
    fake.put_event(CAL, _event(summary="Made in Google"))
    changed, token = _sync(google, syncToken=token)
    by_summary = {e["summary"]: e for e in changed}
    assert set(by_summary) == {"Moved by the Google user", "Call back", "Made in Google"}
    assert by_summary["Call back"] == {
        **by_summary["Call back"],
        "id": "crm0seed0002",
        "status": "cancelled",
    }
    assert google.events().list(calendarId=CAL, syncToken=token).execute()["items"] == []


def test_an_invalidated_sync_token_is_410_and_a_full_resync_recovers(fake, google):
    google.events().insert(calendarId=CAL, body=_event("crm0task0003")).execute()
    _, token = _sync(google)
    fake.invalidate_sync_tokens(CAL)
    error = _error(google.events().list(calendarId=CAL, syncToken=token))
    assert error.status_code == 410
    assert _reason(error) == "fullSyncRequired"
    items, fresh = _sync(google)
    assert [e["id"] for e in items] == ["crm0task0003"]
    assert google.events().list(calendarId=CAL, syncToken=fresh).execute()["items"] == []
    # A sync token cannot be combined with a time window.
    clash = google.events().list(calendarId=CAL, syncToken=fresh, timeMin="2026-01-01T00:00:00Z")
    assert _error(clash).status_code == 400


def test_a_patch_with_a_stale_etag_is_412_and_changes_nothing(fake, google):
    made = google.events().insert(calendarId=CAL, body=_event("crm0task0004")).execute()
    fake.edit_event(CAL, "crm0task0004", description="Edited in Google meanwhile")
    stale = google.events().patch(calendarId=CAL, eventId="crm0task0004", body={"summary": "CRM"})
    stale.headers["If-Match"] = made["etag"]
    error = _error(stale)
    assert error.status_code == 412
    assert _reason(error) == "conditionNotMet"
    current = google.events().get(calendarId=CAL, eventId="crm0task0004").execute()
    assert current["summary"] == "Call back"
    assert current["etag"] != made["etag"]

    fresh = google.events().patch(
        calendarId=CAL,
        eventId="crm0task0004",
        body={"summary": "CRM", "extendedProperties": {"private": {"crmTaskId": "T4"}}},
    )
    fresh.headers["If-Match"] = current["etag"]
    patched = fresh.execute()
    assert patched["summary"] == "CRM"
    assert patched["description"] == "Edited in Google meanwhile"
    assert patched["extendedProperties"]["private"] == {"crmTaskId": "T4"}
    assert patched["etag"] not in (made["etag"], current["etag"])

    # update (PUT) replaces the whole event, under the same precondition.
    replace = google.events().update(
        calendarId=CAL, eventId="crm0task0004", body=_event(summary="Whole")
    )
    replace.headers["If-Match"] = current["etag"]
    assert _error(replace).status_code == 412
    replace = google.events().update(
        calendarId=CAL, eventId="crm0task0004", body=_event(summary="Whole")
    )
    replace.headers["If-Match"] = patched["etag"]
    updated = replace.execute()
    assert (updated["summary"], updated["id"]) == ("Whole", "crm0task0004")
    assert "description" not in updated


def test_delete_leaves_a_cancelled_event_seen_only_with_show_deleted(google):
    google.events().insert(calendarId=CAL, body=_event("crm0task0005")).execute()
    google.events().insert(calendarId=CAL, body=_event("crm0task0006", hour=14)).execute()
    assert google.events().delete(calendarId=CAL, eventId="crm0task0005").execute() == ""
    listed = google.events().list(calendarId=CAL).execute()["items"]
    assert [e["id"] for e in listed] == ["crm0task0006"]
    shown = google.events().list(calendarId=CAL, showDeleted=True).execute()["items"]
    assert {e["id"]: e["status"] for e in shown} == {
        "crm0task0005": "cancelled",
        "crm0task0006": "confirmed",
    }
    again = _error(google.events().delete(calendarId=CAL, eventId="crm0task0005"))
    assert (again.status_code, _reason(again)) == (410, "deleted")
    assert _error(google.events().get(calendarId=CAL, eventId="nosuch00")).status_code == 404


def test_lists_filter_by_private_property_and_time_window(google):
    google.events().insert(
        calendarId=CAL,
        body=_event("crm0task0007", extendedProperties={"private": {"origin": "crm"}}),
    ).execute()
    google.events().insert(calendarId=CAL, body=_event("crm0task0008", hour=16)).execute()
    mine = google.events().list(calendarId=CAL, privateExtendedProperty="origin=crm").execute()
    assert [e["id"] for e in mine["items"]] == ["crm0task0007"]
    late = google.events().list(calendarId=CAL, timeMin="2026-12-01T12:00:00Z").execute()
    assert [e["id"] for e in late["items"]] == ["crm0task0008"]


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rateLimitExceeded"), (403, "rateLimitExceeded")]
)
def test_rate_limits_on_demand_and_the_library_backoff(fake, google, status, reason):
    fake.fail_next(2, status=status, reason=reason)
    for _ in range(2):
        error = _error(google.events().list(calendarId=CAL))
        assert (error.status_code, _reason(error)) == (status, reason)
    assert google.events().list(calendarId=CAL).execute()["items"] == []

    # The library's own retry (num_retries) backs off on both; its sleep is skipped here.
    fake.fail_next(2, status=status, reason=reason)
    request = google.events().list(calendarId=CAL)
    request._sleep = lambda _seconds: None
    assert request.execute(num_retries=2)["items"] == []
    assert [r.status for r in fake.requests[-3:]] == [status, status, 200]


def test_a_revoked_token_is_401_and_the_client_cannot_refresh(fake, google):
    google.events().list(calendarId=CAL).execute()
    fake.revoke("test-access-token")
    # google-auth answers a 401 by refreshing; a bare access token has nothing to refresh with.
    with pytest.raises(RefreshError):
        google.events().list(calendarId=CAL).execute()
    assert fake.requests[-1].headers["authorization"] == "Bearer test-access-token"
    assert fake.requests[-1].status == 401
    other = calendar_client(fake, token="another-token")
    assert other.events().list(calendarId=CAL).execute()["items"] == []


def test_a_client_without_the_endpoint_override_is_refused_before_any_network():
    http = AuthorizedHttp(Credentials(token="x"), http=LocalOnlyHttp())
    real = build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False)
    with pytest.raises(AssertionError, match=r"www\.googleapis\.com"):
        real.events().list(calendarId=CAL).execute()
