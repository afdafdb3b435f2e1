"""An example partner module: one permission and one query field, found by entry point."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.contract import Permission, PluginInfo
from gateway.graphql.context import RequestContext
from gateway.hookspecs import hookimpl


@strawberry.field(description="A greeting that names the caller's organisation.")
def hello(info: Info[RequestContext, None], name: str = "world") -> str:
    caller = info.context.require_caller()
    return f"Hello, {name}, from {caller.tenant_slug}!"


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="hello",
        title="Hello",
        version="0.1.0",
        description="An example of a third-party module.",
        default_enabled=True,
    )


@hookimpl
def crm_permissions() -> list[Permission]:
    return [Permission("hello.greet", "Ask for a greeting.")]


@hookimpl
def crm_query_fields() -> list:
    return [hello]
