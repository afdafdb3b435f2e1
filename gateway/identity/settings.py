"""Personal settings (MISSION I3) and the administrators' reset of a user's second factor
(I2). No GraphQL here: ``settings_api.py`` publishes them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway import images, mail
from gateway.audit.admin import log_admin
from gateway.config import Settings
from gateway.errors import BadUserInput
from gateway.identity import two_factor
from gateway.identity.models import User
from gateway.identity.services import revoke_all_sessions
from gateway.notifications import notify
from gateway.tenancy.models import Tenant
from gateway.tenancy.organization import checked_language, checked_timezone
from gateway.text import printable

log = logging.getLogger("gateway.identity")

#: The longest email signature kept (characters).
MAX_SIGNATURE = 2000
#: A user's photo is shown small (avatars): shrunk to fit this box.
PHOTO_FIT = (256, 256)

#: "Leave as it is" in :class:`SettingsChanges` (``None`` means "back to the default").
KEEP: Any = object()


@dataclass
class SettingsChanges:
    language: str | None = KEEP
    timezone: str | None = KEEP
    email_signature: str | None = KEEP


def effective_language(user: User, tenant: Tenant) -> str:
    return user.language or tenant.language


def effective_timezone(user: User, tenant: Tenant) -> str:
    """The time zone to show this user times in: their own, else the organisation's."""
    return user.timezone or tenant.timezone


def update_settings(session: Session, user: User, changes: SettingsChanges) -> User:
    """Apply the given settings; ``None`` for language or time zone returns to the
    organisation's. Every value is checked before any is written."""
    language = changes.language
    if language is not KEEP and language is not None:
        language = checked_language(language.strip())
    timezone = changes.timezone
    if timezone is not KEEP and timezone is not None:
        timezone = checked_timezone(timezone.strip())
    signature = changes.email_signature
    if signature is not KEEP:
        signature = printable(signature or "").strip()
        if len(signature) > MAX_SIGNATURE:
            raise BadUserInput(
                f"the signature may be at most {MAX_SIGNATURE} characters",
                field="emailSignature",
            )
    if language is not KEEP:
        user.language = language
    if timezone is not KEEP:
        user.timezone = timezone
    if signature is not KEEP:
        user.email_signature = signature
    session.flush()
    return user


def set_photo(session: Session, user: User, data_url: str) -> User:
    user.photo, user.photo_mime = images.normalise(images.decode(data_url), PHOTO_FIT)
    session.flush()
    return user


def clear_photo(session: Session, user: User) -> User:
    user.photo = user.photo_mime = None
    session.flush()
    return user


def reset_two_factor(session: Session, admin: User, user: User) -> None:
    """An administrator switches off ``user``'s second factor (lost phone, no recovery
    codes): the secret and recovery codes go, every session of the user ends (a stolen
    session must not outlive the reset), and the user is told. If the organisation requires
    two-factor sign-in, their next sign-in can only enrol again."""
    if user.tenant_id != admin.tenant_id:
        raise BadUserInput("no such user", field="userId")
    if not user.two_factor_enabled and user.totp_pending_secret is None:
        raise BadUserInput("this user has no second factor to reset", field="userId")
    two_factor.disable(session, user)
    revoke_all_sessions(session, user.id)
    notify(
        session,
        tenant_id=user.tenant_id,
        user_id=user.id,
        kind="identity.two_factor_reset",
        title=f"{admin.display_name} reset your two-factor sign-in; set it up again",
    )
    log_admin(session, user.tenant_id, "auth.two_factor_reset", user.email, user_id=admin.id)


def email_reset_notice(settings: Settings, admin: User, user: User) -> None:
    """Tell the user by email too, where SMTP is configured (after the reset committed):
    a reset they did not ask for is a sign of an attack on their account."""
    if not settings.smtp_host:
        return
    body = (
        f"{admin.display_name} ({admin.email}) reset the two-factor sign-in of your account "
        f"{user.email}. Sign in with your password and set up your authenticator app again.\n\n"
        "If you did not ask for this, tell your administrator at once."
    )
    try:
        mail.send(
            settings, mail.compose(settings, user.email, "Your two-factor sign-in was reset", body)
        )
    except OSError:
        log.warning("could not email the two-factor reset notice", extra={"user_id": user.id})
