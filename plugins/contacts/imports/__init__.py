"""Importing contacts from spreadsheets: the columns per variant (company / individual) and
the :class:`~plugins.contacts.imports.importer.ContactImporter` the kernel's import runs."""

from plugins.contacts.imports.importer import ContactImporter

__all__ = ["ContactImporter"]
