"""Root fields of the contacts module, as the plugin's hooks publish them: the frontend
contract (``contacts``, ``contact``, ``createContact``, ``updateContact``, ``deleteContact``)
plus settings, export, duplicates and photos. The resolvers live in :mod:`.queries` and
:mod:`.mutations`; this is the list, in the published order."""

from __future__ import annotations

from plugins.contacts import assignment_api, reassign
from plugins.contacts.customfields_api import (
    contact_custom_fields,
    create_contact_custom_field,
    delete_contact_custom_field,
)
from plugins.contacts.mutations import (
    RemovedPayload,
    create_contact,
    create_contact_type,
    create_tag,
    delete_contact,
    delete_tag,
    merge_contacts,
    remove_contact_photo,
    set_contact_photo,
    update_contact,
)
from plugins.contacts.queries import (
    contact,
    contact_duplicates,
    contact_types,
    contacts,
    export_contacts,
    loader_options,
    tags,
)

__all__ = ["MUTATION_FIELDS", "QUERY_FIELDS", "RemovedPayload", "loader_options"]

QUERY_FIELDS = [
    contacts,
    contact,
    export_contacts,
    contact_types,
    tags,
    contact_custom_fields,
    contact_duplicates,
    *reassign.QUERY_FIELDS,
]
MUTATION_FIELDS = [
    create_contact,
    merge_contacts,
    set_contact_photo,
    remove_contact_photo,
    update_contact,
    delete_contact,
    create_contact_type,
    create_tag,
    delete_tag,
    create_contact_custom_field,
    delete_contact_custom_field,
    *assignment_api.MUTATION_FIELDS,
    *reassign.MUTATION_FIELDS,
]
