"""The public endpoint ``/forms/{key}``: CORS, body cap, honeypot, rate limit, then
the submission service as a visitor of the form's tenant."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    GatewayError,
    Via,
    throttle,
)
from plugins.contacts.webforms.models import HONEYPOT, MAX_BODY, RATE_LIMIT, RATE_WINDOW
from plugins.contacts.webforms.service import FormSpec, create_record, find_form, rate_key

if TYPE_CHECKING:
    from gateway.sdk import Gateway


# -- the public endpoint ---------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


NOT_FOUND: dict[str, Any] = {"error": "not found"}


def _cors(form: FormSpec, origin: str | None) -> dict[str, str]:
    """CORS headers for an allowed ``Origin``; none without one; refuse any other."""
    if origin is None:
        return {}
    if origin not in form.origins:
        raise _Refused(_json(403, {"error": "this origin may not submit this form"}))
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _lookup(gateway: Gateway, key: str) -> FormSpec | None:
    with gateway.db.reading() as session:
        return find_form(session, gateway.registry, key)


def _admit(gateway: Gateway, key: str, origin: str | None, address: str) -> FormSpec | Response:
    """Find the form (a read: unknown keys never take the write lock), check the origin,
    then count the submission in its own transaction, so refused submissions count too."""
    form = _lookup(gateway, key)
    if form is None:
        return _json(404, NOT_FOUND)
    try:
        headers = _cors(form, origin)
    except _Refused as refused:
        return refused.response
    with gateway.db.transaction() as session:
        wait = throttle.count_event(session, rate_key(form.id, address), RATE_LIMIT, RATE_WINDOW)
    if wait is not None:
        return _json(429, {"error": "too many submissions"}, {**headers, "Retry-After": str(wait)})
    return form


def _submit(gateway: Gateway, form: FormSpec, values: dict[str, str]) -> GatewayError | None:
    ctx = CallerContext.visitor(gateway, form.tenant_id, form.modules, via=Via.WEB_FORM)
    try:
        with ctx.transaction():
            create_record(ctx, form, values)
    except GatewayError as exc:
        return exc
    finally:
        ctx.close()
    return None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise _Refused(_json(413, {"error": f"the body exceeds {MAX_BODY} bytes"}))
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise _Refused(_json(413, {"error": f"the body exceeds {MAX_BODY} bytes"}))
    except ClientDisconnect as exc:
        raise _Refused(_json(400, {"error": "the body was cut short"})) from exc
    return bytes(body)


def parse_values(content_type: str, body: bytes) -> dict[str, str]:
    """The submitted fields as text: a JSON object or a form-encoded body. Raises
    BadUserInput (a 400) for anything else."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadUserInput("the body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise BadUserInput("the body must be a JSON object")
        values: dict[str, str] = {}
        for name, value in data.items():
            if value is None:
                continue
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise BadUserInput(f"{name} must be text", field=str(name))
            values[str(name)] = str(value)
        return values
    if kind == "application/x-www-form-urlencoded":
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadUserInput("the body is not valid form data") from exc
        return {name: items[0] for name, items in parsed.items()}
    raise BadUserInput("send application/json or application/x-www-form-urlencoded")


async def form_endpoint(request: Request) -> Response:
    """``POST /forms/{key}`` (a submission) and ``OPTIONS /forms/{key}`` (CORS preflight)."""
    gateway = request.app.state.gateway
    key = request.path_params["key"]
    origin = request.headers.get("origin")
    if request.method == "OPTIONS":
        found = await anyio.to_thread.run_sync(_lookup, gateway, key)
        if found is None:
            return _json(404, NOT_FOUND)
        try:
            headers = _cors(found, origin)
        except _Refused as refused:
            return refused.response
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                }
            )
        return Response(status_code=204, headers=headers)

    address = request.client.host if request.client else "unknown"
    admitted = await anyio.to_thread.run_sync(_admit, gateway, key, origin, address)
    if isinstance(admitted, Response):
        return admitted
    form = admitted
    headers = _cors(form, origin)
    try:
        body = await _body(request)
    except _Refused as refused:
        refused.response.headers.update(headers)
        return refused.response
    try:
        values = parse_values(request.headers.get("content-type", ""), body)
    except BadUserInput as exc:
        return _json(400, _problem(exc), headers)
    if values.get(HONEYPOT, "").strip():
        return _json(200, {"ok": True}, headers)  # a bot: answer like a success, keep nothing
    problem = await anyio.to_thread.run_sync(_submit, gateway, form, values)
    if problem is not None:
        return _json(400, _problem(problem), headers)
    return _json(201, {"ok": True}, headers)


def _problem(exc: GatewayError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return body


ROUTES: list[BaseRoute] = [Route("/forms/{key}", form_endpoint, methods=["POST", "OPTIONS"])]
