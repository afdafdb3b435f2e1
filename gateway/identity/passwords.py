"""argon2id password hashing (argon2-cffi), with a cheap profile for test suites."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY


@cache
def hasher(profile: str = "interactive") -> PasswordHasher:
    """RFC 9106's low-memory argon2id profile; "fast" keeps argon2id but tiny costs (tests)."""
    if profile == "fast":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def hash_password(password: str, profile: str = "interactive") -> str:
    return hasher(profile).hash(password)


def verify_password(password_hash: str, password: str, profile: str = "interactive") -> bool:
    try:
        return hasher(profile).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash(profile: str = "interactive") -> str:
    """A hash to verify against when the email is unknown, so timing does not tell."""
    return hash_password("not-a-real-password", profile)
