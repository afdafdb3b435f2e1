"""GraphQL types and helpers every module shares: payload errors, IDs, page sizes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

import strawberry
from sqlalchemy.orm import Session
from strawberry.relay import from_base64, to_base64

from gateway.config import Settings
from gateway.contract import AccessLevel
from gateway.errors import BadUserInput, ErrorCode, GatewayError

T = TypeVar("T")
strawberry.enum(ErrorCode, name="ErrorCode")
ErrorCodeEnum: TypeAlias = ErrorCode
strawberry.enum(
    AccessLevel,
    name="AccessLevel",
    description="Per-record access: PRIVATE (owner, those above, shares, structural and "
    "administrators), PUBLIC_READ or PUBLIC_WRITE (every user with the module permission).",
)
AccessLevelEnum: TypeAlias = AccessLevel


@strawberry.type(description="A domain failure reported in a mutation payload.")
class UserError:
    code: ErrorCodeEnum
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, when one is."
    )

    @classmethod
    def from_exception(cls, exc: GatewayError) -> UserError:
        return cls(code=exc.code, message=exc.message, field=exc.field)


def global_id(type_name: str, pk: int) -> strawberry.ID:
    """Opaque relay-style ID: base64 of ``Type:pk``."""
    return strawberry.ID(to_base64(type_name, pk))


#: Primary keys are ``INTEGER`` columns: 32-bit on PostgreSQL (64-bit on SQLite), so a larger
#: key cannot exist, and binding one would fail there ("integer out of range").
MAX_KEY = 2**31 - 1
_KEY = re.compile(r"[0-9]{1,19}")


def split_global_id(value: str, field: str = "id") -> tuple[str, int]:
    """The type name and primary key inside a global ID; BAD_USER_INPUT unless the key is
    plain ASCII digits that fit the key columns (:data:`MAX_KEY`)."""
    try:
        type_name, raw = from_base64(value)
    except (ValueError, TypeError) as exc:
        raise BadUserInput(f"{shown(value)} is not a valid ID", field=field) from exc
    if not isinstance(raw, str) or not _KEY.fullmatch(raw) or int(raw) > MAX_KEY:
        raise BadUserInput(f"{shown(value)} is not a valid ID", field=field)
    return type_name, int(raw)


def parse_global_id(value: str, expected_type: str, field: str = "id") -> int:
    """The primary key inside a global ID of ``expected_type``; BAD_USER_INPUT otherwise."""
    type_name, pk = split_global_id(value, field)
    if type_name != expected_type:
        raise BadUserInput(f"expected an ID of a {expected_type}", field=field)
    return pk


def shown(value: object) -> str:
    """A refused value for a message, shortened (it may be 100,000 characters long)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def page_size(first: int | None, settings: Settings, field: str = "first") -> int:
    """A list's page size: the default when omitted; refused (never truncated) above the cap."""
    if first is None:
        return settings.default_page_size
    if first < 0:
        raise BadUserInput("must not be negative", field=field)
    if first > settings.max_page_size:
        raise BadUserInput(
            f"at most {settings.max_page_size} items per page",
            field=field,
            maxPageSize=settings.max_page_size,
        )
    return first


P = TypeVar("P")
R = TypeVar("R")


def mutate(
    context: Any,
    payload: Callable[..., P],
    work: Callable[[Session], T],
    build: Callable[[T], R],
) -> P | R:
    """Run a mutation's ``work`` as one unit of work and answer with its payload: ``build``
    on success; on a domain failure everything is rolled back and the payload carries the
    error (``payload(errors=[...])``). ``build`` usually makes the payload too; a caller that
    goes on working may have it return the value instead."""
    try:
        with context.transaction() as session:
            value = work(session)
    except GatewayError as exc:
        return payload(errors=[UserError.from_exception(exc)])
    return build(value)
