"""The columns of a lead import, taken from the field table (``LEAD_IMPORT``: label, kind,
required) plus ``id`` to match existing leads.

Keys are the ``Lead`` GraphQL field names (what field rules name), so a column the caller's
profile may not write is refused by name before any row is read. Leads have one kind, so
there is one variant, ``""``.
"""

from __future__ import annotations

from gateway.sdk import AccessLevel, ImportColumn, ValueKind
from plugins.leads.fields import LEAD_IMPORT

VARIANT = ""

#: What a template comment and an error say about a column's values.
_FORMATS = {
    "email": "an email address (one per lead)",
    "phone": "a phone number (one per lead)",
    "source": "where the lead came from, e.g. Trade fair",
    "owner": "the email of the user who works the lead; empty: unmanaged (nobody's yet)",
    "access": "one of " + ", ".join(a.value for a in AccessLevel) + " (default PRIVATE)",
}
#: Headers foreign files use for the same thing (compared folded: case, accents, spaces).
_ALIASES = {
    "name": ("lead", "full name", "contact name", "nombre"),
    "company": ("company name", "organisation", "organization", "empresa"),
    "email": ("e-mail", "email address", "correo"),
    "phone": ("telephone", "phone number", "telefono"),
    "source": ("origin", "origen", "fuente"),
    "notes": ("note", "comments", "description", "notas"),
    "owner": ("responsible", "assigned to", "manager", "responsable"),
}

ID = ImportColumn(
    "id", "ID", format="the lead's ID, as exported (for updates)", match=True, aliases=("id",)
)

COLUMNS: tuple[ImportColumn, ...] = (
    ID,
    *(
        ImportColumn(
            f.name,
            f.label,
            required=f.required,
            format=_FORMATS.get(f.name, ""),
            # A lead has one email: it is a match key (leads have no fiscal ID).
            match=f.kind is ValueKind.EMAIL,
            aliases=_ALIASES.get(f.name, ()),
        )
        for f in LEAD_IMPORT
    ),
)

#: Column key → the ``Lead`` attribute (the service's input key) it writes.
ATTRS: dict[str, str] = {f.name: f.attr for f in LEAD_IMPORT if f.attr}
