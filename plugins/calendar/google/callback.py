"""``GET /calendar/google/callback``: where Google sends the user's browser after consent.
It checks the state, exchanges the code (with the PKCE verifier), stores the connection,
and redirects to the frontend's calendar settings with ``google=connected`` or
``google=error&reason=…``."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sdk import User, enabled_modules
from plugins.calendar.google import oauth
from plugins.calendar.google.models import GoogleConnection

if TYPE_CHECKING:
    from gateway.sdk import Gateway

#: The frontend page the browser lands on afterwards.
SETTINGS_PAGE = "/settings/calendar"


def _back(gateway: Gateway, **params: str) -> Response:
    base = gateway.settings.public_url.rstrip("/") + SETTINGS_PAGE
    return RedirectResponse(f"{base}?{urllib.parse.urlencode(params)}", status_code=303)


def finish(gateway: Gateway, query: dict[str, str]) -> Response:
    """The callback's work (blocking: database and the token endpoint)."""
    state = query.get("state", "")
    try:
        with gateway.db.transaction() as session:
            attempt = oauth.take_state(gateway, session, state)  # used up, whatever follows
        if query.get("error"):
            raise oauth.OAuthRefused(query["error"][:60], "the user did not consent")
        if attempt.expired:
            raise oauth.OAuthRefused("expired_state", "the authorisation took too long")
        tokens = oauth.exchange(gateway.settings, query.get("code", ""), attempt.verifier)
        with gateway.db.transaction() as session:
            user = session.get(User, attempt.user_id)
            if user is None or not user.is_active:
                raise oauth.OAuthRefused("inactive_user", "the user is no longer active")
            if "calendar" not in enabled_modules(session, gateway.registry, user.tenant_id):
                raise oauth.OAuthRefused("module_disabled", "the calendar is switched off")
            old = session.scalars(
                select(GoogleConnection.refresh_token).where(
                    GoogleConnection.user_id == attempt.user_id
                )
            ).first()
            oauth.connect(gateway, session, attempt, tokens)
    except oauth.OAuthRefused as refused:
        return _back(gateway, google="error", reason=refused.code)
    if old is not None:  # replaced: the old grant is no longer needed
        old_token = gateway.secret_box.decrypt(old)
        if old_token != tokens.refresh_token:
            oauth.revoke(gateway.settings, old_token)
    return _back(gateway, google="connected")


async def callback(request: Request) -> Response:
    query = {k: v for k, v in request.query_params.items()}
    return await anyio.to_thread.run_sync(finish, request.app.state.gateway, query)


ROUTES: list[BaseRoute] = [Route(oauth.CALLBACK_PATH, callback, methods=["GET"])]
