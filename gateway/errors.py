"""The error model: every error a client can act on carries ``extensions.code``.

Resolvers raise these; graphql-core copies ``extensions`` from the original exception into
the response. Anything else is unexpected and is masked (see ``gateway.graphql.extensions``).
Mutations report domain failures in their payload's ``errors`` list instead (``UserError``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    MODULE_DISABLED = "MODULE_DISABLED"
    RATE_LIMITED = "RATE_LIMITED"
    #: The database is taken by a long write (SQLite's one write lock, e.g. during an
    #: import): nothing was changed; try again shortly.
    BUSY = "BUSY"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    #: The HTTP request is not a well-formed GraphQL-over-HTTP request (bad JSON, encoding,
    #: content type, method or parameters); the HTTP status tells which (gateway.transport).
    BAD_REQUEST = "BAD_REQUEST"
    #: The request body (or a GET's query string) is larger than ``CRM_MAX_BODY_BYTES``, or
    #: an upload larger than ``CRM_MAX_UPLOAD_BYTES``.
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    #: A file that cannot be read as what it claims to be (not a spreadsheet, encrypted,
    #: an old binary .xls, a DTD in its XML…): ``reason`` says which (gateway.sheets).
    BAD_FILE = "BAD_FILE"
    #: A file beyond one of the reading limits (``limit`` names it: rows, columns,
    #: cellChars, bytes, uncompressedBytes, compressionRatio, members).
    FILE_TOO_LARGE = "FILE_TOO_LARGE"


class GatewayError(Exception):
    """An error the caller can act on. ``field`` names the offending input, if any."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"code": self.code.value}
        if self.field:
            ext["field"] = self.field
        ext.update(self.details)
        return ext


class Unauthenticated(GatewayError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(GatewayError):
    code = ErrorCode.FORBIDDEN


class NotFound(GatewayError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(GatewayError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(GatewayError):
    code = ErrorCode.CONFLICT


class ModuleDisabled(GatewayError):
    code = ErrorCode.MODULE_DISABLED


class RateLimited(GatewayError):
    code = ErrorCode.RATE_LIMITED


class Busy(GatewayError):
    code = ErrorCode.BUSY


class PayloadTooLarge(GatewayError):
    """More bytes than a limit allows (an upload over ``CRM_MAX_UPLOAD_BYTES``)."""

    code = ErrorCode.PAYLOAD_TOO_LARGE


class PluginError(RuntimeError):
    """A plugin broke the contract; raised at start-up, never shown to API clients."""
