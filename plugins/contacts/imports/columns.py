"""The columns of a contact import, per variant, labelled from the field table.

Keys are the ``Contact`` GraphQL field names (what field rules name), so a column the
caller's profile may not write is refused by name before any row is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.sdk import ImportColumn
from plugins.contacts.fields import BY_NAME

COMPANY, INDIVIDUAL = "company", "individual"
#: Files that only name existing clients (by document number, email or ID) and set the
#: same things on all of them: mass updates, tagging, source and segment (M2 to M5).
DOCUMENTS = "documents"
VARIANTS = (COMPANY, INDIVIDUAL, DOCUMENTS)
#: Custom field columns are ``cf.<key>``.
CUSTOM_PREFIX = "cf."


def _column(
    name: str,
    *,
    required: bool = False,
    fmt: str = "",
    multiple: bool = False,
    match: bool = False,
    aliases: tuple[str, ...] = (),
) -> ImportColumn:
    return ImportColumn(
        key=name,
        label=BY_NAME[name].label,
        required=required,
        format=fmt,
        multiple=multiple,
        match=match,
        aliases=aliases,
    )


def _choices(*values: str) -> str:
    return "one of " + ", ".join(values)


ID = ImportColumn(
    "id", "ID", format="the contact's ID, as exported (for updates)", match=True, aliases=("id",)
)

COMMON: tuple[ImportColumn, ...] = (
    _column("fiscalId", fmt="CIF, NIF, NIE or another document number", match=True),
    _column("fiscalIdType", fmt=_choices("CIF", "NIF", "NIE", "OTHER")),
    _column(
        "email",
        fmt="an email address; several separated by commas",
        multiple=True,
        match=True,
        aliases=("emails", "e-mail", "correo"),
    ),
    _column(
        "phone",
        fmt="a phone number; several separated by commas",
        multiple=True,
        aliases=("phones", "telephone", "telefono"),
    ),
    _column("website", fmt="a web address"),
    _column("category", fmt=_choices("BILLABLE", "POTENTIAL", "SUPPLIER", "AGENT", "RESELLER")),
    _column("street"),
    _column("city"),
    _column("region", aliases=("province", "state")),
    _column("postalCode", aliases=("zip", "postcode")),
    _column("country", fmt="an ISO 3166 two-letter code, e.g. ES"),
    _column("source"),
    _column("segment"),
    _column("zone"),
    _column("tags", fmt="existing tag names, separated by commas", multiple=True),
    _column("contactType", fmt="the name of one of your contact types"),
    _column("owner", fmt="the manager's email address (default: you)"),
    _column("access", fmt=_choices("PRIVATE", "PUBLIC_READ", "PUBLIC_WRITE")),
    _column("currency", fmt="an ISO 4217 code, e.g. EUR"),
    _column("discount", fmt="a percentage between 0 and 100, e.g. 12.5"),
    _column("latitude", fmt="a decimal number between -90 and 90"),
    _column("longitude", fmt="a decimal number between -180 and 180"),
    _column("description"),
)

ADD_TAGS = ImportColumn(
    "addTags",
    "Tags to add",
    format="existing tag names, separated by commas: added to the client's tags",
    multiple=True,
)

#: Assign the client to a user for a managing company (M3): all three name one assignment.
ASSIGNMENT = (
    ImportColumn(
        "managingCompany",
        "Managing company",
        format="the name of one of your organisation's managing companies",
    ),
    ImportColumn("branch", "Branch", format="a branch of that managing company (optional)"),
    ImportColumn(
        "assignedUser",
        "Assigned user",
        format="the email of the user who manages the client for that managing company",
    ),
)

BY_VARIANT: dict[str, tuple[ImportColumn, ...]] = {
    COMPANY: (
        ID,
        _column("companyName", required=True, aliases=("company name", "name", "razon social")),
        _column(
            "clientKind",
            fmt=_choices("COMPANY", "SELF_EMPLOYED", "INDIVIDUAL") + " (default COMPANY)",
        ),
        *COMMON,
        ADD_TAGS,
        *ASSIGNMENT,
    ),
    INDIVIDUAL: (
        ID,
        _column("firstName", required=True, aliases=("name", "nombre")),
        _column("lastName", aliases=("surname", "apellidos")),
        _column(
            "company",
            fmt="the name or fiscal ID of a company among your contacts",
            aliases=("companyName", "employer"),
        ),
        _column(
            "clientKind",
            fmt=_choices("COMPANY", "SELF_EMPLOYED", "INDIVIDUAL") + " (default INDIVIDUAL)",
        ),
        *COMMON,
        ADD_TAGS,
        *ASSIGNMENT,
    ),
    DOCUMENTS: (ID, *COMMON, ADD_TAGS, *ASSIGNMENT),
}


def columns(variant: str, custom: Sequence[tuple[str, str, bool, str]]) -> list[ImportColumn]:
    """The variant's columns, then one per custom field (key, label, required, type)."""
    return [
        *BY_VARIANT[variant],
        *(
            ImportColumn(f"{CUSTOM_PREFIX}{key}", label, required=required, format=kind.lower())
            for key, label, required, kind in custom
        ),
    ]
