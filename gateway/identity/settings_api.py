"""GraphQL for personal settings (MISSION I3) and the administrators' two-factor reset
(I2); the logic is in :mod:`gateway.identity.settings`."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.core.types import PersonalSettings, UserType
from gateway.errors import NotFound
from gateway.graphql.common import UserError, mutate, parse_global_id
from gateway.graphql.context import RequestContext
from gateway.graphql.input_checks import text, text_argument
from gateway.identity import settings as svc
from gateway.identity.api import MANAGE_USERS
from gateway.identity.models import User
from gateway.identity.users_api import UserPayload
from gateway.tenancy.models import Tenant

Ctx = Info[RequestContext, None]


@strawberry.input(
    description="Omitted fields keep their value; null language or time zone "
    "returns to the organisation's."
)
class MySettingsInput:
    language: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    email_signature: str | None = text(svc.MAX_SIGNATURE, multiline=True, default=strawberry.UNSET)


@strawberry.type
class MySettingsPayload:
    settings: PersonalSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value: object) -> object:
    return svc.KEEP if value is strawberry.UNSET else value


@strawberry.mutation(description="Change your language, time zone or email signature.")
def update_my_settings(info: Ctx, input: MySettingsInput) -> MySettingsPayload:
    ctx = info.context
    caller = ctx.require_caller()
    changes = svc.SettingsChanges(
        language=_given(input.language),  # type: ignore[arg-type]
        timezone=_given(input.timezone),  # type: ignore[arg-type]
        email_signature=_given(input.email_signature),  # type: ignore[arg-type]
    )

    def work(session: Session) -> PersonalSettings:
        user = svc.update_settings(session, session.get_one(User, caller.user_id), changes)
        return PersonalSettings.of(user, session.get_one(Tenant, caller.tenant_id))

    return mutate(ctx, MySettingsPayload, work, lambda s: MySettingsPayload(settings=s))


@strawberry.mutation(
    description="Set your photo from an image `data:` URL (PNG, JPEG, WebP "
    "or GIF, at most 1 MB; shrunk to 256x256)."
)
def set_my_photo(
    info: Ctx, data_url: Annotated[str, text_argument(2 * svc.images.MAX_BYTES)]
) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> User:
        return svc.set_photo(session, session.get_one(User, caller.user_id), data_url)

    return mutate(ctx, UserPayload, work, lambda u: UserPayload(user=UserType(record=u)))


@strawberry.mutation(description="Remove your photo.")
def remove_my_photo(info: Ctx) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> User:
        return svc.clear_photo(session, session.get_one(User, caller.user_id))

    return mutate(ctx, UserPayload, work, lambda u: UserPayload(user=UserType(record=u)))


@guarded(
    permission=MANAGE_USERS,
    description="Switch off a user's two-factor sign-in (lost authenticator, no recovery "
    "codes): their sessions end and they are notified (and emailed, where email is set up).",
)
def reset_user_two_factor(info: Ctx, user_id: strawberry.ID) -> UserPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> User:
        admin = session.get_one(User, caller.user_id)
        target = session.get(User, parse_global_id(user_id, "User", "userId"))
        if target is None or target.tenant_id != caller.tenant_id:
            raise NotFound("no such user", field="userId")
        svc.reset_two_factor(session, admin, target)
        return target

    payload = mutate(ctx, UserPayload, work, lambda u: UserPayload(user=UserType(record=u)))
    if not payload.errors and payload.user is not None:
        admin = ctx.session.get_one(User, caller.user_id)
        svc.email_reset_notice(ctx.gateway.settings, admin, payload.user.record)
    return payload


MUTATION_FIELDS = [update_my_settings, set_my_photo, remove_my_photo, reset_user_two_factor]
