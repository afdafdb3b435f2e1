"""Connecting a Google account (issue 15, item 8): the OAuth 2.0 authorisation-code flow with
PKCE against the local fake — the state bound to the user and used once, the verifier
checked by the token endpoint, the refresh token encrypted at rest, disconnect revokes."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from datetime import timedelta

from sqlalchemy import select

from plugins.calendar.google.models import GoogleConnection, GoogleOAuthState
from tests.google_sync_kit import (
    CONNECT,
    CONNECTION,
    DISCONNECT,
    SYNC,
    authorization_url,
    callback,
    connect,
    consent,
    fake,
    google_gateway,
    google_http,
    user,
)

__all__ = ["fake", "google_gateway", "google_http", "user"]


def _stored(gateway, email="rep1@demo.test") -> GoogleConnection | None:
    from gateway.identity.models import User

    with gateway.db.reading() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        return session.scalars(
            select(GoogleConnection).where(GoogleConnection.user_id == user_id)
        ).first()


def test_connect_stores_the_refresh_token_encrypted(google_gateway, google_http, user, fake):
    rep1 = user("rep1")
    assert rep1(CONNECTION).data == {"googleCalendarConnection": None}
    url = authorization_url(rep1)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(f"{fake.root}/oauth2/auth?")
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://crm.test/calendar/google/callback"
    assert query["access_type"] == "offline"
    assert "https://www.googleapis.com/auth/calendar.events" in query["scope"].split()
    # The verifier never leaves the server: only its S256 challenge is in the URL.
    with google_gateway.db.reading() as session:
        [attempt] = session.scalars(select(GoogleOAuthState)).all()
    verifier = google_gateway.secret_box.decrypt(attempt.code_verifier)
    assert verifier not in url and attempt.code_verifier != verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query["code_challenge"] == challenge.rstrip(b"=").decode()

    assert callback(google_http, consent(url)) == {"google": "connected"}
    [token_request] = [r for r in fake.oauth.requests if r.path == "token"]
    assert token_request.form["code_verifier"] == verifier
    [refresh] = fake.oauth.refresh_tokens
    stored = _stored(google_gateway)
    assert stored is not None and stored.refresh_token != refresh
    assert refresh not in stored.refresh_token
    assert google_gateway.secret_box.decrypt(stored.refresh_token) == refresh
    with google_gateway.db.reading() as session:
        assert session.scalars(select(GoogleOAuthState)).all() == []  # used up

    got = rep1(CONNECTION).data["googleCalendarConnection"]
    assert {k: got[k] for k in ("connected", "status", "email", "calendarId", "lastError")} == {
        "connected": True,
        "status": "CONNECTED",
        "email": "rep1.google@gmail.test",
        "calendarId": "rep1.google@gmail.test",
        "lastError": None,
    }
    assert user("rep2")(CONNECTION).data == {"googleCalendarConnection": None}


def test_an_altered_or_reused_state_is_refused(google_gateway, google_http, user):
    rep1 = user("rep1")
    params = consent(authorization_url(rep1))
    nonce, _, signature = params["state"].partition(".")
    forged = {**params, "state": f"{nonce}.{'0' * len(signature)}"}
    assert callback(google_http, forged) == {"google": "error", "reason": "invalid_state"}
    assert callback(google_http, {**params, "state": "nothing"})["reason"] == "invalid_state"
    assert callback(google_http, params) == {"google": "connected"}
    # used once: the same redirect again is refused
    assert callback(google_http, params) == {"google": "error", "reason": "invalid_state"}
    assert callback(google_http, {"code": "x"})["reason"] == "invalid_state"


def test_a_code_with_another_attempts_verifier_is_refused(google_gateway, google_http, user):
    """PKCE: a code issued for rep1's attempt, delivered with rep2's state, is exchanged
    with rep2's verifier — the token endpoint refuses it, nobody gets connected."""
    rep1_params = consent(authorization_url(user("rep1")))
    rep2_params = consent(authorization_url(user("rep2")))
    swapped = {"code": rep1_params["code"], "state": rep2_params["state"]}
    assert callback(google_http, swapped) == {"google": "error", "reason": "invalid_grant"}
    assert _stored(google_gateway, "rep2@demo.test") is None
    assert _stored(google_gateway, "rep1@demo.test") is None
    # rep2's state is used up; rep1's own attempt still works
    assert callback(google_http, rep1_params) == {"google": "connected"}


def test_a_denied_consent_connects_nothing(google_gateway, google_http, user):
    params = consent(authorization_url(user("rep1")))
    denied = {"error": "access_denied", "state": params["state"]}
    assert callback(google_http, denied) == {"google": "error", "reason": "access_denied"}
    assert _stored(google_gateway) is None


def test_disconnect_revokes_and_forgets(google_gateway, google_http, user, fake):
    rep1 = user("rep1")
    connect(rep1, google_http)
    [refresh] = fake.oauth.refresh_tokens
    r = rep1(DISCONNECT)
    assert r.data["disconnectGoogleCalendar"] == {"ok": True, "errors": []}
    assert refresh in fake.oauth.revoked
    assert _stored(google_gateway) is None
    assert rep1(CONNECTION).data == {"googleCalendarConnection": None}
    again = rep1(DISCONNECT).data["disconnectGoogleCalendar"]
    assert again["ok"] is False and again["errors"][0]["code"] == "BAD_USER_INPUT"
    refused = rep1(SYNC).data["syncGoogleCalendar"]
    assert refused["job"] is None and refused["errors"][0]["code"] == "BAD_USER_INPUT"


def test_connecting_is_refused_when_the_server_has_no_google_client(as_):
    r = as_("rep1")(CONNECT)
    assert r.errors == []
    payload = r.data["connectGoogleCalendar"]
    assert payload["authorizationUrl"] is None
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"


def test_signed_out_callers_get_nothing(gql):
    assert gql(CONNECTION).errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert gql(CONNECT).errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_expired_attempt_is_refused(google_gateway, google_http, user):
    params = consent(authorization_url(user("rep1")))
    with google_gateway.db.transaction() as session:
        attempt = session.scalars(select(GoogleOAuthState)).one()
        attempt.created_at = attempt.created_at - timedelta(minutes=11)
    assert callback(google_http, params) == {"google": "error", "reason": "expired_state"}
    assert _stored(google_gateway) is None


def test_no_connection_while_the_calendar_is_switched_off(google_gateway, google_http, user):
    params = consent(authorization_url(user("rep1")))
    switch = """mutation { setModuleEnabled(name: "calendar", enabled: false) {
      errors { code } } }"""
    assert user("admin")(switch).data["setModuleEnabled"]["errors"] == []
    assert callback(google_http, params) == {"google": "error", "reason": "module_disabled"}
    assert _stored(google_gateway) is None
