"""Importing leads from spreadsheets: the columns (from the field table) and the
:class:`~plugins.leads.imports.importer.LeadImporter` the kernel's import runs."""

from plugins.leads.imports.importer import LeadImporter

__all__ = ["LeadImporter"]
