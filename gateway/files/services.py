"""Files for modules and jobs: store, open (owner only) and link; purge what expired.

Every function takes the caller context, so a job acting for a user stores files that user
owns and opens only that user's files — the same rule as an HTTP download. The owner check
is part of the SQL statement (never a Python filter after a fetch), and the session's
tenant criteria apply on top. An expired file is gone for readers at once; the purge only
reclaims its space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.context import CallerContext
from gateway.db import changed_rows, utcnow
from gateway.errors import BadUserInput, NotFound, PayloadTooLarge
from gateway.files.models import FilePurpose, StoredFile
from gateway.files.names import safe_content_type, safe_name
from gateway.files.signing import signed_path
from gateway.graphql.common import parse_global_id

#: The GraphQL type name of a stored file (its global IDs are ``File:<pk>``).
TYPE_NAME = "File"
_CHUNK = 1 << 16

Content = bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO


def _chunks(data: Content) -> Iterable[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
    elif hasattr(data, "read"):
        while chunk := data.read(_CHUNK):
            yield chunk
    else:
        yield from data


def read_capped(data: Content, limit: int | None) -> bytes:
    """All of ``data``, refused with PAYLOAD_TOO_LARGE as soon as it passes ``limit`` bytes
    (a stream is never read further than one chunk past it)."""
    buffer = bytearray()
    for chunk in _chunks(data):
        buffer += chunk
        if limit is not None and len(buffer) > limit:
            raise PayloadTooLarge(f"the file is larger than {limit} bytes", limit=limit)
    return bytes(buffer)


def store_file(
    ctx: CallerContext,
    name: str | None,
    content_type: str | None,
    data: Content,
    purpose: FilePurpose,
    expires_at: datetime | None = None,
) -> StoredFile:
    """Store ``data`` as a file of the caller (its tenant, its user) and flush it.

    Runs in the caller's unit of work: call it inside ``ctx.transaction()``, so the file and
    whatever refers to it commit together. Uploads are held to ``CRM_MAX_UPLOAD_BYTES``
    (PAYLOAD_TOO_LARGE); generated files are the gateway's own output and are not. Empty
    content is BAD_USER_INPUT. ``expires_at`` defaults to now + ``CRM_FILE_RETENTION_HOURS``.
    """
    caller = ctx.require_caller()
    settings = ctx.gateway.settings
    limit = settings.max_upload_bytes if purpose is FilePurpose.UPLOAD else None
    content = read_capped(data, limit)
    if not content:
        raise BadUserInput("the file is empty")
    now = utcnow()
    if expires_at is None:
        expires_at = now + timedelta(hours=settings.file_retention_hours)
    elif expires_at <= now:
        raise BadUserInput("a file must expire in the future", field="expiresAt")
    stored = StoredFile(
        tenant_id=caller.tenant_id,
        owner_id=caller.user_id,
        name=safe_name(name),
        content_type=safe_content_type(content_type),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        purpose=purpose,
        created_at=now,
        expires_at=expires_at,
        content=content,
    )
    ctx.session.add(stored)
    ctx.session.flush()
    return stored


def file_pk(file_id: int | str) -> int:
    """A stored file's primary key from its global ID (or the key itself)."""
    if isinstance(file_id, int):
        return file_id
    return parse_global_id(file_id, TYPE_NAME)


def open_file(ctx: CallerContext, file_id: int | str) -> StoredFile:
    """The caller's own, unexpired file ``file_id`` (a global ID or a key); its ``content``
    loads when first read, ``.open()`` gives a file object.

    NOT_FOUND for a file that does not exist, has expired, or belongs to anyone else — the
    same answer, so no caller learns that another's file exists.
    """
    caller = ctx.require_caller()
    found = ctx.session.scalar(
        select(StoredFile).where(
            StoredFile.id == file_pk(file_id),
            StoredFile.tenant_id == caller.tenant_id,
            StoredFile.owner_id == caller.user_id,
            StoredFile.expires_at > utcnow(),
        )
    )
    if found is None:
        raise NotFound("no such file", field="id")
    return found


def download_url(ctx: CallerContext, file: StoredFile, lifetime: int | None = None) -> str:
    """A signed link to ``file`` for its owner, valid ``lifetime`` seconds (default
    ``CRM_FILE_LINK_SECONDS``) and never past the file's own expiry.

    Absolute (from the request's base URL) when minted during an HTTP request; otherwise a
    path to resolve against the gateway's URL (``/files/…``).
    """
    caller = ctx.require_caller()
    if file.owner_id != caller.user_id or file.tenant_id != caller.tenant_id:
        raise NotFound("no such file", field="id")
    seconds = ctx.gateway.settings.file_link_seconds if lifetime is None else lifetime
    expires_at = min(utcnow() + timedelta(seconds=seconds), file.expires_at)
    path = signed_path(ctx.gateway.secret_box, file.id, caller.user_id, expires_at)
    request = getattr(ctx, "request", None)
    base_url = getattr(request, "base_url", None)
    return str(base_url).rstrip("/") + path if base_url is not None else path


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete every file, of every tenant, that expired by ``now``; the number deleted.

    A plain function on a system session so a periodic job (or ``crm-gateway files purge``)
    can run it; the caller commits.
    """
    return changed_rows(
        session,
        delete(StoredFile)
        .where(StoredFile.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False),
    )
