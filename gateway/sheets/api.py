"""GraphQL root fields for templates: ``sheetTemplates`` and ``downloadSheetTemplate``.

Both ask the hooks of the caller's tenant, so a disabled module offers no template; both
apply the caller's field rules (hidden columns are not listed nor rendered).
"""

from __future__ import annotations

import base64

import strawberry
from strawberry.types import Info

from gateway.errors import NotFound
from gateway.excel import XLSX_MIME
from gateway.graphql.context import RequestContext
from gateway.graphql.payloads import ExportFile
from gateway.sheets.template import SheetTemplate, render_template, visible_columns

Ctx = Info[RequestContext, None]


@strawberry.type(description="A column of a spreadsheet template.")
class SheetColumnInfo:
    header: str
    key: str
    required: bool
    kind: str
    format: str
    multiple: bool


@strawberry.type(description="A spreadsheet template a module offers (mass management).")
class SheetTemplateInfo:
    entity: str
    variant: str
    title: str
    description: str
    columns: list[SheetColumnInfo]


def templates(ctx: RequestContext) -> list[SheetTemplate]:
    """The enabled modules' templates, the first of each (entity, variant)."""
    found: dict[tuple[str, str], SheetTemplate] = {}
    for contributed in ctx.hooks.crm_sheet_templates():
        for template in contributed:
            found.setdefault((template.entity, template.variant), template)
    return list(found.values())


@strawberry.field(description="Spreadsheet templates of the organisation's modules.")
def sheet_templates(info: Ctx) -> list[SheetTemplateInfo]:
    ctx = info.context
    ctx.require_caller()
    return [
        SheetTemplateInfo(
            entity=t.entity,
            variant=t.variant,
            title=t.title,
            description=t.description,
            columns=[
                SheetColumnInfo(
                    header=c.header,
                    key=c.key,
                    required=c.required,
                    kind=c.kind,
                    format=c.format,
                    multiple=c.multiple,
                )
                for c in visible_columns(ctx, t)
            ],
        )
        for t in templates(ctx)
    ]


@strawberry.field(
    description="A template as an xlsx for the caller: coloured headers (legend), a format "
    "comment per column, drop-downs from the organisation's catalogues. NOT_FOUND for an "
    "unknown entity or variant."
)
def download_sheet_template(info: Ctx, entity: str, variant: str) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    for template in templates(ctx):
        if (template.entity, template.variant) == (entity, variant):
            content = render_template(ctx, template)
            return ExportFile(
                filename=template.filename,
                mime_type=XLSX_MIME,
                content_base64=base64.b64encode(content).decode(),
            )
    raise NotFound(f"no template {entity!r} / {variant!r}", field="entity")


QUERY_FIELDS = [sheet_templates, download_sheet_template]
