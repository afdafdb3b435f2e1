"""Expired files are deleted by a periodic job (``core.purge_files``, hourly), so no cron
entry is needed; ``crm-gateway files purge`` does the same by hand."""

from __future__ import annotations

from typing import Any

from gateway.context import CallerContext
from gateway.contract import JobKind
from gateway.files.services import purge_expired
from gateway.jobs.handle import JobHandle


def _purge(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> dict[str, int]:
    """A system job (no user): its session is the system's, across tenants."""
    return {"deleted": purge_expired(ctx.session)}


KINDS = [JobKind("core.purge_files", _purge, title="Delete expired files", schedule="17 * * * *")]
