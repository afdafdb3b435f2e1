"""Tasks as Google events and back: the fields that travel, the CRM's own event ids and
the digest that tells whether a task changed since it was last synced."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from plugins.calendar.models import Task

#: Private extended properties the CRM writes on the events it creates.
ORIGIN_KEY, TASK_KEY, TENANT_KEY = "crmOrigin", "crmTaskId", "crmTenant"
ORIGIN_CRM = "crm"
DEFAULT_DURATION = 1800
DAY = 86400


def event_id(tenant_id: int, user_id: int, task_id: int) -> str:
    """The CRM's id for a task's event in a user's calendar: deterministic, so an insert
    that is retried (after a timeout or a rolled-back job) or repeated after a reconnect is
    409 ``duplicate`` instead of a second event; base32hex (``[a-v0-9]``) as Google
    requires."""
    digest = hashlib.sha256(f"crm-task:{tenant_id}:{user_id}:{task_id}".encode()).digest()
    return "crm" + base64.b32hexencode(digest[:20]).decode().lower()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_moment(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def digest(task: Task) -> str:
    """What of the task an event shows; a different digest means "push"."""
    fields = [task.title, task.description or "", rfc3339(task.deadline), bool(task.all_day)]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def event_body(task: Task, duration: int, private: dict[str, str] | None = None) -> dict[str, Any]:
    """The event fields the CRM writes (a patch: other fields of the event stay)."""
    if task.all_day:
        day = task.deadline.astimezone(UTC).date()
        days = max(1, duration // DAY)
        start: dict[str, Any] = {"date": day.isoformat(), "dateTime": None}
        end: dict[str, Any] = {"date": (day + timedelta(days=days)).isoformat(), "dateTime": None}
    else:
        start = {"dateTime": rfc3339(task.deadline), "date": None}
        end = {"dateTime": rfc3339(task.deadline + timedelta(seconds=duration)), "date": None}
    body: dict[str, Any] = {
        "summary": task.title,
        "description": task.description or "",
        "start": start,
        "end": end,
    }
    if private:
        body["extendedProperties"] = {"private": private}
    return body


def insert_body(body: dict[str, Any]) -> dict[str, Any]:
    """A patch body as an insert body (no ``None`` placeholders)."""
    return {
        k: ({kk: vv for kk, vv in v.items() if vv is not None} if k in ("start", "end") else v)
        for k, v in body.items()
    }


@dataclass(frozen=True)
class EventFields:
    """What a Google event says about its task."""

    title: str
    description: str
    deadline: datetime
    all_day: bool
    duration: int
    shared: bool


def _edge(when: dict[str, Any]) -> tuple[datetime, bool]:
    if when.get("dateTime"):
        return parse_moment(when["dateTime"]), False
    return datetime.combine(date.fromisoformat(when["date"]), time(), tzinfo=UTC), True


def event_fields(event: dict[str, Any], self_email: str) -> EventFields | None:
    """The task fields of a (not cancelled) event; None if it has no usable start."""
    try:
        start, all_day = _edge(event.get("start") or {})
    except (KeyError, TypeError, ValueError):
        return None
    try:
        end, _ = _edge(event.get("end") or {})
        duration = max(0, int((end - start).total_seconds()))
    except (KeyError, TypeError, ValueError):
        duration = DAY if all_day else DEFAULT_DURATION
    title = " ".join(str(event.get("summary") or "").split())[:200] or "(no title)"
    others = [
        a
        for a in event.get("attendees") or []
        if isinstance(a, dict) and not a.get("self") and a.get("email") != self_email
    ]
    return EventFields(
        title=title,
        description=str(event.get("description") or ""),
        deadline=start,
        all_day=all_day,
        duration=duration or DEFAULT_DURATION,
        shared=bool(others),
    )


def private_of(event: dict[str, Any]) -> dict[str, str]:
    props = (event.get("extendedProperties") or {}).get("private") or {}
    return props if isinstance(props, dict) else {}
