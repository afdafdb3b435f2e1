"""Root fields for the contacts' custom field definitions (``contactCustomFields``,
``createContactCustomField``, ``deleteContactCustomField``): the kernel's custom-field kit
over :class:`~plugins.contacts.models.CustomField`, with the names contacts published."""

from __future__ import annotations

import strawberry

from gateway.sdk import UserError, definition_fields
from plugins.contacts.models import CustomField
from plugins.contacts.mutations import RemovedPayload
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.types import CustomFieldType


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomFieldType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


CUSTOM_FIELDS = definition_fields(
    CustomField,
    node=CustomFieldType,
    payload=CustomFieldPayload,
    removed=RemovedPayload,
    permission=P.MANAGE_SETTINGS.value,
    list_name="contactCustomFields",
    create_name="createContactCustomField",
    delete_name="deleteContactCustomField",
    list_description="The custom fields defined for contacts.",
    delete_description="Delete a custom field and its values.",
)
contact_custom_fields = CUSTOM_FIELDS.query
create_contact_custom_field = CUSTOM_FIELDS.create
delete_contact_custom_field = CUSTOM_FIELDS.delete
