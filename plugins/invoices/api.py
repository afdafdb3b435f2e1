"""The invoices module's root fields, in schema order (the hooks publish these lists):
``queries.py``, ``mutations.py`` and ``catalogue_api.py`` hold them, ``loading.py`` what
they share."""

from __future__ import annotations

from plugins.invoices.catalogue_api import (
    delete_invoice_item,
    delete_invoice_tax,
    rebase_invoice_series,
    save_invoice_item,
    save_invoice_series,
    save_invoice_tax,
    update_invoice_settings,
)
from plugins.invoices.mutations import (
    create_invoice,
    delete_invoice,
    duplicate_invoice,
    issue_invoice,
    send_invoice,
    set_invoice_status,
    update_invoice,
)
from plugins.invoices.queries import (
    export_invoices,
    invoice,
    invoice_items,
    invoice_pdf,
    invoice_series,
    invoice_settings,
    invoice_taxes,
    invoices,
)

QUERY_FIELDS = [
    invoices,
    invoice,
    invoice_pdf,
    export_invoices,
    invoice_taxes,
    invoice_items,
    invoice_series,
    invoice_settings,
]
MUTATION_FIELDS = [
    create_invoice,
    update_invoice,
    delete_invoice,
    issue_invoice,
    set_invoice_status,
    duplicate_invoice,
    send_invoice,
    save_invoice_tax,
    delete_invoice_tax,
    save_invoice_item,
    delete_invoice_item,
    save_invoice_series,
    rebase_invoice_series,
    update_invoice_settings,
]
