"""A fake Google Calendar v3 server: the events subset the two-way sync uses, served over real
HTTP on 127.0.0.1 (a thread), so google-api-python-client runs unmodified against it.

Why a fake and not mocks: the sync's hard parts are protocol behaviours (sync tokens and 410,
etag preconditions and 412, client-chosen ids and 409, rate limits) that only show up when the
real client library talks HTTP. What is implemented follows Google's documented behaviour:

- ``events.list``: ``maxResults`` (default 250), ``pageToken``, ``syncToken`` (incremental:
  everything changed since, deleted events included; an invalidated or unknown token is 410
  ``fullSyncRequired``; combined with ``timeMin``/``timeMax``/``updatedMin``/``q``/
  ``privateExtendedProperty``/``orderBy``/``iCalUID`` it is 400), ``showDeleted``,
  ``timeMin``/``timeMax`` (overlap), ``updatedMin`` (deleted events included),
  ``privateExtendedProperty=key=value``. The last page carries ``nextSyncToken``.
- ``events.insert``: a client-supplied ``id`` (base32hex, 5 to 1024 chars) is honoured; inserting
  an id that exists, even cancelled, is 409 ``duplicate``.
- ``events.get``, ``events.patch`` (deep merge of objects, lists replaced, ``null`` clears),
  ``events.update`` (full replace), ``events.delete`` (the event stays, ``status: cancelled``;
  deleting it again is 410 ``deleted``). ``If-Match`` on writes: a stale etag is 412
  ``conditionNotMet``. Every write bumps the etag, ``updated`` and ``sequence``.
- ``Authorization: Bearer <token>`` is required (401 ``authError`` when missing, unknown to
  ``accepted_tokens`` or revoked); ``fail_next`` injects 429/403 rate-limit answers.

Tests act as the Google user through the Python methods (``put_event``, ``edit_event``,
``remove_event``) and inspect what the client sent through ``requests``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.google_oauth import FakeGoogleOAuth

SERVICE_PATH = "/calendar/v3/"
OAUTH_PREFIX = "/oauth2/"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
READ_ONLY = {"id", "kind", "etag", "created", "updated", "iCalUID", "htmlLink", "sequence"}
NOT_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "updatedMin",
    "q",
    "privateExtendedProperty",
    "sharedExtendedProperty",
    "orderBy",
    "iCalUID",
)
Event = dict[str, Any]


class ApiError(Exception):
    """An answer in Google's JSON error shape (``error.errors[0].reason``)."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "global") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "errors": [{"domain": self.domain, "reason": self.reason, "message": self.message}],
                "code": self.status,
                "message": self.message,
            }
        }


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    #: The status the fake answered (set once answered).
    status: int = 0


@dataclass
class Calendar:
    """One calendar's events; ``seq`` orders every write (what sync tokens point into)."""

    events: dict[str, Event] = field(default_factory=dict)
    changed_at: dict[str, int] = field(default_factory=dict)
    seq: int = 0


def _rfc3339(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_moment(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _edge(when: dict[str, Any] | None) -> datetime | None:
    """An event's start/end as an aware datetime (all-day dates at midnight UTC)."""
    if not when:
        return None
    if "dateTime" in when:
        return _parse_moment(when["dateTime"])
    if "date" in when:
        return datetime.combine(date.fromisoformat(when["date"]), time(), tzinfo=UTC)
    return None


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Patch semantics: objects merge key by key, anything else (lists too) replaces,
    ``None`` removes the key."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeGoogleCalendar:
    """In-memory state of every calendar plus the HTTP server that serves it."""

    def __init__(
        self,
        accepted_tokens: set[str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        #: ``None`` accepts any bearer token (still required); a set accepts only those.
        self.accepted_tokens = accepted_tokens
        self.revoked: set[str] = set()
        self.now = now
        self.calendars: dict[str, Calendar] = {}
        self.requests: list[Recorded] = []
        self._sync_tokens: dict[str, tuple[str, int]] = {}
        self._page_tokens: dict[str, tuple[str, list[str], int]] = {}
        self._failures: list[tuple[int, str, str | None]] = []
        self._etags = itertools.count(3_000_000_000_000_000)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        #: The OAuth endpoints (``/oauth2/auth``, ``/oauth2/token``, ``/oauth2/revoke``).
        self.oauth = FakeGoogleOAuth(self)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The ``api_endpoint`` for the client: root plus the service path."""
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}{SERVICE_PATH}"

    @property
    def root(self) -> str:
        """The server's root URL (the OAuth endpoints are under ``/oauth2/``)."""
        assert self._server is not None, "the fake is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[FakeGoogleCalendar]:
        """Serve on 127.0.0.1 on a free port for the duration of the block."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)
            self._server = None

    # -- test controls (acting as Google or its user) --------------------------------------

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        reason: str = "rateLimitExceeded",
        method: str | None = None,
    ) -> None:
        """The next ``count`` requests (of ``method`` only, if given) answer ``status`` with
        ``reason`` (403/429 rate limits, or any other error the sync must survive)."""
        with self._lock:
            self._failures.extend([(status, reason, method)] * count)

    def revoke(self, token: str) -> None:
        """The user revoked access: requests with ``token`` get 401 from now on."""
        with self._lock:
            self.revoked.add(token)

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Every sync token (of one calendar, or all) now answers 410, as Google does when it
        expires them."""
        with self._lock:
            for token, (cal, _) in list(self._sync_tokens.items()):
                if calendar_id is None or cal == calendar_id:
                    del self._sync_tokens[token]

    def put_event(self, calendar_id: str, event: Event) -> Event:
        """Create an event as the Google user would (no HTTP, no failures)."""
        with self._lock:
            return self._insert(calendar_id, event)

    def edit_event(self, calendar_id: str, event_id: str, **changes: Any) -> Event:
        """Change an event as the Google user would (patch semantics)."""
        with self._lock:
            return self._patch(calendar_id, event_id, changes, None)

    def remove_event(self, calendar_id: str, event_id: str) -> None:
        """Delete an event as the Google user would."""
        with self._lock:
            self._delete(calendar_id, event_id, None)

    def event(self, calendar_id: str, event_id: str) -> Event:
        """The stored event (cancelled ones too), a copy."""
        with self._lock:
            return copy.deepcopy(self._existing(calendar_id, event_id))

    # -- the API -------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        """Answer one request: (status, JSON body or None)."""
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        with self._lock:
            record = Recorded(method, parsed.path, query, headers, body)
            self.requests.append(record)
            try:
                if self._failures and self._failures[0][2] in (None, method):
                    status, reason, _ = self._failures.pop(0)
                    raise ApiError(status, reason, f"Injected failure: {reason}.", "usageLimits")
                self._authenticate(headers)
                record.status, answer = self._route(method, parsed.path, query, headers, body)
            except ApiError as error:
                record.status, answer = error.status, error.body()
            return record.status, answer

    def _authenticate(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if (
            not token
            or token in self.revoked
            or (self.accepted_tokens is not None and token not in self.accepted_tokens)
        ):
            raise ApiError(401, "authError", "Request had invalid authentication credentials.")

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, Any]:
        if not path.startswith(SERVICE_PATH):
            raise ApiError(404, "notFound", "Not Found")
        parts = [urllib.parse.unquote(p) for p in path[len(SERVICE_PATH) :].split("/")]
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            raise ApiError(404, "notFound", "Not Found")
        calendar_id, rest = parts[1], parts[3:]
        if_match = headers.get("if-match")
        if not rest:
            if method == "GET":
                return 200, self._list(calendar_id, query)
            if method == "POST":
                return 200, self._insert(calendar_id, _object(body))
        elif len(rest) == 1:
            event_id = rest[0]
            if method == "GET":
                return 200, copy.deepcopy(self._existing(calendar_id, event_id))
            if method == "PATCH":
                return 200, self._patch(calendar_id, event_id, _object(body), if_match)
            if method == "PUT":
                return 200, self._update(calendar_id, event_id, _object(body), if_match)
            if method == "DELETE":
                self._delete(calendar_id, event_id, if_match)
                return 204, None
        raise ApiError(405, "methodNotAllowed", f"{method} is not supported here.")

    def _calendar(self, calendar_id: str) -> Calendar:
        return self.calendars.setdefault(calendar_id, Calendar())

    def _existing(self, calendar_id: str, event_id: str) -> Event:
        event = self._calendar(calendar_id).events.get(event_id)
        if event is None:
            raise ApiError(404, "notFound", "Not Found")
        return event

    def _touch(self, calendar_id: str, event: Event) -> Event:
        """Record a write: new etag, ``updated`` and position in the change order."""
        cal = self._calendar(calendar_id)
        cal.seq += 1
        cal.changed_at[event["id"]] = cal.seq
        event["etag"] = f'"{next(self._etags)}"'
        event["updated"] = _rfc3339(self.now())
        return copy.deepcopy(event)

    def _check_times(self, event: Event) -> None:
        for edge in ("start", "end"):
            when = event.get(edge)
            if not isinstance(when, dict) or not ({"date", "dateTime"} & when.keys()):
                raise ApiError(400, "required", f"Missing {edge} time.")
            try:
                _edge(when)
            except (TypeError, ValueError):
                raise ApiError(400, "invalid", f"Invalid {edge} time.") from None
        start, end = _edge(event["start"]), _edge(event["end"])
        if start is not None and end is not None and end < start:
            raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")

    def _insert(self, calendar_id: str, body: Event) -> Event:
        cal = self._calendar(calendar_id)
        event_id = body.get("id") or secrets.token_hex(13)
        if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in cal.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        event = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
        self._check_times(event)
        now = _rfc3339(self.now())
        event.update(
            kind="calendar#event",
            id=event_id,
            status=event.get("status", "confirmed"),
            created=now,
            iCalUID=f"{event_id}@google.com",
            sequence=0,
            htmlLink=f"https://calendar.example.invalid/event?eid={event_id}",
            organizer=event.get("organizer", {"email": calendar_id, "self": True}),
        )
        cal.events[event_id] = event
        return self._touch(calendar_id, event)

    def _precondition(self, event: Event, if_match: str | None) -> None:
        if if_match is not None and if_match != "*" and if_match != event["etag"]:
            raise ApiError(412, "conditionNotMet", "Precondition Failed")

    def _patch(
        self, calendar_id: str, event_id: str, changes: Event, if_match: str | None
    ) -> Event:
        event = self._existing(calendar_id, event_id)
        self._precondition(event, if_match)
        candidate = copy.deepcopy(event)
        _merge(candidate, {k: v for k, v in changes.items() if k not in READ_ONLY})
        self._check_times(candidate)
        candidate["sequence"] = event["sequence"] + 1
        self._calendar(calendar_id).events[event_id] = candidate
        return self._touch(calendar_id, candidate)

    def _update(self, calendar_id: str, event_id: str, body: Event, if_match: str | None) -> Event:
        event = self._existing(calendar_id, event_id)
        self._precondition(event, if_match)
        candidate = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
        self._check_times(candidate)
        candidate.setdefault("status", "confirmed")
        for key in READ_ONLY | {"organizer"}:
            if key in event:
                candidate.setdefault(key, event[key])
        candidate["sequence"] = event["sequence"] + 1
        self._calendar(calendar_id).events[event_id] = candidate
        return self._touch(calendar_id, candidate)

    def _delete(self, calendar_id: str, event_id: str, if_match: str | None) -> None:
        event = self._existing(calendar_id, event_id)
        if event.get("status") == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        self._precondition(event, if_match)
        event["status"] = "cancelled"
        self._touch(calendar_id, event)

    def _list(self, calendar_id: str, query: dict[str, list[str]]) -> dict[str, Any]:
        cal = self._calendar(calendar_id)
        one = {k: v[-1] for k, v in query.items()}
        try:
            size = min(int(one.get("maxResults", "250")), 2500)
        except ValueError:
            raise ApiError(400, "invalid", "Invalid value for maxResults.") from None
        if size < 1:
            raise ApiError(400, "invalid", "Invalid value for maxResults.")
        if "pageToken" in one:
            saved = self._page_tokens.pop(one["pageToken"], None)
            if saved is None or saved[0] != calendar_id:
                raise ApiError(400, "invalid", "Invalid page token value.")
            _, ids, snapshot = saved
        else:
            snapshot = cal.seq
            ids = self._select(calendar_id, cal, query, one)
        page, remaining = ids[:size], ids[size:]
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{snapshot}"',
            "summary": calendar_id,
            "updated": _rfc3339(self.now()),
            "timeZone": "UTC",
            "items": [copy.deepcopy(cal.events[i]) for i in page],
        }
        if remaining:
            token = secrets.token_urlsafe(12)
            self._page_tokens[token] = (calendar_id, remaining, snapshot)
            answer["nextPageToken"] = token
        else:
            token = secrets.token_urlsafe(16)
            self._sync_tokens[token] = (calendar_id, snapshot)
            answer["nextSyncToken"] = token
        return answer

    def _select(
        self, calendar_id: str, cal: Calendar, query: dict[str, list[str]], one: dict[str, str]
    ) -> list[str]:
        """The ids a fresh list returns, in change order."""
        in_order = sorted(cal.events, key=lambda i: cal.changed_at[i])
        if "syncToken" in one:
            clash = [p for p in NOT_WITH_SYNC_TOKEN if p in one]
            if clash:
                raise ApiError(400, "invalid", f"syncToken cannot be used with {clash[0]}.")
            saved = self._sync_tokens.get(one["syncToken"])
            if saved is None or saved[0] != calendar_id:
                raise ApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            return [i for i in in_order if cal.changed_at[i] > saved[1]]
        try:
            time_min = _parse_moment(one["timeMin"]) if "timeMin" in one else None
            time_max = _parse_moment(one["timeMax"]) if "timeMax" in one else None
            updated_min = _parse_moment(one["updatedMin"]) if "updatedMin" in one else None
        except ValueError:
            raise ApiError(400, "invalid", "Bad time value.") from None
        show_deleted = one.get("showDeleted", "false").lower() == "true" or updated_min is not None
        wanted = [p.split("=", 1) for p in query.get("privateExtendedProperty", [])]
        chosen = []
        for event_id in in_order:
            event = cal.events[event_id]
            if event.get("status") == "cancelled" and not show_deleted:
                continue
            start, end = _edge(event.get("start")), _edge(event.get("end"))
            if time_min is not None and end is not None and end <= time_min:
                continue
            if time_max is not None and start is not None and start >= time_max:
                continue
            if updated_min is not None and _parse_moment(event["updated"]) < updated_min:
                continue
            private = event.get("extendedProperties", {}).get("private", {})
            if any(len(kv) != 2 or private.get(kv[0]) != kv[1] for kv in wanted):
                continue
            chosen.append(event_id)
        return chosen


def _object(body: Any) -> Event:
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "This API does not support parsing form-encoded input.")
    return body


def _handler_for(fake: FakeGoogleCalendar) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path.startswith(OAUTH_PREFIX):
                self._oauth(raw)
                return
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                status, answer = 400, ApiError(400, "parseError", "Parse Error").body()
            else:
                status, answer = fake.handle(self.command, self.path, headers, body)
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            if answer is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            if status in (403, 429):
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _oauth(self, raw: bytes) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            status, answer, extra = fake.oauth.handle(self.command, parsed.path, query, form)
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if answer is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test's own output is what matters."""

    return Handler
