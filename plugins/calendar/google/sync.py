"""One sync of one connection, run as its user (``CallerContext.acting_for``): push the
CRM's changes, then pull Google's.

Push (CRM → Google), for the tasks the user is responsible for:
- a task without an event is inserted under the CRM's deterministic id (409 ``duplicate``
  means an earlier attempt made it: it is read and adopted, never duplicated), marked in
  ``extendedProperties.private`` (``crmOrigin``, ``crmTaskId``, ``crmTenant``);
- a changed task patches its event with ``If-Match: <etag>``. 412 means Google changed it
  meanwhile: the event is read again and the **last writer wins** — the event's
  ``updated`` against the task's ``updated_at``; if Google's is later the task takes the
  event's fields, else the patch is repeated on the fresh etag;
- a task deleted in the CRM (or that left the user) removes its event from Google only if
  the CRM created it (seed rule); an event made in Google is left there.

Pull (Google → CRM) lists what changed since the last ``nextSyncToken`` (deleted events
included); 410 ``fullSyncRequired`` drops the token and lists everything, and a linked
event missing from the full list counts as deleted. New events become tasks of the user
(no reminder: Google reminds of its own events); changed events update their task; an
event deleted in Google deletes its task only if the task came from Google and the user is
its only participant (seed rule) — otherwise the task stays and is no longer synced.

The user's visibility and rights bound everything: a task the user may not change is not
changed (the item is skipped and counted), each item in its own savepoint.
Rate limits (429, 403 rate-limit reasons) and server errors raise ``TransientJobError``:
the job kernel retries with backoff, and the retry is idempotent (ids, etags, sync token
saved only on success). A refused refresh token (``invalid_grant``) marks the connection
BROKEN, tells the user, and stops its syncs until they reconnect."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from sqlalchemy import and_, exists, or_, select

from gateway.sdk import (
    CallerContext,
    GatewayError,
    TransientJobError,
    get_writable,
    global_id,
    notify,
    utcnow,
)
from plugins.calendar import services
from plugins.calendar.google import client
from plugins.calendar.google import mapping as m
from plugins.calendar.google.models import (
    ConnectionStatus,
    GoogleConnection,
    GoogleEventLink,
    Origin,
)
from plugins.calendar.models import Task

log = logging.getLogger("plugins.calendar.google")

#: Most tasks one sync pushes; the rest wait for the next one.
PUSH_BATCH = 200
#: Events per list page.
PAGE_SIZE = 250
#: Google events that ended longer ago than this are history: they do not become tasks.
PAST = timedelta(days=30)
BROKEN_KIND = "calendar.google_broken"


class Broken(Exception):
    """Google no longer accepts the connection's credentials."""


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + n


def _call(request: Any) -> Any:
    """Execute one API request; transient failures become ``TransientJobError``."""
    try:
        return request.execute()
    except HttpError as error:
        if client.is_transient(error):
            raise TransientJobError(f"Google answered {error.status_code}") from error
        if error.status_code == 401:
            raise Broken("Google refused the access token") from error
        raise
    except RefreshError as error:
        raise Broken(str(error) or "Google refused the refresh token") from error
    except (TransportError, OSError, httplib2.HttpLib2Error) as error:
        raise TransientJobError("Google could not be reached") from error


def _if_match(request: Any, etag: str | None) -> Any:
    if etag:
        request.headers["If-Match"] = etag
    return request


class Sync:
    """One run for one connection; ``ctx`` acts for the connection's user."""

    def __init__(
        self, ctx: CallerContext, connection: GoogleConnection, service: Any, now: datetime
    ) -> None:
        self.ctx = ctx
        self.now = now
        self.session = ctx.session
        self.conn = connection
        self.events = service.events()
        self.user_id = connection.user_id
        self.counts = Counts()

    # -- helpers -------------------------------------------------------------------------

    def _private(self, task: Task) -> dict[str, str]:
        return {
            m.ORIGIN_KEY: m.ORIGIN_CRM,
            m.TASK_KEY: str(task.id),
            m.TENANT_KEY: str(self.conn.tenant_id),
        }

    def _link(self, task: Task | None, event: dict[str, Any], origin: Origin) -> GoogleEventLink:
        link = GoogleEventLink(
            tenant_id=self.conn.tenant_id,
            connection_id=self.conn.id,
            task_id=task.id if task is not None else None,
            event_id=event["id"],
            origin=origin,
            cancelled=event.get("status") == "cancelled",
        )
        self.session.add(link)
        self._seen(link, event, task)
        return link

    def _seen(self, link: GoogleEventLink, event: dict[str, Any], task: Task | None) -> None:
        """Record the event as last read or written, and the task as it now is."""
        link.etag = event.get("etag")
        fields = m.event_fields(event, self.conn.email)
        if fields is not None:
            link.duration_seconds = fields.duration
            link.shared = fields.shared
        if task is not None:
            self.session.flush()  # the task's updated_at is set before synced_at
            link.digest = m.digest(task)
        link.synced_at = utcnow()

    # -- push ----------------------------------------------------------------------------

    def push(self) -> None:
        self._remove_departed()
        link_of = GoogleEventLink
        rows = self.session.execute(
            select(Task, link_of)
            .outerjoin(
                link_of, and_(link_of.task_id == Task.id, link_of.connection_id == self.conn.id)
            )
            .where(
                Task.owner_id == self.user_id,
                or_(
                    link_of.id.is_(None),
                    and_(link_of.cancelled.is_(False), Task.updated_at >= link_of.synced_at),
                ),
            )
            .order_by(Task.id)
            .limit(PUSH_BATCH)
        ).all()
        for task, link in rows:
            try:
                if link is None:
                    self._insert(task)
                elif link.digest != m.digest(task):
                    self._patch(task, link)
                else:  # changed in fields Google does not show: not a candidate again
                    link.synced_at = utcnow()
            except HttpError as error:  # this task only (transient ones stop the run)
                self.refused(f"task {task.id}", error)

    def refused(self, what: str, error: HttpError) -> None:
        log.warning("Google refused %s: %s", what, error)
        self.conn.last_error = f"Google answered {error.status_code} {client.reason(error)}"
        self.counts.add("errors")

    def _insert(self, task: Task) -> None:
        event_id = m.event_id(self.conn.tenant_id, self.user_id, task.id)
        body = m.insert_body(m.event_body(task, m.DEFAULT_DURATION, self._private(task)))
        try:
            made = _call(
                self.events.insert(calendarId=self.conn.calendar_id, body={**body, "id": event_id})
            )
        except HttpError as error:
            if error.status_code != 409:
                raise
            # made by an earlier attempt whose job rolled back, or before a reconnect (or
            # the task was the user's before): adopt it — restored if it was deleted —
            # never duplicate it
            made = _call(self.events.get(calendarId=self.conn.calendar_id, eventId=event_id))
            link = self._link(task, made, Origin.CRM)
            link.digest = ""
            link.cancelled = False
            self._patch(task, link, restore=made.get("status") == "cancelled")
            self.counts.add("adopted")
            return
        self._link(task, made, Origin.CRM)
        self.counts.add("pushed")

    def _patch(
        self, task: Task, link: GoogleEventLink, again: bool = False, restore: bool = False
    ) -> None:
        private = self._private(task) if link.origin is Origin.CRM else None
        body = m.event_body(task, link.duration_seconds, private)
        if restore:
            body["status"] = "confirmed"
        request = self.events.patch(
            calendarId=self.conn.calendar_id, eventId=link.event_id, body=body
        )
        try:
            made = _call(_if_match(request, link.etag))
        except HttpError as error:
            if error.status_code in (404, 410):
                self._deleted_in_google(link)
                return
            if error.status_code != 412 or again:
                raise
            self._conflict(task, link)
            return
        self._seen(link, made, task)
        self.counts.add("pushed")

    def _conflict(self, task: Task, link: GoogleEventLink) -> None:
        """412: Google changed the event since we last saw it. Last writer wins."""
        current = _call(self.events.get(calendarId=self.conn.calendar_id, eventId=link.event_id))
        self.counts.add("conflicts")
        if current.get("status") == "cancelled":
            self._deleted_in_google(link)
            return
        google_at = m.parse_moment(current["updated"]) if current.get("updated") else None
        if google_at is not None and google_at > task.updated_at:
            self._apply_event(task, link, current)
        else:
            link.etag = current.get("etag")
            self._patch(task, link, again=True)

    def _remove_departed(self) -> None:
        """Links whose task is gone from the user (deleted, or now someone else's)."""
        link_of = GoogleEventLink
        owned = exists(
            select(Task.id).where(Task.id == link_of.task_id, Task.owner_id == self.user_id)
        )
        departed = self.session.scalars(
            select(link_of).where(
                link_of.connection_id == self.conn.id,
                or_(
                    and_(link_of.task_id.is_(None), link_of.origin == Origin.CRM),
                    and_(link_of.task_id.is_not(None), ~owned),
                ),
            )
        ).all()
        for link in departed:
            if link.origin is Origin.GOOGLE:
                link.task_id = None  # a tombstone: the event stays in Google, unsynced
                self.counts.add("unlinked")
                continue
            if not link.cancelled:
                try:
                    _call(
                        self.events.delete(calendarId=self.conn.calendar_id, eventId=link.event_id)
                    )
                except HttpError as error:
                    if error.status_code not in (404, 410):
                        raise
                self.counts.add("removed_in_google")
            self.session.delete(link)

    # -- pull ----------------------------------------------------------------------------

    def pull(self) -> None:
        token = self.conn.sync_token
        try:
            events, next_token = self._list(token)
        except HttpError as error:
            if error.status_code != 410 or token is None:
                raise
            self.counts.add("full_resyncs")
            token = None
            events, next_token = self._list(None)
        for page in _chunks(events, PAGE_SIZE):
            links = {
                link.event_id: link
                for link in self.session.scalars(
                    select(GoogleEventLink).where(
                        GoogleEventLink.connection_id == self.conn.id,
                        GoogleEventLink.event_id.in_([e["id"] for e in page]),
                    )
                )
            }
            for event in page:
                self._pulled(event, links.get(event["id"]))
        if token is None:
            self._missing_after_full_sync({e["id"] for e in events})
        self.conn.sync_token = next_token

    def _list(self, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        events: list[dict[str, Any]] = []
        page_token = None
        while True:
            params: dict[str, Any] = {"calendarId": self.conn.calendar_id, "maxResults": PAGE_SIZE}
            if token:
                params["syncToken"] = token
            if page_token:
                params["pageToken"] = page_token
            page = _call(self.events.list(**params))
            events.extend(page.get("items") or [])
            page_token = page.get("nextPageToken")
            if not page_token:
                return events, page.get("nextSyncToken")

    def _pulled(self, event: dict[str, Any], link: GoogleEventLink | None) -> None:
        cancelled = event.get("status") == "cancelled"
        if link is None:
            if not cancelled:
                self._new_from_google(event)
            return
        if link.task_id is None or link.cancelled:
            link.etag = event.get("etag")
            return
        if cancelled:
            self._deleted_in_google(link)
            return
        if event.get("etag") == link.etag:
            return  # our own write coming back
        task = self.session.get(Task, link.task_id)
        if task is None:
            return
        self._apply_event(task, link, event)

    def _new_from_google(self, event: dict[str, Any]) -> None:
        private = m.private_of(event)
        if private.get(m.ORIGIN_KEY) == m.ORIGIN_CRM:
            # a CRM-made event without a link: adopt it if it is this user's task
            task_id = private.get(m.TASK_KEY, "")
            task = self.session.get(Task, int(task_id)) if task_id.isdigit() else None
            if (
                private.get(m.TENANT_KEY) == str(self.conn.tenant_id)
                and task is not None
                and task.owner_id == self.user_id
            ):
                self._link(task, event, Origin.CRM).digest = ""
            return
        fields = m.event_fields(event, self.conn.email)
        if fields is None:
            return
        if fields.deadline + timedelta(seconds=fields.duration) < self.now - PAST:
            self.counts.add("past")
            return
        data = services.TaskData(
            values={
                "title": fields.title,
                "description": fields.description,
                "deadline": fields.deadline,
                "all_day": fields.all_day,
                "reminder_minutes": None,
            }
        )
        try:
            with self.session.begin_nested():
                task = services.create_task(self.ctx, data)
                self.session.flush()
        except GatewayError as error:
            log.info("event %s not imported: %s", event.get("id"), error.message)
            self.counts.add("skipped")
            return
        self._link(task, event, Origin.GOOGLE)
        self.counts.add("pulled")

    def _apply_event(self, task: Task, link: GoogleEventLink, event: dict[str, Any]) -> None:
        fields = m.event_fields(event, self.conn.email)
        if fields is None:
            return
        changes = {
            "title": fields.title,
            "description": fields.description,
            "deadline": fields.deadline,
            "all_day": fields.all_day,
        }
        current = {
            "title": task.title,
            "description": task.description,
            "deadline": task.deadline,
            "all_day": task.all_day,
        }
        changed = {k: v for k, v in changes.items() if current[k] != v}
        if changed:
            try:
                with self.session.begin_nested():
                    writable = get_writable(self.session, Task, task.id, "task")
                    services.update_task(self.ctx, writable, services.TaskData(values=changed))
                    self.session.flush()
            except GatewayError as error:
                log.info("task %s not updated from Google: %s", task.id, error.message)
                self.counts.add("skipped")
                link.etag = event.get("etag")
                return
            self.counts.add("pulled")
        self._seen(link, event, task)

    def _deleted_in_google(self, link: GoogleEventLink) -> None:
        """The seed's rule: the task goes only if it came from Google and the user was its
        only participant; otherwise it stays and its event is no longer synced."""
        link.cancelled = True
        link.synced_at = utcnow()
        task = self.session.get(Task, link.task_id) if link.task_id is not None else None
        if task is None or link.origin is not Origin.GOOGLE or link.shared:
            self.counts.add("kept")
            return
        if task.owner_id != self.user_id:
            self.counts.add("kept")
            return
        try:
            with self.session.begin_nested():
                writable = get_writable(self.session, Task, task.id, "task")
                services.delete_task(self.ctx, writable)
                self.session.flush()
        except GatewayError as error:
            log.info("task %s not deleted after Google: %s", task.id, error.message)
            self.counts.add("kept")
            return
        self.session.delete(link)
        self.counts.add("deleted")

    def _missing_after_full_sync(self, listed: set[str]) -> None:
        """After a full list, linked events Google no longer has were deleted there."""
        for link in self.session.scalars(
            select(GoogleEventLink).where(
                GoogleEventLink.connection_id == self.conn.id,
                GoogleEventLink.task_id.is_not(None),
                GoogleEventLink.cancelled.is_(False),
            )
        ).all():
            if link.event_id not in listed:
                self._deleted_in_google(link)


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def mark_broken(ctx: CallerContext, connection: GoogleConnection, why: str) -> None:
    """Stop syncing until the user reconnects, and tell them."""
    connection.status = ConnectionStatus.BROKEN
    connection.last_error = why[:500]
    notify(
        ctx.session,
        tenant_id=connection.tenant_id,
        user_id=connection.user_id,
        kind=BROKEN_KIND,
        title="Google Calendar sync stopped: connect your Google account again",
        subject_id=global_id("GoogleCalendarConnection", connection.id),
    )


def run_sync(ctx: CallerContext, connection: GoogleConnection, now: datetime) -> dict[str, int]:
    """Push then pull; the counts of what happened."""
    if connection.status is not ConnectionStatus.CONNECTED:
        return {"skipped_broken": 1}
    gateway = ctx.gateway
    refresh_token = gateway.secret_box.decrypt(connection.refresh_token)
    creds = client.credentials(gateway.settings, refresh_token)
    sync = Sync(ctx, connection, client.calendar_service(gateway.settings, creds), now)
    try:
        sync.push()
        sync.pull()
    except Broken as error:
        mark_broken(ctx, connection, f"Google refused the connection ({error})")
        sync.counts.add("broken")
        return sync.counts.values
    except HttpError as error:
        # a refusal that retrying will not cure: keep what was done, say why
        sync.refused("the sync", error)
        return sync.counts.values
    connection.last_synced_at = now
    if not sync.counts.values.get("errors"):
        connection.last_error = None
    return sync.counts.values
