"""``POST /files`` (upload) and ``GET /files/{id}`` (download by signed link).

Uploads are a plain endpoint rather than the GraphQL multipart request spec: the body *is*
the file (any content type but a form's), so it streams through one hash and one counter
with nothing to parse, and a job takes the returned ID. Cross-site request forgery is
shut out three ways, any one of which suffices: the bearer token in ``Authorization``
(a browser never adds it by itself), the required ``X-CRM-Upload`` header, and the refusal
of form content types — a cross-origin page can only send such a request after a CORS
preflight, which the gateway never grants. Refusals are JSON in the GraphQL error shape,
``{"errors": [{"message", "extensions": {"code"}}]}``, like the ``/graphql`` endpoint's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import undefer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.context import CallerContext, Via
from gateway.db import utcnow
from gateway.errors import ErrorCode, GatewayError
from gateway.files import services
from gateway.files.models import FilePurpose, StoredFile
from gateway.files.names import content_disposition
from gateway.files.signing import ROUTE, LinkClaim
from gateway.graphql.common import MAX_KEY, global_id
from gateway.identity.models import User
from gateway.transport import JSON, TransportError, error_response, json_response

if TYPE_CHECKING:
    from gateway.app import Gateway

#: The header every upload must carry (any value): browsers preflight a cross-origin
#: request with a custom header, and the gateway answers no preflight.
UPLOAD_HEADER = "X-CRM-Upload"
#: Content types a plain HTML form can send: a file is never one of them here.
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_STATUS = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
}

#: Headers of every download: always an attachment, never sniffed, never cached by
#: shared caches, and inert if a browser renders it anyway (a sandboxed, script-less page).
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}


def _refusal(status: int, message: str, code: ErrorCode, **headers: str) -> TransportError:
    return TransportError(status, message, code, headers=headers)


def _from_gateway_error(exc: GatewayError) -> TransportError:
    return TransportError(_STATUS.get(exc.code, 400), exc.message, exc.code)


class FileRoutes:
    """The two routes, bound to a gateway and to the ``/graphql`` endpoint's way of turning
    a bearer token into a caller (``identify``), so both paths authenticate alike."""

    def __init__(
        self, gateway: Gateway, identify: Callable[[str | None], Any], limiter_key: str
    ) -> None:
        self.gateway = gateway
        self.identify = identify
        self.limiter_key = limiter_key

    def routes(self) -> list[BaseRoute]:
        # Every method reaches the handlers, which answer unsupported ones in the JSON shape.
        return [
            Route(ROUTE, self.upload, methods=_ALL_METHODS),
            Route(ROUTE + "/{file_id}", self.download, methods=_ALL_METHODS),
        ]

    def _limiter(self, request: Request) -> Any:
        return request.scope.get("state", {}).get(self.limiter_key)

    # -- upload ---------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        try:
            return await self._upload(request)
        except TransportError as error:
            return error_response(error, JSON)

    async def _upload(self, request: Request) -> Response:
        if request.method != "POST":
            raise _refusal(
                405, f"upload a file with POST {ROUTE}", ErrorCode.BAD_REQUEST, Allow="POST"
            )
        if not request.headers.get(UPLOAD_HEADER):
            raise _refusal(
                400,
                f"an upload needs the header {UPLOAD_HEADER}: 1 (it makes browsers ask "
                "before sending one from another site)",
                ErrorCode.BAD_REQUEST,
            )
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() in FORM_TYPES:
            raise _refusal(
                415,
                "send the file's bytes as the request body, with the file's own content "
                "type, not a form",
                ErrorCode.BAD_REQUEST,
            )
        name = request.query_params.get("name")
        if not name:
            raise _refusal(
                400, "name the file: POST /files?name=clients.xlsx", ErrorCode.BAD_REQUEST
            )
        ident = await anyio.to_thread.run_sync(
            self.identify, request.headers.get("authorization"), limiter=self._limiter(request)
        )
        if ident.caller is None:
            raise _refusal(
                401,
                ident.problem or "sign in first: send Authorization: Bearer <token>",
                ErrorCode.UNAUTHENTICATED,
                **{"WWW-Authenticate": "Bearer"},
            )
        data = await self._read_capped(request)
        described = await anyio.to_thread.run_sync(
            self._store, ident, name, content_type, data, limiter=self._limiter(request)
        )
        described["downloadUrl"] = str(request.base_url).rstrip("/") + described["downloadUrl"]
        return json_response(described, 201, JSON)

    async def _read_capped(self, request: Request) -> bytes:
        """The body, refused (413) as soon as it passes the cap and (400) when empty."""
        limit = self.gateway.settings.max_upload_bytes
        too_large = _refusal(
            413, f"the file is larger than {limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE
        )
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise too_large  # refused before a byte of it is read
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
        if not body:
            raise _refusal(400, "the file is empty", ErrorCode.BAD_USER_INPUT)
        return bytes(body)

    def _store(self, ident: Any, name: str, content_type: str, data: bytes) -> dict[str, Any]:
        ctx = CallerContext(
            gateway=self.gateway,
            caller=ident.caller,
            enabled_modules=ident.modules,
            write=True,
            via=Via.API,
            facts=ident.facts,
        )
        try:
            with ctx.transaction():
                stored = services.store_file(ctx, name, content_type, data, FilePurpose.UPLOAD)
                return {
                    "id": global_id(services.TYPE_NAME, stored.id),
                    "name": stored.name,
                    "contentType": stored.content_type,
                    "size": stored.size,
                    "sha256": stored.sha256,
                    "createdAt": stored.created_at.isoformat(),
                    "expiresAt": stored.expires_at.isoformat(),
                    "downloadUrl": services.download_url(ctx, stored),
                }
        except GatewayError as exc:
            raise _from_gateway_error(exc) from exc
        finally:
            ctx.close()

    # -- download -------------------------------------------------------------------------

    async def download(self, request: Request) -> Response:
        try:
            return await self._download(request)
        except TransportError as error:
            return error_response(error, JSON)

    async def _download(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise _refusal(
                405, "download a file with GET", ErrorCode.BAD_REQUEST, Allow="GET, HEAD"
            )
        claim = _claim(request)
        now = utcnow()
        if claim is None or not claim.authentic(self.gateway.secret_box):
            raise _refusal(403, "this download link is not valid", ErrorCode.FORBIDDEN)
        if claim.expired(now):
            raise _refusal(
                403, "this download link has expired: ask for a new one", ErrorCode.FORBIDDEN
            )
        found = await anyio.to_thread.run_sync(self._load, claim, limiter=self._limiter(request))
        if found is None:
            raise _refusal(404, "no such file", ErrorCode.NOT_FOUND)
        return Response(
            found.content,
            media_type=found.content_type,
            headers={**DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(found.name)},
        )

    def _load(self, claim: LinkClaim) -> StoredFile | None:
        """The file, if it is still there, unexpired, and owned by the link's user, who is
        still active in the file's tenant — one statement."""
        with self.gateway.db.reading() as session:
            return session.scalar(
                select(StoredFile)
                .join(User, User.id == StoredFile.owner_id)
                .where(
                    StoredFile.id == claim.file_id,
                    StoredFile.owner_id == claim.user_id,
                    StoredFile.expires_at > utcnow(),
                    User.tenant_id == StoredFile.tenant_id,
                    User.is_active.is_(True),
                )
                .options(undefer(StoredFile.content))
            )


def _claim(request: Request) -> LinkClaim | None:
    """The link's parameters, if they are well-formed numbers within the key columns."""
    raw = request.path_params.get("file_id", "")
    params = request.query_params
    values = (raw, params.get("u", ""), params.get("exp", ""))
    if not all(v.isascii() and v.isdigit() and len(v) <= 12 for v in values):
        return None
    file_id, user_id, expires = (int(v) for v in values)
    if file_id > MAX_KEY or user_id > MAX_KEY:
        return None
    return LinkClaim(file_id, user_id, expires, params.get("sig", ""))
