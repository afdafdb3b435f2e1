"""Checking contact input: emails, phones, currencies, countries, Spanish fiscal IDs."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from gateway.sdk import (
    BadUserInput,
)
from plugins.contacts.models import FiscalIdType

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
_NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
#: The phone number columns' length (contacts' and leads'): "+" and 40 more do not fit.
PHONE_LENGTH = 40


def fold(text: str) -> str:
    """Lower-case without accents: 'José Núñez' → 'jose nunez' (search and sorting)."""
    if text.isascii():  # nothing to decompose (most names, every email)
        return text.lower().strip()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def email(value: str, field: str = "email") -> str:
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise BadUserInput(f"{value!r} is not a valid email address", field=field)
    return value


def phone(value: str, field: str = "phone") -> tuple[str, str]:
    """The number as written and its digits (for matching)."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    if not _PHONE.match(value) or len(digits) < 3 or len(value) > PHONE_LENGTH:
        raise BadUserInput(f"{value!r} is not a valid phone number", field=field)
    return value, digits


def currency(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise BadUserInput("use an ISO 4217 code such as EUR", field="currency")
    return value


def country(value: str) -> str:
    value = value.strip().upper()
    if value and not re.fullmatch(r"[A-Z]{2}", value):
        raise BadUserInput("use an ISO 3166 two-letter code such as ES", field="country")
    return value


def coordinate(value: Decimal | None, limit: int, field: str) -> Decimal | None:
    if value is not None and not (-limit <= value <= limit):
        raise BadUserInput(f"must be between -{limit} and {limit}", field=field)
    return value


def discount(value: Decimal | None) -> Decimal | None:
    if value is not None and not (0 <= value <= 100):
        raise BadUserInput("a discount is a percentage between 0 and 100", field="discount")
    return value


def fiscal_id(value: str, kind: FiscalIdType | None) -> str:
    """Normalised fiscal ID, with the check letter/digit verified for NIF, NIE and CIF."""
    value = re.sub(r"[\s\-.]", "", value).upper()
    if not value or kind in (None, FiscalIdType.OTHER):
        return value
    ok = {
        FiscalIdType.NIF: _valid_nif,
        FiscalIdType.NIE: _valid_nie,
        FiscalIdType.CIF: _valid_cif,
    }[kind](value)
    if not ok:
        raise BadUserInput(f"{value} is not a valid {kind.value}", field="fiscalId")
    return value


def _valid_nif(value: str) -> bool:
    m = re.fullmatch(r"(\d{8})([A-Z])", value)
    return m is not None and _NIF_LETTERS[int(m[1]) % 23] == m[2]


def _valid_nie(value: str) -> bool:
    m = re.fullmatch(r"([XYZ])(\d{7})([A-Z])", value)
    if not m:
        return False
    number = int(str("XYZ".index(m[1])) + m[2])
    return _NIF_LETTERS[number % 23] == m[3]


def _valid_cif(value: str) -> bool:
    m = re.fullmatch(r"([ABCDEFGHJNPQRSUVW])(\d{7})([0-9A-J])", value)
    if not m:
        return False
    digits = m[2]
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    control = (10 - (even + odd) % 10) % 10
    return m[3] in (str(control), "JABCDEFGHI"[control])
