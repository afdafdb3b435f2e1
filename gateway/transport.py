"""GraphQL over HTTP at the edge: media types, request parsing and the request size limit.

Everything here runs before a caller is identified or a document parsed, so a malformed or
oversized request costs no database work. Every refusal answers in the GraphQL-over-HTTP
error shape, ``{"errors": [{"message": …, "extensions": {"code": …}}]}`` without a
``data`` entry, with the HTTP status that says why (400, 405, 406, 413, 414, 415) — never
a bare 500 or a dropped connection.

Media types (GraphQL over HTTP, "Accept" and "Status Codes"): a client whose ``Accept``
prefers ``application/graphql-response+json`` gets that type, and a request refused before
execution (syntax, validation, variables, field rules) answers 4xx without ``data``;
``application/json`` (also for ``*/*`` or no ``Accept``) keeps the legacy behaviour: 200
whenever the request was well-formed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import GraphQLRequestData

from gateway.errors import ErrorCode

_log = logging.getLogger(__name__)

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
#: The parameters of a GraphQL-over-HTTP request (anything else is ignored).
PARAMETERS = ("query", "operationName", "variables", "extensions")
#: Most parameters a GET's query string may hold (GraphiQL and frontends send four).
MAX_URL_PARAMETERS = 32
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class TransportError(Exception):
    """A request refused at the HTTP level: its status, message, code and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode = ErrorCode.BAD_REQUEST,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


# -- media types --------------------------------------------------------------------------


def negotiate(accept: str | None) -> str | None:
    """The response media type ``Accept`` asks for, or ``None`` when it accepts neither.

    The supported type with the highest quality wins; on a tie, the one listed first.
    Wildcards (``*/*``, ``application/*``) and a missing ``Accept`` mean ``application/json``,
    which legacy clients expect (RFC 9110 §12.5.1; GraphQL over HTTP, "Body").
    """
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, int, bool] | None = None
    chosen: str | None = None
    for media_type in (GRAPHQL_RESPONSE, JSON):
        found = _quality(accept, media_type)
        if found is None or found[0] <= 0:
            continue
        quality, specificity, position = found
        # Explicitly listed beats a wildcard at equal quality; then earlier in the header;
        # then application/json (a wildcard matches both alike).
        key = (quality, specificity, -position, media_type == JSON)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def _quality(accept: str, media_type: str) -> tuple[float, int, int] | None:
    """(q, specificity, position) of the most specific range of ``accept`` matching."""
    kind = media_type.split("/")[0]
    match: tuple[float, int, int] | None = None
    for position, item in enumerate(accept.split(",")):
        name, *params = (part.strip() for part in item.split(";"))
        name = name.lower()
        specificity = {media_type: 3, f"{kind}/*": 2, "*/*": 1}.get(name)
        if specificity is None or (match is not None and match[1] >= specificity):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        match = (quality, specificity, position)
    return match


# -- responses ----------------------------------------------------------------------------


def error_body(message: str, code: ErrorCode, **extensions: Any) -> dict[str, Any]:
    """A GraphQL response holding one request error (no ``data``: nothing was executed)."""
    return {"errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]}


def error_response(error: TransportError, media_type: str | None) -> Response:
    """``error`` as an HTTP response in the negotiated media type (JSON if none was)."""
    return json_response(
        error_body(error.message, error.code), error.status, media_type or JSON, error.headers
    )


def encode_json(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON.

    orjson encodes a 50-row page several times faster than ``json`` (which was ~5% of a
    request's CPU); it writes non-ASCII characters as UTF-8 rather than ``\\u`` escapes (the
    same JSON). What it refuses (integers beyond 64 bits, non-string keys) goes to ``json``.
    """
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":")).encode()


def json_response(
    body: Any, status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        encode_json(body),
        status_code=status,
        media_type=f"{media_type}; charset=utf-8",
        headers=dict(headers or {}),
    )


#: Status of a request refused before execution (graphql-response+json), by error code
#: (looked up with the code an error may lack).
_REFUSAL_STATUS: dict[str | None, int] = {
    ErrorCode.UNAUTHENTICATED.value: 401,
    ErrorCode.FORBIDDEN.value: 403,
    ErrorCode.RATE_LIMITED.value: 429,
    ErrorCode.INTERNAL_SERVER_ERROR.value: 500,
}


def refusal_status(response: Mapping[str, Any]) -> int | None:
    """The 4xx/5xx status of a GraphQL response whose document was never executed, or None.

    Not executed: no data, and only errors without a ``path`` (syntax, validation, variable
    coercion, checks before execution); field errors always carry one. The status is 400
    unless every error's code maps to the same other status (401, 403, 429, 500).
    """
    errors = response.get("errors") or []
    if response.get("data") is not None or not errors or any("path" in e for e in errors):
        return None
    statuses = {_REFUSAL_STATUS.get((e.get("extensions") or {}).get("code"), 400) for e in errors}
    return statuses.pop() if len(statuses) == 1 else 400


# -- requests -----------------------------------------------------------------------------


def check_content_type(content_type: str | None) -> None:
    """POST bodies are ``application/json`` in UTF-8 (GraphQL over HTTP, "POST")."""
    if not content_type:
        raise TransportError(
            415, "send the request with Content-Type: application/json", headers={"Accept": JSON}
        )
    name, *params = (part.strip() for part in content_type.split(";"))
    if name.lower() != JSON:
        raise TransportError(
            415,
            f"unsupported content type {name!r}: send application/json",
            headers={"Accept": JSON},
        )
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise TransportError(415, "send the request body in UTF-8", headers={"Accept": JSON})


def parse_body(body: bytes) -> GraphQLRequestData:
    """The parameters of a POST's JSON body."""
    data = decode_json(body, "the request body")
    if isinstance(data, list):
        raise TransportError(400, "batched requests are not supported: send one operation")
    if not isinstance(data, dict):
        raise TransportError(400, "the request body must be a JSON object")
    return request_data(data)


def parse_query_string(raw: bytes) -> GraphQLRequestData:
    """The parameters of a GET's query string (``application/x-www-form-urlencoded``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TransportError(400, "the URL's query string is not valid UTF-8") from None
    if _BAD_PERCENT.search(text):
        raise TransportError(400, "the URL's query string has an invalid percent-encoding")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_URL_PARAMETERS,
        )
    except UnicodeDecodeError:
        raise TransportError(400, "a URL parameter is not valid UTF-8 once decoded") from None
    except ValueError:
        raise TransportError(400, "the URL has too many parameters") from None
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params and name in PARAMETERS:
            raise TransportError(400, f"the URL gives {name!r} more than once")
        params[name] = value
    for name in ("variables", "extensions"):
        # In a URL they are JSON text; the empty string means "not given".
        given = params.get(name)
        params[name] = decode_json(given.encode(), f"the {name!r} parameter") if given else None
    if params.get("operationName") == "":
        params["operationName"] = None
    return request_data(params)


def request_data(params: Mapping[str, Any]) -> GraphQLRequestData:
    """Check the parameters' types (GraphQL over HTTP, "Request Parameters")."""
    query = params.get("query")
    if query is None or query == "":
        raise TransportError(400, "the request has no query: send the GraphQL document in 'query'")
    if not isinstance(query, str):
        raise TransportError(400, "'query' must be a string")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise TransportError(400, "'operationName' must be a string or null")
    for name in ("variables", "extensions"):
        if params.get(name) is not None and not isinstance(params[name], dict):
            raise TransportError(400, f"{name!r} must be an object or null")
    return GraphQLRequestData(
        query=query,
        variables=params.get("variables"),
        operation_name=operation_name or None,
        extensions=params.get("extensions"),
    )


class _BadNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(f"the number {text[:40]} is out of range")
    return value


def decode_json(raw: bytes, what: str) -> Any:
    """Strict JSON in UTF-8: no NaN/Infinity, no number beyond a double, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TransportError(400, f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise TransportError(
            400, f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except _BadNumber as exc:
        raise TransportError(400, f"{what} is not valid JSON: {exc}") from None
    except ValueError:  # an integer literal of thousands of digits
        raise TransportError(400, f"{what} holds a number too long to read") from None
    except RecursionError:
        raise TransportError(400, f"{what} nests too deeply") from None


def wants_graphiql(request: Request) -> bool:
    """A browser asking for the IDE: a GET without a query that accepts HTML (as Strawberry)."""
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


# -- size limit ---------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes the limit."""


class BodyLimit:
    """ASGI middleware refusing requests larger than ``limit`` bytes, on every route.

    A body announced larger by ``Content-Length`` is refused before the application runs
    (nothing of it is read); a body streamed without one is counted as it arrives and
    refused as soon as it passes the limit (``BodyTooLarge`` unwinds the application,
    which never holds more than ``limit`` bytes). A GET's query string is held to the same
    limit (414). The server discards what the client still sends, so the client reads the
    413 instead of a reset connection.
    """

    def __init__(self, app: ASGIApp, limit: int, paths: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        #: Routes with a body limit of their own (``/files``: ``CRM_MAX_UPLOAD_BYTES``).
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.limit)
        refused = self._announced(scope, limit)
        if refused is not None:
            await self._refuse(scope, receive, send, refused)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:  # the route answered before reading its body: nothing left to say
                raise
            await self._refuse(scope, receive, send, self._too_large(limit))

    def _announced(self, scope: Scope, limit: int) -> TransportError | None:
        """A refusal from the headers alone; the query string keeps the general limit on
        every route (a route's own ``limit`` is for its body)."""
        if len(scope.get("query_string", b"")) > self.limit:
            return TransportError(
                414, f"the URL is longer than {self.limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE
            )
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return TransportError(400, "the Content-Length header is not a number")
                if int(value) > limit:
                    return self._too_large(limit)
        return None

    @staticmethod
    def _too_large(limit: int) -> TransportError:
        return TransportError(
            413, f"the request body is larger than {limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE
        )

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: TransportError) -> None:
        accept = Request(scope).headers.get("accept")
        await error_response(error, negotiate(accept))(scope, receive, send)


class ClientGone:
    """Let a request whose client disconnected end quietly.

    A client that closes its connection while the request body is still arriving makes
    Starlette raise :class:`~starlette.requests.ClientDisconnect` from ``request.body()``
    (in the GraphQL endpoint, an upload, a web form…). Nobody is left to answer, so it is not
    a server error: without this, uvicorn logged "Exception in ASGI application" with a
    traceback once per disconnect. Other exceptions pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            _log.debug("client disconnected before its request was read: %s", scope.get("path"))
