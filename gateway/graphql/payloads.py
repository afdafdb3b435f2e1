"""The payloads mutations share, and the one way a mutation runs.

Every mutation answers a payload with an ``errors`` list of :class:`UserError` (domain
failures: the whole unit of work rolled back) and, on success, what it made or changed.
Three shapes recur and are declared once here: ``OkPayload`` (it was done),
``DeletePayload`` (``deletedId``) and ``ExportFile`` (a generated file). A payload name that
was published before the kit (``DeleteContactPayload``…) stays as a subclass with its own
name (:func:`published_as`), so the contract does not change.

Run a mutation with :func:`gateway.graphql.common.mutate`: the work runs in
``context.transaction()`` (commit on success; unique and foreign-key violations are
``CONFLICT`` — see :meth:`gateway.context.CallerContext.transaction`), and any
``GatewayError`` comes back in the payload's ``errors``.
"""

from __future__ import annotations

from typing import TypeVar

import strawberry

from gateway.graphql.common import UserError, mutate

__all__ = ["DeletePayload", "ExportFile", "OkPayload", "mutate", "published_as"]

T = TypeVar("T")


@strawberry.type(description="A mutation that does something and reports whether it did.")
class OkPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A deletion: the deleted record's ID, or why it was refused.")
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A generated file, base64-encoded.")
class ExportFile:
    filename: str
    mime_type: str
    content_base64: str
    download_url: str | None = strawberry.field(
        default=None,
        description="A short-lived link to the same file, when it was stored "
        "(gateway.files); null for files generated on the fly.",
    )


def published_as(base: type[T], name: str) -> type[T]:
    """``base``'s shape under a name published before the kit shared it."""
    return strawberry.type(type(name, (base,), {}), name=name)  # type: ignore[return-value]
