"""The stored file: a tenant- and user-owned row whose content lives in the database.

Content in the database, not in ``data_dir/files/``: several machines serve one database
but share no directory, so a file uploaded through one worker must be readable by a job on
another; a row is also written and purged in the same transaction as whatever refers to it
(nothing half-written, no orphan on disk). The upload cap (``CRM_MAX_UPLOAD_BYTES``, 25 MiB
by default) keeps the value well within PostgreSQL's ``bytea`` and SQLite's blob limits.
The content column is deferred, so listing or checking files never reads their bytes.
"""

from __future__ import annotations

import io
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class FilePurpose(StrEnum):
    """Why the file exists: a user sent it, or the gateway made it (a template, a result)."""

    UPLOAD = "upload"
    GENERATED = "generated"


class StoredFile(Base):
    __tablename__ = "stored_files"
    __table_args__ = (
        Index("ix_stored_files_tenant_id_owner_id", "tenant_id", "owner_id"),
        Index("ix_stored_files_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    #: The only user who may read it (a job's files belong to the user it acts for).
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Sanitised: no directories, no control characters (gateway.files.names).
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    #: Hex SHA-256 of the content: lets an import say "this file was imported already".
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[FilePurpose] = mapped_column(str_enum(FilePurpose))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: After this instant the file is gone for every reader, and purge deletes the row.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    def open(self) -> io.BytesIO:
        """The content as a binary file object (openpyxl, csv readers take one)."""
        return io.BytesIO(self.content)
