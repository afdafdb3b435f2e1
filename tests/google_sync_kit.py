"""Fixtures and helpers of the Google Calendar sync tests: a gateway whose Google settings
point at the local fake (Calendar API and OAuth on 127.0.0.1), clients of its app, and the
connect / sync steps as a user and their browser perform them."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.jobs import run_pending
from gateway.testing import GraphQLClient
from plugins.calendar.google import client as google_client
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.google_client import LocalOnlyHttp

#: The Google account the fake's consent screen signs in as: its primary calendar's id.
CAL = "rep1.google@gmail.test"
CONNECT = "mutation { connectGoogleCalendar { authorizationUrl errors { code message } } }"
DISCONNECT = "mutation { disconnectGoogleCalendar { ok errors { code message } } }"
SYNC = "mutation { syncGoogleCalendar { job { id status } errors { code message } } }"
CONNECTION = """{ googleCalendarConnection { id connected status email calendarId
  lastSyncedAt lastError } }"""
CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id title } errors { code field message } } }"""
UPDATE = """mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) {
  task { id title deadline allDay description } errors { code field message } } }"""
DELETE = """mutation($id: ID!) { deleteTask(id: $id) { deletedId errors { code message } } }"""
TASKS = """{ tasks(first: 100) { edges { node { id title description deadline allDay
  responsible { email } } } } }"""


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar().running() as server:
        yield server


@pytest.fixture
def google_gateway(gateway: Gateway, fake: FakeGoogleCalendar, monkeypatch) -> Gateway:
    """The test gateway with Google's endpoints on the fake, and a transport that can
    reach 127.0.0.1 only."""
    monkeypatch.setattr(google_client, "transport", LocalOnlyHttp)
    settings = replace(
        gateway.settings,
        public_url="http://crm.test",
        google_client_id=fake.oauth.client_id,
        google_client_secret=fake.oauth.client_secret,
        google_auth_uri=f"{fake.root}/oauth2/auth",
        google_token_uri=f"{fake.root}/oauth2/token",
        google_revoke_uri=f"{fake.root}/oauth2/revoke",
        google_api_endpoint=fake.base_url,
    )
    return Gateway(settings=settings, db=gateway.db, registry=gateway.registry)


@pytest.fixture
def google_http(google_gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_app(google_gateway)) as http:
        yield http


@pytest.fixture
def user(demo, google_http):
    """``user("rep1")``: a signed-in client of the Google-configured app."""
    clients: dict[str, GraphQLClient] = {}

    def get(name: str) -> GraphQLClient:
        if name not in clients:
            clients[name] = GraphQLClient(google_http).login(f"{name}@demo.test")
        return clients[name]

    return get


def authorization_url(client: GraphQLClient) -> str:
    r = client(CONNECT)
    assert r.errors == [] and r.data["connectGoogleCalendar"]["errors"] == [], r
    return r.data["connectGoogleCalendar"]["authorizationUrl"]


def consent(url: str) -> dict[str, str]:
    """The user's browser on Google's consent screen: the redirect's query (code, state)."""
    http = LocalOnlyHttp()
    http.follow_redirects = False
    response, _ = http.request(url, "GET")
    assert response.status == 302, response
    location = urllib.parse.urlsplit(response["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "http://crm.test/calendar/google/callback"
    )
    return dict(urllib.parse.parse_qsl(location.query))


def callback(http: TestClient, params: dict[str, str]) -> dict[str, str]:
    """Google sends the browser to the callback; where the gateway sends it on (query)."""
    r = http.get(
        "/calendar/google/callback?" + urllib.parse.urlencode(params), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    target = urllib.parse.urlsplit(r.headers["location"])
    assert target.path == "/settings/calendar"
    return dict(urllib.parse.parse_qsl(target.query))


def connect(client: GraphQLClient, http: TestClient) -> None:
    assert callback(http, consent(authorization_url(client))) == {"google": "connected"}


def sync(client: GraphQLClient, gateway: Gateway) -> dict[str, Any]:
    """Queue a sync as the user and run the queue; the job as the user sees it."""
    r = client(SYNC)
    assert r.errors == [] and r.data["syncGoogleCalendar"]["errors"] == [], r
    job_id = r.data["syncGoogleCalendar"]["job"]["id"]
    run_pending(gateway)
    job = client(
        """query($id: ID!) { job(id: $id) { status attempts resultCounts { name value }
        errors { code message } } }""",
        {"id": job_id},
    )
    assert job.errors == [], job
    return job.data["job"]


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {c["name"]: c["value"] for c in job["resultCounts"]}


def create_task(client: GraphQLClient, title: str, deadline: str = "2026-12-10T09:00:00Z", **more):
    r = client(CREATE, {"i": {"title": title, "deadline": deadline, **more}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r
    return r.data["createTask"]["task"]["id"]


def tasks(client: GraphQLClient, own: bool = True) -> dict[str, dict[str, Any]]:
    """The tasks the client sees, by title; ``own``: only those it is responsible for (the
    demo data has others)."""
    r = client(TASKS)
    assert r.errors == [], r
    me = client("{ me { user { email } } }").data["me"]["user"]["email"]
    return {
        e["node"]["title"]: e["node"]
        for e in r.data["tasks"]["edges"]
        if not own or (e["node"]["responsible"] or {}).get("email") == me
    }


def google_event(summary: str, hour: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"2026-12-11T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2026-12-11T{hour + 1:02d}:00:00Z"},
        **extra,
    }


def live_events(fake: FakeGoogleCalendar) -> dict[str, dict[str, Any]]:
    """The calendar's events not cancelled, by summary."""
    cal = fake.calendars.get(CAL)
    events = cal.events.values() if cal else []
    return {e["summary"]: e for e in events if e.get("status") != "cancelled"}
