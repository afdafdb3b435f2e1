"""An example partner module: one permission, one query field that declares it, found by
entry point. It imports from ``gateway.sdk`` only, the kernel's public surface."""

from __future__ import annotations

from strawberry.types import Info

from gateway.sdk import Permission, PluginInfo, RequestContext, guarded, hookimpl


@guarded(permission="hello.greet", description="A greeting that names the caller's organisation.")
def hello(info: Info[RequestContext, None], name: str = "world") -> str:
    # The gateway checks ``hello.greet`` before this runs (FORBIDDEN without it), and the
    # SDL shows it: ``hello(name: String! = "world"): String! @requires(permission: ...)``.
    return f"Hello, {name}, from {info.context.require_caller().tenant_slug}!"


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
