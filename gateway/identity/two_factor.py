"""TOTP two-factor authentication (RFC 6238) with pyotp: enrolment, codes, recovery codes.

Codes are accepted within ±1 time step of drift, and each time step at most once: the last
accepted step is stored per user and advanced with a conditional UPDATE, so a replayed code
is refused even by another worker. Secrets are encrypted at rest with the server key;
recovery codes are stored as SHA-256 digests (80 random bits each) and work once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.db import changed_rows, utcnow
from gateway.errors import BadUserInput, Conflict
from gateway.identity.crypto import SecretBox
from gateway.identity.models import RecoveryCode, User

ISSUER = "CRM Gateway"
RECOVERY_CODES = 10
DRIFT_STEPS = 1
_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg_data_url: str


def begin_enrolment(session: Session, box: SecretBox, user: User, issuer: str) -> Enrolment:
    """A new secret awaiting confirmation (replaces any unconfirmed one)."""
    if user.two_factor_enabled:
        raise Conflict("two-factor authentication is already on; disable it first")
    secret = pyotp.random_base32()
    user.totp_pending_secret = box.encrypt(secret)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer or ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_url=qr)


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = secrets.token_hex(10)  # 80 bits
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        candidate = step + offset
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _accept_step(session: Session, user: User, step: int) -> bool:
    """Advance the last accepted step if ``step`` is newer; False when it was used."""
    changed = changed_rows(
        session,
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False),
    )
    return changed == 1


def confirm_enrolment(session: Session, box: SecretBox, user: User, code: str) -> list[str]:
    """Switch 2FA on with a first code; returns the recovery codes (shown once)."""
    if user.totp_pending_secret is None:
        raise Conflict("start the enrolment first")
    secret = box.decrypt(user.totp_pending_secret)
    step = _matching_step(secret, code.strip(), time.time()) if _CODE.match(code.strip()) else None
    if step is None:
        raise BadUserInput("that code is not valid", field="code")
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    session.flush()
    if not _accept_step(session, user, step):
        raise BadUserInput("that code was already used", field="code")
    return replace_recovery_codes(session, user)


def replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(c)) for c in codes)
    session.flush()
    return codes


def verify(session: Session, box: SecretBox, user: User, code: str) -> bool:
    """A current TOTP code (once per time step) or an unused recovery code (once)."""
    if user.totp_secret is None:
        return False
    code = code.strip()
    if _CODE.match(code):
        step = _matching_step(box.decrypt(user.totp_secret), code, time.time())
        return step is not None and _accept_step(session, user, step)
    digest = _digest(code)
    found = session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    changed = changed_rows(
        session,
        update(RecoveryCode)
        .where(RecoveryCode.id == found, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    return changed == 1


def disable(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
