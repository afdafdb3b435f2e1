"""``file(id)``: a stored file's facts and a fresh download link, for its owner only."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.audit.admin import log_export
from gateway.context import CallerContext
from gateway.errors import NotFound
from gateway.files import services
from gateway.files.models import FilePurpose, StoredFile
from gateway.graphql.common import global_id
from gateway.graphql.payloads import ExportFile

strawberry.enum(
    FilePurpose, name="FilePurpose", description="Why a file exists: uploaded, or generated."
)
FilePurposeEnum: TypeAlias = FilePurpose


@strawberry.type(
    name="File",
    description="A stored file (an upload, or a generated template, result or export). "
    "Only its owner sees it; it is deleted after expiresAt.",
)
class FileType:
    record: strawberry.Private[StoredFile]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(services.TYPE_NAME, self.record.id)

    @strawberry.field(description="The file name, without directories.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="Size in bytes.")
    def size(self) -> int:
        return self.record.size

    @strawberry.field(description="The media type it was stored with.")
    def content_type(self) -> str:
        return self.record.content_type

    @strawberry.field(description="Hex SHA-256 of the content.")
    def sha256(self) -> str:
        return self.record.sha256

    @strawberry.field
    def purpose(self) -> FilePurposeEnum:
        return self.record.purpose

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field(description="When the file is deleted; its links stop working then.")
    def expires_at(self) -> datetime:
        return self.record.expires_at

    @strawberry.field(
        description="A link that downloads the file without the Authorization header, valid "
        "for a few minutes (CRM_FILE_LINK_SECONDS); minted anew on every request."
    )
    def download_url(self, info: Info) -> str:
        return services.download_url(info.context, self.record)


@strawberry.field(
    description="One of your stored files by ID; null when it does not exist, has expired "
    "or is not yours."
)
def file(info: Info, id: strawberry.ID) -> FileType | None:
    ctx = info.context
    ctx.require_caller()
    try:
        return FileType(record=services.open_file(ctx, id))
    except NotFound:
        return None


def export_file(ctx: CallerContext, stored: StoredFile) -> ExportFile:
    """The shared ``ExportFile`` payload for a stored file: its content inline (base64, as
    published) and a signed ``downloadUrl``, so clients can prefer the link. Data leaving
    by an export is logged for the organisation (``data.exported``)."""
    log_export(ctx, stored.name)
    return ExportFile(
        filename=stored.name,
        mime_type=stored.content_type,
        content_base64=base64.b64encode(stored.content).decode("ascii"),
        download_url=services.download_url(ctx, stored),
    )
