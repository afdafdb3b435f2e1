"""Import templates (MISSION M1): declared by modules, rendered per caller.

A module declares a :class:`SheetTemplate` (through the ``crm_sheet_templates`` hook);
:func:`render_template` turns it into an xlsx for one caller: required headers filled in one
colour and optional ones in another (explained on a "Legend" sheet), a comment on every
header saying the format, drop-down lists from the tenant's own catalogues, frozen header,
widths. Catalogue values are read through the caller's context, so they are exactly what
the caller may see; columns whose fields the caller's profile hides are left out.
Catalogue lists go to a hidden "Lists" sheet and are referenced by range (Excel caps an
inline list at 255 characters, and tenant catalogues grow); fixed choices declared in code
are inline when they fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from gateway.access.fields import effective_rules, parse_field
from gateway.excel import new_workbook, put, to_bytes
from gateway.sheets.table import column_letter

REQUIRED_FILL = PatternFill("solid", start_color="F4B084")
OPTIONAL_FILL = PatternFill("solid", start_color="BDD7EE")
INLINE_LIMIT = 255
#: Rows of the data sheet the drop-downs cover.
VALIDATED_ROWS = 10_000

Choices = Callable[[Any], Sequence[str]]
#: Rows a template starts with, read for the caller: ``{column key: value}`` each.
Prefill = Callable[[Any], Iterable[Mapping[str, str]]]


@dataclass(frozen=True)
class SheetColumn:
    header: str
    #: The import's key for the column (a field name).
    key: str
    required: bool = False
    #: TEXT, NUMBER, DATE, EMAIL, PHONE, CHOICE, LIST… (shown to clients).
    kind: str = "TEXT"
    #: The format, said in the header's comment ("ISO code, e.g. ES").
    format: str = ""
    #: Fixed choices (inline drop-down when they fit).
    choices: tuple[str, ...] = ()
    #: Choices read for the caller (``context`` → values): a tenant catalogue.
    choices_from: Choices | None = None
    #: Several values in one cell (comma-separated): the drop-down only suggests.
    multiple: bool = False
    #: GraphQL fields of the template's type the column writes: hidden ones drop it.
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetTemplate:
    entity: str
    #: e.g. ``company`` / ``individual``.
    variant: str
    title: str
    columns: tuple[SheetColumn, ...]
    #: The GraphQL type whose field rules apply to ``SheetColumn.reads``.
    type_name: str = ""
    description: str = ""
    #: Extra lines for the legend (how to fill the sheet).
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Rows filled in below the header (e.g. the zones as they are, to edit and send
    #: back); read through the caller's context. ``None``: an empty sheet.
    rows: Prefill | None = None

    @property
    def filename(self) -> str:
        parts = [p for p in (self.entity, self.variant) if p]
        return f"{'-'.join(parts)}-template.xlsx"


def visible_columns(context: Any, template: SheetTemplate) -> list[SheetColumn]:
    """The columns the caller's field rules leave (all of them for an unrestricted caller)."""
    access = context.access
    if access is None or not template.type_name:
        return list(template.columns)
    rules = effective_rules(access)
    return [
        c
        for c in template.columns
        if not any(rules.hidden(parse_field(name, template.type_name)) for name in c.reads)
    ]


def _comment(column: SheetColumn) -> Comment:
    lines = ["Required." if column.required else "Optional."]
    if column.format:
        lines.append(column.format)
    if column.multiple:
        lines.append("Several values: separate them with commas.")
    if column.choices or column.choices_from:
        lines.append("Pick from the list.")
    comment = Comment("\n".join(lines), "CRM")
    comment.width, comment.height = 240, 110
    return comment


def _legend(workbook: Any, template: SheetTemplate) -> None:
    sheet = workbook.create_sheet("Legend")
    put(sheet.cell(row=1, column=1), template.title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    put(sheet.cell(row=3, column=1), "Required column")
    sheet.cell(row=3, column=1).fill = REQUIRED_FILL
    put(sheet.cell(row=4, column=1), "Optional column")
    sheet.cell(row=4, column=1).fill = OPTIONAL_FILL
    put(sheet.cell(row=5, column=1), "Each header has a comment with the format it expects.")
    for offset, line in enumerate(template.notes, start=6):
        put(sheet.cell(row=offset, column=1), line)
    sheet.column_dimensions["A"].width = 70


def render_template(context: Any, template: SheetTemplate) -> bytes:
    """The template as an xlsx for the caller of ``context`` (see the module doc)."""
    workbook = new_workbook()
    data = workbook.create_sheet(template.title[:31] or template.entity)
    lists = None
    list_column = 0
    columns = visible_columns(context, template)
    for index, column in enumerate(columns, start=1):
        letter = column_letter(index)
        cell = data.cell(row=1, column=index)
        put(cell, column.header)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.comment = _comment(column)
        data.column_dimensions[letter].width = max(14, len(column.header) + 4)
        values = list(column.choices_from(context)) if column.choices_from else []
        inline = ",".join(column.choices)
        if column.choices and len(inline) <= INLINE_LIMIT and "," not in "".join(column.choices):
            formula = f'"{inline}"'
        elif column.choices or column.choices_from:
            if lists is None:
                lists = workbook.create_sheet("Lists")
                lists.sheet_state = "hidden"
            values = values or list(column.choices)
            list_column += 1
            list_letter = column_letter(list_column)
            put(lists.cell(row=1, column=list_column), column.header)
            for row, value in enumerate(values, start=2):
                put(lists.cell(row=row, column=list_column), value)
            last = max(len(values) + 1, 2)
            formula = f"Lists!${list_letter}$2:${list_letter}${last}"
        else:
            continue
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=not column.multiple,
            errorTitle=column.header,
            error="Pick a value from the list.",
        )
        validation.add(f"{letter}2:{letter}{VALIDATED_ROWS + 1}")
        data.add_data_validation(validation)
    if template.rows is not None:
        for number, prefilled in enumerate(template.rows(context), start=2):
            for index, column in enumerate(columns, start=1):
                put(data.cell(row=number, column=index), prefilled.get(column.key))
    data.freeze_panes = "A2"
    _legend(workbook, template)
    return to_bytes(workbook)
