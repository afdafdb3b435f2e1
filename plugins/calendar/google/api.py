"""GraphQL of the Google Calendar sync: the caller's connection (a typed status), connect
(the authorisation URL), disconnect (revoke and forget), sync now (a job)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    JobPayload,
    JobType,
    OkPayload,
    RequestContext,
    UserError,
    defer_job,
    global_id,
    mutate,
    utcnow,
)
from plugins.calendar.google import oauth
from plugins.calendar.google.jobs import SYNC, connection_of
from plugins.calendar.google.models import ConnectionStatus, GoogleConnection

Ctx = Info[RequestContext, None]

strawberry.enum(
    ConnectionStatus,
    name="GoogleCalendarStatus",
    description="CONNECTED syncs; BROKEN: Google refused the account's access (revoked or "
    "expired) — connect again.",
)
GoogleCalendarStatusEnum: TypeAlias = ConnectionStatus


@strawberry.type(
    name="GoogleCalendarConnection",
    description="Your Google account whose primary calendar syncs with your tasks.",
)
class GoogleCalendarConnectionType:
    record: strawberry.Private[GoogleConnection]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("GoogleCalendarConnection", self.record.id)

    @strawberry.field(description="True while the sync runs (status CONNECTED).")
    def connected(self) -> bool:
        return self.record.status is ConnectionStatus.CONNECTED

    @strawberry.field
    def status(self) -> GoogleCalendarStatusEnum:
        return self.record.status

    @strawberry.field(description="The Google account's address.")
    def email(self) -> str:
        return self.record.email

    @strawberry.field(description="The synced calendar (the account's primary calendar).")
    def calendar_id(self) -> str:
        return self.record.calendar_id

    @strawberry.field
    def connected_at(self) -> datetime:
        return self.record.connected_at

    @strawberry.field(description="When the last sync completed.")
    def last_synced_at(self) -> datetime | None:
        return self.record.last_synced_at

    @strawberry.field(description="Why the last sync (or the connection) failed, if it did.")
    def last_error(self) -> str | None:
        return self.record.last_error


@strawberry.type
class ConnectGoogleCalendarPayload:
    authorization_url: str | None = strawberry.field(
        default=None,
        description="Send the browser here; Google returns it to the callback, which "
        "finishes the connection and redirects to the frontend.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field(description="Your Google Calendar connection; null when not connected.")
def google_calendar_connection(info: Ctx) -> GoogleCalendarConnectionType | None:
    ctx = info.context
    found = connection_of(ctx)
    return GoogleCalendarConnectionType(record=found) if found is not None else None


@strawberry.mutation(
    description="Start connecting your Google account (OAuth 2.0 with PKCE): the URL to send "
    "your browser to. Valid for 10 minutes, once."
)
def connect_google_calendar(info: Ctx) -> ConnectGoogleCalendarPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> str:
        return oauth.begin(ctx.gateway, session, caller.tenant_id, caller.user_id)

    return mutate(
        ctx,
        ConnectGoogleCalendarPayload,
        work,
        lambda url: ConnectGoogleCalendarPayload(authorization_url=url),
    )


@strawberry.mutation(
    description="Disconnect your Google account: Google is asked to revoke the access, the "
    "token is deleted, and the events already synced stay in both calendars."
)
def disconnect_google_calendar(info: Ctx) -> OkPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> str | None:
        found = connection_of(ctx)
        if found is None:
            raise BadUserInput("no Google account is connected")
        token = ctx.gateway.secret_box.decrypt(found.refresh_token)
        session.delete(found)
        return token

    token = mutate(ctx, OkPayload, work, lambda value: value)
    if isinstance(token, OkPayload):
        return token
    if token is not None:
        oauth.revoke(ctx.gateway.settings, token)  # after the commit: the CRM forgets it anyway
    return OkPayload(ok=True)


@strawberry.mutation(description="Sync your Google calendar now (a job; quiet unless it fails).")
def sync_google_calendar(info: Ctx) -> JobPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> JobType:
        found = connection_of(ctx)
        if found is None or found.status is not ConnectionStatus.CONNECTED:
            raise BadUserInput("connect your Google account first")
        job = defer_job(ctx, SYNC, {})
        found.sync_queued_at = utcnow()  # the periodic kind does not queue a second one
        session.flush()
        return JobType(record=job)

    return mutate(ctx, JobPayload, work, lambda job: JobPayload(job=job))


QUERY_FIELDS = [google_calendar_connection]
MUTATION_FIELDS = [connect_google_calendar, disconnect_google_calendar, sync_google_calendar]
TYPES = [GoogleCalendarConnectionType]
