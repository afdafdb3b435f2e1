"""What a running job's function receives and may raise or return.

``JobHandle.progress`` reports done/total through a channel *outside* the job's own
transaction, so users see it while the work runs, and checks for cancellation: when the
user cancelled, it raises :class:`JobCancelled` and the whole unit of work rolls back.

The channel depends on the engine. On PostgreSQL it is a short transaction on the jobs row
(row locks do not block the work). On SQLite the work's transaction holds the database's
only write lock until it commits, so progress and cancel flags of a running job live in
this process's memory (:data:`LIVE`) and the ``job`` query overlays them; cancellation is
also read from the database (WAL readers never wait for the writer).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from gateway.errors import ErrorCode, GatewayError
from gateway.jobs.models import Job

if TYPE_CHECKING:
    from datetime import datetime

    from gateway.app import Gateway


class TransientJobError(Exception):
    """Raise it when the work may succeed later (a remote service timed out): retried with
    backoff up to the kind's ``max_attempts``, like a dropped database connection."""


class JobCancelled(Exception):
    """The user cancelled the job: the work rolls back and the job ends ``cancelled``."""


class JobLost(Exception):
    """Another runner took the job over (this one was presumed dead): roll back quietly."""


@dataclass(frozen=True)
class JobError:
    """A typed error a job reports: why it failed, or a row it refused (imports)."""

    code: str
    message: str
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "row": self.row, "column": self.column}


class JobFailed(GatewayError):
    """Fail the job with several typed errors (an all-or-nothing import with bad rows):
    nothing the job wrote is kept."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, errors: list[JobError]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass
class JobResult:
    """What a job returns: counts shown to the user, an optional file it produced, and
    per-row errors that did not stop it (``JobError`` with ``row``/``column``)."""

    counts: dict[str, int] = field(default_factory=dict)
    file_id: int | None = None
    errors: list[JobError] = field(default_factory=list)

    @classmethod
    def of(cls, value: Any) -> JobResult:
        if value is None:
            return cls()
        if isinstance(value, JobResult):
            return value
        if isinstance(value, dict):
            return cls(counts={str(k): int(v) for k, v in value.items()})
        raise TypeError(f"a job returns None, a dict of counts or a JobResult, not {value!r}")


@dataclass
class LiveJob:
    """A job running in this process (SQLite): its progress and a cancel flag."""

    done: int = 0
    total: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


#: Jobs running in this process on SQLite, by id.
LIVE: dict[int, LiveJob] = {}


class JobHandle:
    """A running job, as its function sees it: ``id``, ``attempt``, :meth:`progress`."""

    def __init__(
        self,
        gateway: Gateway,
        job_id: int,
        claim: str,
        attempt: int,
        *,
        live: bool,
        scheduled_for: datetime | None = None,
    ) -> None:
        self.gateway = gateway
        self.id = job_id
        self.claim = claim
        #: 1 for the first run, 2 for the first retry…
        self.attempt = attempt
        #: When the job was due (a periodic kind's tick): the instant its work is "as of",
        #: so a late worker still acts for its tick and tests control the clock.
        self.scheduled_for = scheduled_for
        self._live = LiveJob() if live else None
        self._interval = gateway.settings.job_progress_seconds
        self._last = 0.0
        #: The last progress reported (written with the job's success).
        self.done: int = 0
        self.total: int | None = None
        if self._live is not None:
            LIVE[job_id] = self._live

    def progress(self, done: int, total: int | None = None) -> None:
        """Report ``done`` of ``total`` units; raises :class:`JobCancelled` once the user
        cancelled (let it propagate: the work rolls back). Written at most every
        ``CRM_JOB_PROGRESS_SECONDS``, and always when ``done == total``."""
        self.done, self.total = done, total
        if self._live is not None:
            self._live.done, self._live.total = done, total
        now = time.monotonic()
        if now - self._last < self._interval and done != total:
            return
        self._last = now
        self._exchange(done, total)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the user cancelled (long steps without progress)."""
        self._exchange(None, None)

    def _exchange(self, done: int | None, total: int | None) -> None:
        if self._live is not None:
            if self._live.cancel.is_set():
                raise JobCancelled
            with self.gateway.db.reading() as session:
                row = session.execute(
                    select(Job.cancel_requested, Job.claim).where(Job.id == self.id)
                ).first()
        else:
            with self.gateway.db.transaction() as session:
                stmt = update(Job).where(Job.id == self.id, Job.claim == self.claim)
                if done is not None:
                    stmt = stmt.values(progress_done=done, progress_total=total)
                else:
                    stmt = stmt.values(claim=self.claim)
                row = session.execute(
                    stmt.returning(Job.cancel_requested, Job.claim).execution_options(
                        synchronize_session=False
                    )
                ).first()
        if row is None or row.claim != self.claim:
            raise JobLost
        if row.cancel_requested:
            raise JobCancelled

    def close(self) -> None:
        if self._live is not None:
            LIVE.pop(self.id, None)
