"""Connecting a Google account: the OAuth 2.0 authorisation-code flow with PKCE (S256).

``begin`` stores a fresh ``code_verifier`` (encrypted) under a random nonce bound to the
user and returns Google's authorisation URL; its ``state`` is the nonce plus an HMAC of
nonce and user (the server key), so a forged or altered state is refused before any
lookup. ``finish`` (the HTTP callback) takes the state once, within ``STATE_TTL``,
exchanges the code with the verifier, and stores the refresh token encrypted with the
server key, like TOTP secrets. ``revoke`` tells Google to forget a refresh token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httplib2
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.sdk import SYSTEM, BadUserInput, utcnow
from plugins.calendar.google import client
from plugins.calendar.google.models import ConnectionStatus, GoogleConnection, GoogleOAuthState

if TYPE_CHECKING:
    from gateway.sdk import Gateway, Settings

#: How long an authorisation attempt may take (the user on Google's consent screen).
STATE_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/calendar/google/callback"


class OAuthRefused(Exception):
    """The callback cannot complete: ``code`` says why (shown to the user's browser)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def redirect_uri(settings: Settings) -> str:
    return settings.google_redirect_uri or settings.public_url.rstrip("/") + CALLBACK_PATH


def require_configured(settings: Settings) -> None:
    if not (settings.google_client_id and settings.google_client_secret):
        raise BadUserInput(
            "Google Calendar sync is not configured on this server "
            "(CRM_GOOGLE_CLIENT_ID and CRM_GOOGLE_CLIENT_SECRET)"
        )


def challenge(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _signature(gateway: Gateway, nonce: str, user_id: int) -> str:
    return gateway.secret_box.sign(f"google-oauth:{nonce}:{user_id}")[:32]


def begin(gateway: Gateway, session: Session, tenant_id: int, user_id: int) -> str:
    """Start an attempt for the user; the authorisation URL to send their browser to."""
    settings = gateway.settings
    require_configured(settings)
    now = utcnow()
    session.execute(
        delete(GoogleOAuthState)
        .where(
            (GoogleOAuthState.user_id == user_id) | (GoogleOAuthState.created_at < now - STATE_TTL)
        )
        .execution_options(synchronize_session=False, **{SYSTEM: True})
    )
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    session.add(
        GoogleOAuthState(
            tenant_id=tenant_id,
            user_id=user_id,
            nonce=nonce,
            code_verifier=gateway.secret_box.encrypt(verifier),
            created_at=now,
        )
    )
    query = {
        "client_id": settings.google_client_id,
        "redirect_uri": redirect_uri(settings),
        "response_type": "code",
        "scope": " ".join(client.SCOPES),
        "access_type": "offline",  # a refresh token…
        "prompt": "consent",  # …every time, also for an account connected before
        "include_granted_scopes": "true",
        "state": f"{nonce}.{_signature(gateway, nonce, user_id)}",
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    return f"{settings.google_auth_uri}?{urllib.parse.urlencode(query)}"


@dataclass(frozen=True)
class Attempt:
    """An authorisation attempt as the callback found it (its row is gone)."""

    tenant_id: int
    user_id: int
    verifier: str
    expired: bool


def take_state(gateway: Gateway, session: Session, state: str) -> Attempt:
    """The attempt ``state`` names, used up (deleted) whatever happens next."""
    nonce, _, signature = state.partition(".")
    row = session.scalars(select(GoogleOAuthState).where(GoogleOAuthState.nonce == nonce)).first()
    if row is None or not hmac.compare_digest(signature, _signature(gateway, nonce, row.user_id)):
        raise OAuthRefused("invalid_state", "unknown or altered state")
    session.delete(row)
    return Attempt(
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        verifier=gateway.secret_box.decrypt(row.code_verifier),
        expired=row.created_at < utcnow() - STATE_TTL,
    )


@dataclass(frozen=True)
class Tokens:
    refresh_token: str
    email: str


def _post(url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response, content = client.transport().request(
        url,
        "POST",
        body=urllib.parse.urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        body = json.loads(content or b"{}")
    except ValueError:
        body = {}
    return response.status, body if isinstance(body, dict) else {}


def _id_token_email(id_token: str) -> str | None:
    """The ``email`` claim. The ID token came straight from the token endpoint over TLS,
    so its signature need not be checked (OpenID Connect Core 3.1.3.7)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) and email else None


def exchange(settings: Settings, code: str, verifier: str) -> Tokens:
    """Trade the authorisation code (and the PKCE verifier) for tokens."""
    try:
        status, body = _post(
            settings.google_token_uri,
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri(settings),
                "client_id": settings.google_client_id or "",
                "client_secret": settings.google_client_secret or "",
            },
        )
    except (OSError, httplib2.HttpLib2Error) as exc:
        raise OAuthRefused("unavailable", "Google could not be reached; try again") from exc
    if status != 200:
        raise OAuthRefused(str(body.get("error") or "token_error"), "Google refused the code")
    refresh = body.get("refresh_token")
    email = _id_token_email(str(body.get("id_token") or ""))
    if not isinstance(refresh, str) or not refresh or email is None:
        raise OAuthRefused("incomplete", "Google sent no refresh token or account address")
    return Tokens(refresh_token=refresh, email=email)


def connect(gateway: Gateway, session: Session, attempt: Attempt, tokens: Tokens) -> None:
    """Store the user's connection, the refresh token encrypted. Reconnecting the same
    account keeps its links and sync token (nothing is pushed twice); another account
    replaces the connection (its links go with it)."""
    found = session.scalars(
        select(GoogleConnection).where(GoogleConnection.user_id == attempt.user_id)
    ).first()
    secret = gateway.secret_box.encrypt(tokens.refresh_token)
    if found is not None and found.email == tokens.email:
        found.refresh_token = secret
        found.status = ConnectionStatus.CONNECTED
        found.last_error = None
        found.connected_at = utcnow()
        return
    if found is not None:
        session.delete(found)
        session.flush()
    session.add(
        GoogleConnection(
            tenant_id=attempt.tenant_id,
            user_id=attempt.user_id,
            email=tokens.email,
            calendar_id=tokens.email,
            refresh_token=secret,
            status=ConnectionStatus.CONNECTED,
            connected_at=utcnow(),
        )
    )


def revoke(settings: Settings, refresh_token: str) -> bool:
    """Ask Google to revoke the token (and the access tokens made from it). False when
    Google could not be reached or refused (an already revoked token): the caller deletes
    its copy anyway."""
    try:
        status, _ = _post(settings.google_revoke_uri, {"token": refresh_token})
    except (OSError, httplib2.HttpLib2Error):
        return False
    return status == 200
