"""Tenants' built-in profiles, users, sign-in and bearer-token sessions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, union_all, update
from sqlalchemy.orm import Session

from gateway.access import hierarchy, roles
from gateway.access.models import ProfilePermission
from gateway.access.scope import Facts, fact_branches, fact_row, facts_from_rows
from gateway.audit.admin import log_admin
from gateway.db import changed_rows, utcnow
from gateway.errors import BadUserInput, Conflict, NotFound, Unauthenticated
from gateway.identity.models import (
    ADMINISTRATOR_PROFILE,
    STANDARD_PROFILE,
    AuthSession,
    LoginChallenge,
    Profile,
    ProfileKind,
    User,
)
from gateway.identity.passwords import dummy_hash, hash_password, verify_password
from gateway.tenancy.models import Tenant, TenantModule

#: Root fields a session may use while its tenant requires 2FA and its user has not enrolled.
ENROLMENT_FIELDS = frozenset({"me", "enrollTwoFactor", "confirmTwoFactor", "logout"})
#: A session's ``last_used_at`` is refreshed at most this often (saves a write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class Caller:
    """The authenticated principal of a request, resolved once from its bearer token."""

    user_id: int
    tenant_id: int
    tenant_slug: str
    profile_id: int
    profile_kind: ProfileKind
    session_id: int
    #: The tenant requires two-factor sign-in and this user has not enrolled yet: the
    #: session may only enrol (and read ``me``, sign out).
    enrolment_only: bool = False

    @property
    def is_admin(self) -> bool:
        return self.profile_kind is ProfileKind.ADMINISTRATOR


def token_digest(token: str) -> str:
    """Tokens are 256-bit random, so one SHA-256 is enough (no need for a slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254:
        raise BadUserInput("not a valid email address", field="email")
    return email


# -- tenants and profiles --------------------------------------------------------------------


def create_tenant(
    session: Session, slug: str, name: str, standard_permissions: Iterable[str] = ()
) -> Tenant:
    """A tenant with its two built-in profiles, Administrator and Standard (MISSION I4), and
    its system roles, CEO and Manager below it (MISSION A7).

    ``standard_permissions`` are granted to Standard (see ``access.services.standard_grants``).
    """
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"tenant {slug!r} already exists", field="slug")
    tenant = Tenant(slug=slug, name=name)
    session.add(tenant)
    session.flush()
    session.add_all(
        [
            Profile(
                tenant_id=tenant.id,
                name=ADMINISTRATOR_PROFILE,
                kind=ProfileKind.ADMINISTRATOR,
                builtin=True,
            ),
            standard := Profile(
                tenant_id=tenant.id,
                name=STANDARD_PROFILE,
                kind=ProfileKind.HIERARCHICAL,
                builtin=True,
            ),
        ]
    )
    session.flush()
    session.add_all(
        ProfilePermission(profile_id=standard.id, code=code) for code in set(standard_permissions)
    )
    session.flush()
    roles.seed_system_roles(session, tenant.id)
    return tenant


def get_profile(session: Session, tenant_id: int, name: str) -> Profile:
    profile = session.scalar(
        select(Profile).where(Profile.tenant_id == tenant_id, Profile.name == name)
    )
    if profile is None:
        raise NotFound(f"no profile {name!r} in this tenant", field="profile")
    return profile


# -- users ----------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    tenant_id: int,
    email: str,
    password: str,
    display_name: str,
    profile: Profile,
    manager: User | None = None,
    hash_profile: str = "interactive",
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if profile.tenant_id != tenant_id or (manager and manager.tenant_id != tenant_id):
        raise BadUserInput("profile and manager must belong to the user's tenant")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("a user with this email already exists", field="email")
    user = User(
        tenant_id=tenant_id,
        email=email,
        display_name=display_name,
        password_hash=hash_password(password, hash_profile),
        profile=profile,
        manager_id=manager.id if manager else None,
    )
    session.add(user)
    session.flush()
    hierarchy.attach(session, user)
    log_admin(session, tenant_id, "users.created", email, {"profile": profile.name})
    return user


def _active_admins(session: Session, tenant_id: int) -> int:
    # Lock the tenant row so two concurrent demotions cannot both see "another admin left".
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    return (
        session.scalar(
            select(func.count(User.id))
            .join(Profile, User.profile_id == Profile.id)
            .where(
                User.tenant_id == tenant_id,
                User.is_active.is_(True),
                Profile.kind == ProfileKind.ADMINISTRATOR,
            )
        )
        or 0
    )


def ensure_not_last_admin(session: Session, user: User) -> None:
    is_admin = user.is_active and user.profile.kind is ProfileKind.ADMINISTRATOR
    if is_admin and _active_admins(session, user.tenant_id) <= 1:
        raise Conflict("a tenant must keep at least one active administrator")


def set_user_profile(session: Session, user: User, profile: Profile) -> None:
    if profile.tenant_id != user.tenant_id:
        raise NotFound("no such profile", field="profile")
    if profile.kind is not ProfileKind.ADMINISTRATOR:
        ensure_not_last_admin(session, user)
    user.profile = profile
    session.flush()


def deactivate_user(session: Session, user: User) -> None:
    """Deactivate and sign the user out everywhere; never the tenant's last administrator."""
    ensure_not_last_admin(session, user)
    user.is_active = False
    revoke_all_sessions(session, user.id)
    log_admin(session, user.tenant_id, "users.deactivated", user.email)
    session.flush()


# -- sign-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    session: AuthSession
    user: User


def check_password(session: Session, email: str, password: str, hash_profile: str) -> User:
    """The active user with these credentials; UNAUTHENTICATED otherwise, whatever the cause
    (unknown email, wrong password, deactivated), in about the same time."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(dummy_hash(hash_profile), password, hash_profile)
        raise Unauthenticated("invalid email or password")
    if not verify_password(user.password_hash, password, hash_profile) or not user.is_active:
        raise Unauthenticated("invalid email or password")
    return user


def open_session(session: Session, user: User, *, ttl: timedelta, client: str = "") -> IssuedToken:
    """A new bearer-token session for a user whose sign-in is complete."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    auth = AuthSession(
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=token_digest(token),
        created_at=now,
        last_used_at=now,
        expires_at=now + ttl,
        client=client[:300],
    )
    session.add(auth)
    session.flush()
    return IssuedToken(token=token, session=auth, user=user)


CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_MAX_FAILURES = 5


def create_challenge(session: Session, user: User) -> str:
    """The second step of a two-factor sign-in: a short-lived, single-use token."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginChallenge(
            user_id=user.id, token_hash=token_digest(token), expires_at=utcnow() + CHALLENGE_TTL
        )
    )
    session.flush()
    return token


def find_challenge(session: Session, token: str) -> LoginChallenge:
    challenge = session.scalar(
        select(LoginChallenge).where(LoginChallenge.token_hash == token_digest(token))
    )
    if (
        challenge is None
        or challenge.used_at is not None
        or challenge.expires_at <= utcnow()
        or challenge.failures >= CHALLENGE_MAX_FAILURES
    ):
        raise Unauthenticated("the sign-in challenge is invalid or expired; sign in again")
    return challenge


def consume_challenge(session: Session, challenge: LoginChallenge) -> None:
    used = changed_rows(
        session,
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge.id, LoginChallenge.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if used != 1:
        raise Unauthenticated("the sign-in challenge is invalid or expired; sign in again")


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    *,
    keep_session_id: int,
    hash_profile: str,
) -> None:
    """Change the password and end every other session of the user."""
    if not verify_password(user.password_hash, current, hash_profile):
        raise Unauthenticated("the current password is wrong")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="newPassword"
        )
    user.password_hash = hash_password(new, hash_profile)
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            AuthSession.id != keep_session_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    session.flush()


def user_sessions(session: Session, user_id: int) -> list[AuthSession]:
    """The user's live sessions, newest first."""
    return list(
        session.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
            )
            .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
        )
    )


@dataclass(frozen=True)
class Authenticated:
    """What a bearer token resolves to: the caller, whether ``last_used_at`` is stale enough
    to refresh (see :func:`touch_session`), the tenant's module switches, and the caller's
    access facts (permissions, field rules, hierarchy, shares, rules), all in one statement."""

    caller: Caller
    stale: bool
    module_overrides: dict[str, bool]
    facts: Facts


@cache
def _token_statement() -> Select[Any]:
    """Token → session, user, profile and tenant; the tenant's module switches; and the
    caller's access facts — one round trip per request, built once (bound parameters, so
    SQLAlchemy reuses its memoised cache key)."""
    tok = (
        select(
            AuthSession.id.label("session_id"),
            AuthSession.last_used_at.label("last_used_at"),
            User.id.label("user_id"),
            User.totp_secret.is_(None).label("not_enrolled"),
            Profile.id.label("profile_id"),
            Profile.kind.label("kind"),
            Tenant.id.label("tenant_id"),
            Tenant.slug.label("slug"),
            Tenant.require_two_factor.label("requires_2fa"),
        )
        .join(User, AuthSession.user_id == User.id)
        .join(Profile, User.profile_id == Profile.id)
        .join(Tenant, AuthSession.tenant_id == Tenant.id)
        .where(
            AuthSession.token_hash == bindparam("digest"),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > bindparam("now"),
            User.is_active.is_(True),
        )
        .cte("tok")
    )
    token = select(
        *fact_row(
            "token",
            s1=tok.c.slug,
            s2=tok.c.kind,
            i1=tok.c.session_id,
            i2=tok.c.user_id,
            i3=tok.c.profile_id,
            i4=tok.c.tenant_id,
            b=tok.c.not_enrolled,
            b2=tok.c.requires_2fa,
            t=tok.c.last_used_at,
        )
    )
    modules = select(*fact_row("module", s1=TenantModule.module, b=TenantModule.enabled)).where(
        TenantModule.tenant_id == tok.c.tenant_id
    )
    # every branch, whatever the profile kind (unknown before the token is read)
    facts = fact_branches(
        tok.c.profile_id, tok.c.user_id, tok.c.tenant_id, admin=False, assistant=True
    )
    return select(union_all(token, modules, *facts).subquery())


def authenticate(connection: Connection, token: str) -> Authenticated | None:
    """Resolve a bearer token; ``None`` when unknown, expired or revoked."""
    now = utcnow()
    rows = connection.execute(_token_statement(), {"digest": token_digest(token), "now": now}).all()
    head = next((r for r in rows if r[0] == "token"), None)
    if head is None:
        return None
    (
        _k,
        slug,
        kind,
        _s3,
        session_id,
        user_id,
        not_enrolled,
        profile_id,
        tenant_id,
        needs_2fa,
        last_used,
    ) = head
    caller = Caller(
        user_id=user_id,
        tenant_id=tenant_id,
        tenant_slug=slug,
        profile_id=profile_id,
        profile_kind=ProfileKind(kind),
        session_id=session_id,
        enrolment_only=bool(needs_2fa and not_enrolled),
    )
    overrides = {r[1]: bool(r[6]) for r in rows if r[0] == "module"}
    return Authenticated(
        caller,
        now - last_used > LAST_USED_RESOLUTION,
        overrides,
        facts_from_rows(rows, caller.profile_kind),
    )


def touch_session(session: Session, session_id: int) -> None:
    session.execute(
        update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=utcnow())
    )


def revoke_session(session: Session, session_id: int) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
