"""The contacts module's content permissions (MISSION A6, client restrictions)."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import (
    Permission,
)


class ContactsPermission(StrEnum):
    ASSIGN_TAGS = "contacts.assign_tags"
    SET_DISCOUNT = "contacts.set_discount"
    CHANGE_COORDINATES = "contacts.change_coordinates"
    CONVERT_TO_SUPPLIER = "contacts.convert_to_supplier"
    CREATE_PUBLIC = "contacts.create_public"
    FISCAL_ID_OTHER = "contacts.fiscal_id_other"
    MERGE = "contacts.merge"
    EXPORT = "contacts.export"
    MANAGE_SETTINGS = "contacts.manage_settings"


DESCRIPTIONS = {
    ContactsPermission.ASSIGN_TAGS: "Add and remove tags on contacts (restricted tags need "
    "their own grant).",
    ContactsPermission.SET_DISCOUNT: "Set a contact's discount.",
    ContactsPermission.CHANGE_COORDINATES: "Change a contact's map coordinates.",
    ContactsPermission.CONVERT_TO_SUPPLIER: "Turn a client into a supplier.",
    ContactsPermission.CREATE_PUBLIC: "Make contacts visible to all users, whatever the hierarchy.",
    ContactsPermission.FISCAL_ID_OTHER: "Use fiscal ID type 'other' besides CIF, NIF and NIE.",
    ContactsPermission.MERGE: "Merge duplicate contacts.",
    ContactsPermission.EXPORT: "Export contacts to Excel.",
    ContactsPermission.MANAGE_SETTINGS: "Manage contact types, tags, custom fields and web "
    "contact forms.",
}

CATALOGUE = Permission.from_enum(ContactsPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
