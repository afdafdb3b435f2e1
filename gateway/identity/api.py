"""GraphQL API of identity: sign-in with two-factor authentication, sessions, password and
invitations. User CRUD is in :mod:`gateway.identity.users_api`; organisation settings in
:mod:`gateway.tenancy.api`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway import mail
from gateway.access.fields import guarded
from gateway.audit.admin import log_admin
from gateway.core.types import PersonalSettings, ProfileType, TenantType, UserType, Viewer
from gateway.errors import GatewayError, NotFound, Unauthenticated
from gateway.graphql.common import UserError, global_id, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.payloads import OkPayload
from gateway.identity import invitations, throttle, two_factor
from gateway.identity import services as identity
from gateway.identity.models import AuthSession, LoginChallenge, Profile, User
from gateway.tenancy import services as tenancy
from gateway.tenancy.models import Tenant

Ctx = Info[RequestContext, None]
T = TypeVar("T")
MANAGE_ORGANIZATION = "core.organization.manage"
MANAGE_USERS = "core.users.manage"


# -- sign-in ----------------------------------------------------------------------------------


def viewer(session: Session, ctx: RequestContext, user_id: int) -> Viewer:
    user = session.get_one(User, user_id)
    tenant = session.get_one(Tenant, user.tenant_id)
    modules = tenancy.enabled_modules(session, ctx.gateway.registry, tenant.id)
    return Viewer(
        user=UserType.from_model(user),
        tenant=TenantType.from_model(tenant),
        profile=ProfileType.from_model(user.profile),
        settings=PersonalSettings.of(user, tenant),
        enabled_modules=sorted(modules),
        two_factor_enabled=user.two_factor_enabled,
        two_factor_enrolment_required=tenant.require_two_factor and not user.two_factor_enabled,
    )


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = None
    viewer: Viewer | None = None
    two_factor_required: bool = strawberry.field(
        default=False, description="Finish with `verifyTwoFactor(challenge, code)`."
    )
    challenge: str | None = strawberry.field(
        default=None, description="Short-lived (5 min), single-use second-step token."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _limits(ctx: RequestContext, email: str) -> list[throttle.Limit]:
    s = ctx.gateway.settings
    return [
        throttle.Limit(throttle.account_key(email), s.max_failures_per_account),
        throttle.Limit(throttle.address_key(ctx.client_address), s.max_failures_per_address),
    ]


def _throttled(
    ctx: RequestContext,
    email: str,
    attempt: Callable[[Session], T],
    on_failure: Callable[[Session], None] | None = None,
) -> T:
    """Run a credential check under the rate limits; a failure is counted in its own
    transaction (the attempt's own work is rolled back) before it is reported."""
    limits = _limits(ctx, email)
    with ctx.transaction() as session:
        throttle.check(session, limits)
    try:
        with ctx.transaction() as session:
            result = attempt(session)
            throttle.record_success(session, limits[0].key)
            return result
    except Unauthenticated:
        window = timedelta(seconds=ctx.gateway.settings.lockout_seconds)
        with ctx.transaction() as session:
            throttle.record_failure(session, limits, window)
            if on_failure is not None:
                on_failure(session)
        raise


def _signed_in(session: Session, ctx: RequestContext, user: User) -> LoginPayload:
    ttl = timedelta(seconds=ctx.gateway.settings.token_ttl_seconds)
    issued = identity.open_session(session, user, ttl=ttl, client=ctx.client)
    two_factor_used = user.two_factor_enabled
    log_admin(
        session,
        user.tenant_id,
        "auth.sign_in",
        user.email,
        {"twoFactor": two_factor_used},
        user_id=user.id,
    )
    return LoginPayload(
        token=issued.token,
        expires_at=issued.session.expires_at,
        viewer=viewer(session, ctx, user.id),
    )


@strawberry.mutation(
    description="Sign in with email and password. With two-factor authentication on, the "
    "answer is `twoFactorRequired` and a `challenge` for `verifyTwoFactor`."
)
def login(info: Ctx, email: str, password: str) -> LoginPayload:
    ctx = info.context
    hash_profile = ctx.gateway.settings.password_hash_profile

    def attempt(session: Session) -> LoginPayload:
        user = identity.check_password(session, email, password, hash_profile)
        if user.two_factor_enabled:
            challenge = identity.create_challenge(session, user)
            return LoginPayload(two_factor_required=True, challenge=challenge)
        return _signed_in(session, ctx, user)

    def failed(session: Session) -> None:
        """A failed password on an existing account goes to its organisation's log."""
        account = session.scalar(select(User).where(User.email == identity.normalise_email(email)))
        if account is not None:
            log_admin(
                session, account.tenant_id, "auth.sign_in_failed", account.email, user_id=account.id
            )

    try:
        return _throttled(ctx, email, attempt, failed)
    except GatewayError as exc:
        return LoginPayload(errors=[UserError.from_exception(exc)])


@strawberry.mutation(
    description="Second step of a two-factor sign-in: a code from the authenticator app, "
    "or a recovery code (each works once)."
)
def verify_two_factor(info: Ctx, challenge: str, code: str) -> LoginPayload:
    ctx = info.context
    box = ctx.gateway.secret_box
    try:
        with ctx.transaction() as session:
            found = identity.find_challenge(session, challenge)
            user = session.get_one(User, found.user_id)
            email, challenge_id = user.email, found.id
    except GatewayError as exc:
        return LoginPayload(errors=[UserError.from_exception(exc)])

    def attempt(session: Session) -> LoginPayload:
        current = identity.find_challenge(session, challenge)
        account = session.get_one(User, current.user_id)
        if not two_factor.verify(session, box, account, code):
            raise Unauthenticated("that code is not valid")
        identity.consume_challenge(session, current)
        return _signed_in(session, ctx, account)

    def count_failure(session: Session) -> None:
        challenged = session.get_one(LoginChallenge, challenge_id)
        challenged.failures += 1
        account = session.get_one(User, challenged.user_id)
        log_admin(session, account.tenant_id, "auth.two_factor_failed", email, user_id=account.id)

    try:
        return _throttled(ctx, email, attempt, count_failure)
    except GatewayError as exc:
        return LoginPayload(errors=[UserError.from_exception(exc)])


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.mutation(description="End the current session; its token stops working at once.")
def logout(info: Ctx) -> LogoutPayload:
    ctx = info.context
    caller = ctx.require_caller()
    with ctx.transaction() as session:
        identity.revoke_session(session, caller.session_id)
    return LogoutPayload(ok=True)


# -- two-factor enrolment --------------------------------------------------------------------


@strawberry.type
class TwoFactorEnrolment:
    secret: str = strawberry.field(description="For manual entry in an authenticator app.")
    otpauth_uri: str
    qr_code: str = strawberry.field(description="The otpauth URI as an SVG data URL.")


@strawberry.type
class EnrollTwoFactorPayload:
    enrolment: TwoFactorEnrolment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmTwoFactorPayload:
    recovery_codes: list[str] = strawberry.field(
        default_factory=list, description="Ten single-use codes, shown this once only."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.mutation(description="Start enrolling an authenticator app (confirm with a code).")
def enroll_two_factor(info: Ctx) -> EnrollTwoFactorPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> two_factor.Enrolment:
        user = session.get_one(User, caller.user_id)
        tenant = session.get_one(Tenant, caller.tenant_id)
        return two_factor.begin_enrolment(session, ctx.gateway.secret_box, user, tenant.name)

    return mutate(
        ctx,
        EnrollTwoFactorPayload,
        work,
        lambda result: EnrollTwoFactorPayload(
            enrolment=TwoFactorEnrolment(
                secret=result.secret, otpauth_uri=result.otpauth_uri, qr_code=result.qr_svg_data_url
            )
        ),
    )


@strawberry.mutation(description="Switch two-factor authentication on with a first code.")
def confirm_two_factor(info: Ctx, code: str) -> ConfirmTwoFactorPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> list[str]:
        user = session.get_one(User, caller.user_id)
        codes = two_factor.confirm_enrolment(session, ctx.gateway.secret_box, user, code)
        log_admin(session, user.tenant_id, "auth.two_factor_enabled", user.email)
        return codes

    return mutate(
        ctx,
        ConfirmTwoFactorPayload,
        work,
        lambda codes: ConfirmTwoFactorPayload(recovery_codes=codes),
    )


@strawberry.mutation(description="Switch two-factor authentication off (password and a code).")
def disable_two_factor(info: Ctx, password: str, code: str) -> OkPayload:
    ctx = info.context
    caller = ctx.require_caller()
    settings = ctx.gateway.settings
    me = ctx.session.get_one(User, caller.user_id)

    def attempt(session: Session) -> None:
        user = session.get_one(User, caller.user_id)
        identity.check_password(session, user.email, password, settings.password_hash_profile)
        if not two_factor.verify(session, ctx.gateway.secret_box, user, code):
            raise Unauthenticated("that code is not valid")
        two_factor.disable(session, user)
        log_admin(session, user.tenant_id, "auth.two_factor_disabled", user.email)

    try:
        _throttled(ctx, me.email, attempt)
    except GatewayError as exc:
        return OkPayload(errors=[UserError.from_exception(exc)])
    return OkPayload(ok=True)


# -- sessions and password -------------------------------------------------------------------


@strawberry.type(name="Session")
class SessionType:
    record: strawberry.Private[AuthSession]
    current: bool

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Session", self.record.id)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def last_used_at(self) -> datetime:
        return self.record.last_used_at

    @strawberry.field
    def expires_at(self) -> datetime:
        return self.record.expires_at

    @strawberry.field(description="The client that opened it (its user agent).")
    def client(self) -> str:
        return self.record.client


@strawberry.field(description="Your signed-in sessions, newest first.")
def my_sessions(info: Ctx) -> list[SessionType]:
    ctx = info.context
    caller = ctx.require_caller()
    return [
        SessionType(record=s, current=s.id == caller.session_id)
        for s in identity.user_sessions(ctx.session, caller.user_id)
    ]


@strawberry.mutation(description="End one of your sessions.")
def revoke_session(info: Ctx, id: strawberry.ID) -> OkPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> bool:
        pk = parse_global_id(id, "Session")
        target = session.get(AuthSession, pk)
        if target is None or target.user_id != caller.user_id:
            raise NotFound("no such session", field="id")
        identity.revoke_session(session, pk)
        return True

    return mutate(ctx, OkPayload, work, lambda _: OkPayload(ok=True))


@strawberry.mutation(description="End all your sessions (the current one too, unless kept).")
def revoke_all_sessions(info: Ctx, keep_current: bool = True) -> OkPayload:
    ctx = info.context
    caller = ctx.require_caller()
    with ctx.transaction() as session:
        for s in identity.user_sessions(session, caller.user_id):
            if not (keep_current and s.id == caller.session_id):
                identity.revoke_session(session, s.id)
    return OkPayload(ok=True)


@strawberry.mutation(description="Change your password; your other sessions end.")
def change_password(info: Ctx, current_password: str, new_password: str) -> OkPayload:
    ctx = info.context
    caller = ctx.require_caller()
    settings = ctx.gateway.settings
    me = ctx.session.get_one(User, caller.user_id)

    def attempt(session: Session) -> None:
        user = session.get_one(User, caller.user_id)
        identity.change_password(
            session,
            user,
            current_password,
            new_password,
            keep_session_id=caller.session_id,
            hash_profile=settings.password_hash_profile,
        )

    try:
        _throttled(ctx, me.email, attempt)
    except GatewayError as exc:
        return OkPayload(errors=[UserError.from_exception(exc)])
    return OkPayload(ok=True)


# -- invitations -------------------------------------------------------------------------------


@strawberry.type
class InvitationType:
    email: str | None
    organization: str
    profile: str
    expires_at: datetime


@strawberry.type
class InvitationPayload:
    url: str | None = strawberry.field(
        default=None, description="The link to accept (share it; it works once)."
    )
    expires_at: datetime | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _invite(ctx: RequestContext, profile_id: strawberry.ID, email: str | None) -> InvitationPayload:
    caller = ctx.require_caller()  # MANAGE_USERS: declared on the root fields
    settings = ctx.gateway.settings
    ttl = timedelta(seconds=settings.invitation_ttl_seconds)

    def work(session: Session) -> invitations.IssuedInvitation:
        profile = session.get(Profile, parse_global_id(profile_id, "Profile", "profileId"))
        if profile is None:
            raise NotFound("no such profile", field="profileId")
        issued = invitations.issue(
            session,
            ctx.gateway.secret_box,
            tenant_id=caller.tenant_id,
            profile=profile,
            created_by=caller.user_id,
            ttl=ttl,
            public_url=settings.public_url,
            email=email,
        )
        if email is not None:
            inviter = session.get_one(User, caller.user_id)
            tenant = session.get_one(Tenant, caller.tenant_id)
            subject, body = invitations.email_text(tenant, inviter, issued.url, ttl)
            mail.send(
                settings, mail.compose(settings, issued.invitation.email or email, subject, body)
            )
        return issued

    return mutate(
        ctx,
        InvitationPayload,
        work,
        lambda result: InvitationPayload(url=result.url, expires_at=result.invitation.expires_at),
    )


@guarded(permission=MANAGE_USERS, description="Invite someone by email to join with a profile.")
def invite_user(info: Ctx, email: str, profile_id: strawberry.ID) -> InvitationPayload:
    return _invite(info.context, profile_id, email)


@guarded(permission=MANAGE_USERS, description="Create an invitation link to share (single use).")
def create_invitation_link(info: Ctx, profile_id: strawberry.ID) -> InvitationPayload:
    return _invite(info.context, profile_id, None)


@strawberry.field(description="What an invitation offers (for the accept page; no sign-in).")
def invitation(info: Ctx, token: str) -> InvitationType | None:
    ctx = info.context
    try:
        found = invitations.find(ctx.session, ctx.gateway.secret_box, token)
    except GatewayError:
        return None
    tenant = ctx.session.get_one(Tenant, found.tenant_id)
    profile = ctx.session.get_one(Profile, found.profile_id)
    return InvitationType(
        email=found.email,
        organization=tenant.name,
        profile=profile.name,
        expires_at=found.expires_at,
    )


@strawberry.mutation(description="Accept an invitation: set your password and sign in.")
def accept_invitation(
    info: Ctx, token: str, display_name: str, password: str, email: str | None = None
) -> LoginPayload:
    ctx = info.context

    def work(session: Session) -> LoginPayload:
        user = invitations.accept(
            session,
            ctx.gateway.secret_box,
            token,
            email=email,
            display_name=display_name,
            password=password,
            hash_profile=ctx.gateway.settings.password_hash_profile,
        )
        return _signed_in(session, ctx, user)

    return mutate(ctx, LoginPayload, work, lambda signed_in: signed_in)


QUERY_FIELDS = [my_sessions, invitation]
MUTATION_FIELDS = [
    login,
    verify_two_factor,
    logout,
    enroll_two_factor,
    confirm_two_factor,
    disable_two_factor,
    revoke_session,
    revoke_all_sessions,
    change_password,
    invite_user,
    create_invitation_link,
    accept_invitation,
]
