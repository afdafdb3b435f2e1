"""An import's record: the run (who, what, how, counts) and one row per file row (outcome,
the record written, its before-image and a fingerprint of what the import left).

Rows are written in the same transaction as the records they describe, so a report never
outlives its data (a killed worker rolls back both) and undo always has its before-images.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, utcnow


class ImportRun(Base):
    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_tenant_id_user_id", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    #: Who imported: the run's rows were written with this user's access.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(60))
    variant: Mapped[str] = mapped_column(String(60), default="")
    mode: Mapped[str] = mapped_column(String(20))
    policy: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: The uploaded file, while it is kept (files are purged; the report is not).
    file_id: Mapped[int | None] = mapped_column(Integer)
    #: The job that ran it (``Job.importRun``).
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The result workbook (Imported / With errors / Summary), while it is kept.
    result_file_id: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: ``True`` when the rows were written (not a dry run, and the policy let them through).
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Headers of the file that fed no column.
    unmatched_headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ImportRow(Base):
    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_run_id_row", "run_id", "row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    #: The row's number in the file (the header is row 1, as a spreadsheet shows it).
    row: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(Integer)
    #: ``[{code, message, column}]`` for a failed row.
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: The row's cells by column key, kept for failed rows (the "With errors" sheet).
    cells: Mapped[dict[str, str] | None] = mapped_column(JSON)
    #: The record before an update (what undo puts back).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: A fingerprint of the record as the import left it: undo leaves alone records whose
    #: fingerprint changed since (edited by someone after the import).
    after_hash: Mapped[str | None] = mapped_column(String(64))
    #: Set by undo: what happened to this row's record (``REMOVED``, ``RESTORED``,
    #: ``EDITED_SINCE``, ``GONE``).
    undo: Mapped[str | None] = mapped_column(String(20))
