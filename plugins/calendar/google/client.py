"""Talking to Google: the HTTP transport, the Calendar v3 client built from the discovery
document the library ships, and what an error means for the sync.

Every endpoint comes from the gateway settings (``CRM_GOOGLE_*``), so tests point them at
a local fake; :data:`transport` makes the HTTP object (tests swap in one that can reach
127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

if TYPE_CHECKING:
    from gateway.sdk import Settings

#: The event scope (read/write events, no calendar settings) plus who the account is.
SCOPES = ("openid", "email", "https://www.googleapis.com/auth/calendar.events")
#: Reasons Google gives for "slow down": retried later by the job kernel's backoff.
RATE_LIMITED = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def _default_transport() -> httplib2.Http:
    return httplib2.Http(timeout=30)


#: Makes the HTTP object every Google call goes through.
transport: Callable[[], httplib2.Http] = _default_transport


def credentials(settings: Settings, refresh_token: str) -> Credentials:
    """Credentials that fetch an access token from the refresh token on first use (the
    access token is never stored: one token request per sync)."""
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=settings.google_token_uri,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        scopes=list(SCOPES),
    )


def calendar_service(settings: Settings, creds: Credentials) -> Any:
    """The Calendar v3 resource (shipped discovery document: no discovery request)."""
    options = (
        {"api_endpoint": settings.google_api_endpoint} if settings.google_api_endpoint else None
    )
    return build(
        "calendar",
        "v3",
        http=AuthorizedHttp(creds, http=transport()),
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


def reason(error: HttpError) -> str:
    """Google's ``error.errors[0].reason`` ('' when the body has none)."""
    details = error.error_details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    return ""


def is_transient(error: HttpError) -> bool:
    """Rate limits (429, 403 with a rate-limit reason) and server errors: try again later."""
    status = error.status_code
    return status == 429 or status >= 500 or (status == 403 and reason(error) in RATE_LIMITED)
