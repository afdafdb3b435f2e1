"""Invitations to join a tenant (MISSION I5): by email, or as a link to share.

A token is 256 random bits; the database keeps only its HMAC under the server key, so
neither a database reader nor anyone without the key can produce a valid one. Tokens are
single-use (a conditional UPDATE marks them accepted) and expire.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.db import changed_rows, utcnow
from gateway.errors import BadUserInput, Conflict, NotFound
from gateway.identity import services as identity
from gateway.identity.crypto import SecretBox
from gateway.identity.models import Invitation, Profile, User
from gateway.tenancy.models import Tenant


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str
    url: str


def issue(
    session: Session,
    box: SecretBox,
    *,
    tenant_id: int,
    profile: Profile,
    created_by: int,
    ttl: timedelta,
    public_url: str,
    email: str | None = None,
) -> IssuedInvitation:
    if profile.tenant_id != tenant_id:
        raise NotFound("no such profile", field="profileId")
    if email is not None:
        email = identity.normalise_email(email)
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict("a user with this email already exists", field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant_id=tenant_id,
        email=email,
        profile_id=profile.id,
        token_hash=box.sign(token),
        created_by_id=created_by,
        expires_at=utcnow() + ttl,
    )
    session.add(invitation)
    session.flush()
    url = f"{public_url.rstrip('/')}/invitations/accept?token={quote(token)}"
    return IssuedInvitation(invitation=invitation, token=token, url=url)


def find(session: Session, box: SecretBox, token: str) -> Invitation:
    """A pending, unexpired invitation for the token; NOT_FOUND otherwise (no details)."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == box.sign(token)))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise NotFound("this invitation is invalid, used or expired", field="token")
    return invitation


def accept(
    session: Session,
    box: SecretBox,
    token: str,
    *,
    email: str | None,
    display_name: str,
    password: str,
    hash_profile: str,
) -> User:
    """Create the invitee's account in the inviting tenant, with the invitation's profile."""
    invitation = find(session, box, token)
    if invitation.email is not None:
        if email is not None and identity.normalise_email(email) != invitation.email:
            raise BadUserInput("this invitation is for another email address", field="email")
        email = invitation.email
    if email is None:
        raise BadUserInput("give the email address to sign in with", field="email")
    if not display_name.strip():
        raise BadUserInput("a name is needed", field="displayName")
    claimed = changed_rows(
        session,
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        raise NotFound("this invitation is invalid, used or expired", field="token")
    profile = session.get_one(Profile, invitation.profile_id)
    user = identity.create_user(
        session,
        tenant_id=invitation.tenant_id,
        email=email,
        password=password,
        display_name=display_name.strip(),
        profile=profile,
        hash_profile=hash_profile,
    )
    invitation.accepted_user_id = user.id
    session.flush()
    return user


def email_text(tenant: Tenant, inviter: User, url: str, ttl: timedelta) -> tuple[str, str]:
    subject = f"{inviter.display_name} invites you to {tenant.name}"
    days = max(1, round(ttl.total_seconds() / 86400))
    body = (
        f"Hello,\n\n{inviter.display_name} ({inviter.email}) invites you to join "
        f"{tenant.name} on the CRM.\n\nAccept the invitation and choose your password here:\n"
        f"{url}\n\nThe link works once and expires in {days} day(s). If you did not expect "
        "this message, ignore it.\n"
    )
    return subject, body
