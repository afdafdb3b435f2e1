"""Google's OAuth 2.0 endpoints, faked on the same local server as the Calendar API:
``GET /oauth2/auth`` (the consent screen: consents at once as ``email`` and redirects back
with a code), ``POST /oauth2/token`` (authorization_code with PKCE S256, refresh_token) and
``POST /oauth2/revoke``. Errors in Google's shape (``{"error": "invalid_grant"}``).

Access tokens it issues are the ones the Calendar fake accepts; revoking a refresh token
revokes them too (the Calendar answers 401, and refreshing is ``invalid_grant``)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.google_calendar import FakeGoogleCalendar

PREFIX = "/oauth2/"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    email: str
    used: bool = False


@dataclass
class Refresh:
    email: str
    client_id: str
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class OAuthRecord:
    path: str
    form: dict[str, str]
    status: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeGoogleOAuth:
    """The authorisation server's state; ``calendar`` is the API whose tokens it issues."""

    def __init__(self, calendar: FakeGoogleCalendar) -> None:
        self.calendar = calendar
        self.client_id = "test-client.apps.googleusercontent.test"
        self.client_secret = "test-client-secret"
        #: The Google account that consents on the fake consent screen.
        self.email = "rep1.google@gmail.test"
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Refresh] = {}
        self.revoked: set[str] = set()
        self.requests: list[OAuthRecord] = []
        self._lock = threading.RLock()

    # -- test controls -------------------------------------------------------------------

    def revoke_all(self) -> None:
        """The user removed the app's access in their Google account."""
        with self._lock:
            for token in list(self.refresh_tokens):
                self._revoke(token)

    # -- endpoints -----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            name = path[len(PREFIX) :]
            if name == "auth" and method == "GET":
                answer = self._consent(query)
            elif name == "token" and method == "POST":
                answer = self._token(form)
            elif name == "revoke" and method == "POST":
                answer = self._revoke_endpoint(form)
            else:
                answer = (404, {"error": "not_found"}, {})
            self.requests.append(OAuthRecord(name, dict(form or query), answer[0]))
            return answer

    def _consent(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if query.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}, {}
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {"error": "invalid_request"}, {}
        if not query.get("code_challenge") or not query.get("redirect_uri"):
            return 400, {"error": "invalid_request"}, {}
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            self.client_id, query["redirect_uri"], query["code_challenge"], self.email
        )
        back = {"code": code, "state": query.get("state", "")}
        location = f"{query['redirect_uri']}?{urllib.parse.urlencode(back)}"
        return 302, None, {"Location": location}

    def _client_ok(self, form: dict[str, str]) -> bool:
        return (
            form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )

    def _token(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if not self._client_ok(form):
            return 401, {"error": "invalid_client"}, {}
        kind = form.get("grant_type")
        if kind == "authorization_code":
            grant = self.grants.get(form.get("code", ""))
            verifier = form.get("code_verifier", "")
            if (
                grant is None
                or grant.used
                or grant.redirect_uri != form.get("redirect_uri")
                or _b64(hashlib.sha256(verifier.encode()).digest()) != grant.challenge
            ):
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}, {}
            grant.used = True
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = Refresh(grant.email, grant.client_id)
            access = self._access(refresh)
            claims = {"iss": "fake", "aud": self.client_id, "email": grant.email, "sub": "1"}
            id_token = ".".join(
                [_b64(b'{"alg":"none"}'), _b64(json.dumps(claims).encode()), _b64(b"sig")]
            )
            body = {
                "access_token": access,
                "expires_in": 3599,
                "refresh_token": refresh,
                "scope": "openid email https://www.googleapis.com/auth/calendar.events",
                "token_type": "Bearer",
                "id_token": id_token,
            }
            return 200, body, {}
        if kind == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.refresh_tokens or refresh in self.revoked:
                body = {"error": "invalid_grant", "error_description": "Token has been revoked."}
                return 400, body, {}
            body = {
                "access_token": self._access(refresh),
                "expires_in": 3599,
                "token_type": "Bearer",
            }
            return 200, body, {}
        return 400, {"error": "unsupported_grant_type"}, {}

    def _access(self, refresh: str) -> str:
        token = "ya29." + secrets.token_urlsafe(16)
        self.refresh_tokens[refresh].access_tokens.append(token)
        return token

    def _revoke_endpoint(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        token = form.get("token", "")
        if token not in self.refresh_tokens or token in self.revoked:
            return 400, {"error": "invalid_token"}, {}
        self._revoke(token)
        return 200, {}, {}

    def _revoke(self, refresh: str) -> None:
        self.revoked.add(refresh)
        for access in self.refresh_tokens[refresh].access_tokens:
            self.calendar.revoke(access)
