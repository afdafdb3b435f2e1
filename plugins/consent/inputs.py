"""GraphQL inputs of the consent module."""

from __future__ import annotations

import strawberry

from gateway.sdk import LONG_TEXT, parse_global_id, text
from plugins.consent.configurations import ConfigurationData
from plugins.consent.requests import Target
from plugins.consent.types import AudienceEnum, TriggerEnum
from plugins.contacts.types import CategoryEnum, ClientKindEnum


@strawberry.input(
    description="A consent configuration. Creating needs description, sender, subject and "
    "body; on update, omitted fields keep their value. `[field]` placeholders of the subject "
    "and body must be among `consentTemplateFields`."
)
class ConsentConfigurationInput:
    description: str | None = text(200, default=None)
    enabled: bool | None = None
    audience: AudienceEnum | None = None
    applies_to: list[CategoryEnum] | None = None
    client_kinds: list[ClientKindEnum] | None = None
    triggers: list[TriggerEnum] | None = None
    company_ids: list[strawberry.ID] | None = None
    sender: str | None = text(254, default=None)
    subject: str | None = text(200, default=None)
    body: str | None = text(LONG_TEXT, multiline=True, default=None)
    image_file_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An uploaded image (POST /files) to embed; an empty string removes it.",
    )
    link_valid_days: int | None = None

    def to_data(self) -> ConfigurationData:
        company_ids = (
            [
                parse_global_id(c, "ManagingCompany", f"input.companyIds.{i}")
                for i, c in enumerate(self.company_ids)
            ]
            if self.company_ids is not None
            else None
        )
        return ConfigurationData(
            description=self.description,
            enabled=self.enabled,
            audience=self.audience,
            applies_to=self.applies_to,
            client_kinds=self.client_kinds,
            triggers=self.triggers,
            company_ids=company_ids,
            sender=self.sender,
            subject=self.subject,
            body=self.body,
            image_file_id=self.image_file_id,
            link_valid_days=self.link_valid_days,
        )


@strawberry.input(description="Which request to send: a client, a configuration, a company.")
class ConsentTargetInput:
    contact_id: strawberry.ID
    configuration_id: strawberry.ID
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required when the configuration names managing companies."
    )

    def to_target(self) -> Target:
        return Target(
            contact_id=parse_global_id(self.contact_id, "Contact", "input.contactId"),
            configuration_id=parse_global_id(
                self.configuration_id, "ConsentConfiguration", "input.configurationId"
            ),
            company_id=parse_global_id(self.company_id, "ManagingCompany", "input.companyId")
            if self.company_id is not None
            else None,
        )
