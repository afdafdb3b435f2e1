"""A test-only module with one slow HTTP route, ``GET /slow-test/wait?seconds=N``: an
in-flight request for the graceful-shutdown test (loaded there through CRM_PLUGINS)."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sdk import PluginInfo, hookimpl


async def wait(request: Request) -> Response:
    seconds = float(request.query_params.get("seconds", "1"))
    await anyio.sleep(seconds)
    return JSONResponse({"waited": seconds})


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(name="slowtest", title="Slow route (tests)", version="1")


@hookimpl
def crm_http_routes() -> list[BaseRoute]:
    return [Route("/slow-test/wait", wait, methods=["GET"])]
