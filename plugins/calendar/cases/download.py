"""Downloading a case's documents: ``GET /calendar/case-documents/{id}?u=&exp=&sig=``.

The kernel's own links (``/files/{id}``) serve a file to its owner only; a document
belongs to whoever sees its case. So the case mints its own short-lived signed link (the
HMAC of document, user and expiry under the server's signing key, ``CRM_FILE_LINK_SECONDS``)
and this route, on download, checks again — as that user, through the access engine —
that the user is active, the calendar module is on for their organisation and they still
see the case. A forged or expired link is 403; anything else that fails is 404, the same
answer as an id that never existed. Responses carry the kernel's download headers."""

from __future__ import annotations

import hmac
from datetime import timedelta
from urllib.parse import urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sdk import (
    DOWNLOAD_HEADERS,
    CallerContext,
    Gateway,
    GatewayError,
    Via,
    content_disposition,
    utcnow,
)
from plugins.calendar.cases import service
from plugins.calendar.cases.models import CaseDocument

ROUTE = "/calendar/case-documents"
#: Keys fit 64 bits; longer digit strings are not ids.
_MAX_DIGITS = 19


def _message(document_id: int, user_id: int, expires: int) -> str:
    return f"case-document:{document_id}:{user_id}:{expires}"


def signed_url(ctx: CallerContext, document: CaseDocument) -> str:
    """A link for the caller to download ``document``, valid ``CRM_FILE_LINK_SECONDS``:
    absolute during an HTTP request, a path otherwise."""
    caller = ctx.require_caller()
    seconds = ctx.gateway.settings.file_link_seconds
    expires = int((utcnow() + timedelta(seconds=seconds)).timestamp())
    sig = ctx.gateway.secret_box.sign(_message(document.id, caller.user_id, expires))
    path = f"{ROUTE}/{document.id}?" + urlencode({"u": caller.user_id, "exp": expires, "sig": sig})
    base_url = getattr(getattr(ctx, "request", None), "base_url", None)
    return str(base_url).rstrip("/") + path if base_url is not None else path


def _refusal(status: int, message: str, code: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


def _numbers(request: Request) -> tuple[int, int, int] | None:
    raw = (
        request.path_params.get("document_id", ""),
        request.query_params.get("u", ""),
        request.query_params.get("exp", ""),
    )
    if not all(v.isascii() and v.isdigit() and len(v) <= _MAX_DIGITS for v in raw):
        return None
    document_id, user_id, expires = (int(v) for v in raw)
    return document_id, user_id, expires


def _load(gateway: Gateway, document_id: int, user_id: int) -> tuple[str, str, bytes] | None:
    """As the link's user: the document's name, type and bytes if they see its case."""
    try:
        ctx = CallerContext.acting_for(gateway, user_id, via=Via.API, write=False)
    except GatewayError:
        return None  # an unknown or deactivated user
    try:
        if "calendar" not in ctx.enabled_modules:
            return None
        stored = service.document_for_download(ctx, document_id)
        if stored is None:
            return None
        return stored.name, stored.content_type, stored.content
    finally:
        ctx.close()


async def download(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return _refusal(405, "download a document with GET", "BAD_REQUEST")
    numbers = _numbers(request)
    gateway: Gateway = request.app.state.gateway
    if numbers is None:
        return _refusal(403, "this download link is not valid", "FORBIDDEN")
    document_id, user_id, expires = numbers
    expected = gateway.secret_box.sign(_message(document_id, user_id, expires))
    given = request.query_params.get("sig", "")
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return _refusal(403, "this download link is not valid", "FORBIDDEN")
    if expires <= int(utcnow().timestamp()):
        return _refusal(403, "this download link has expired: ask for a new one", "FORBIDDEN")
    found = await anyio.to_thread.run_sync(_load, gateway, document_id, user_id)
    if found is None:
        return _refusal(404, "no such document", "NOT_FOUND")
    name, content_type, content = found
    return Response(
        content,
        media_type=content_type,
        headers={**DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(name)},
    )


ROUTES: list[BaseRoute] = [
    Route(ROUTE + "/{document_id}", download, methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
]
