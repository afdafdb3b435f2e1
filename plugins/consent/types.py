"""GraphQL types of the consent module: configurations, requests, blocks, ledger entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    ManagingCompanyType,
    UserError,
    UserType,
    global_id,
    load_users,
    utcnow,
)
from plugins.consent.models import (
    Audience,
    Channel,
    ConsentBlock,
    ConsentConfiguration,
    ConsentRequest,
    LedgerEntry,
    LedgerEvent,
    RequestStatus,
    Trigger,
)
from plugins.contacts.models import Category, ClientKind
from plugins.contacts.types import CategoryEnum, ClientKindEnum, ContactNode

strawberry.enum(Audience, name="ConsentAudience", description="Clients, or users (employees).")
AudienceEnum: TypeAlias = Audience
strawberry.enum(Trigger, name="ConsentTrigger", description="When a request is sent.")
TriggerEnum: TypeAlias = Trigger
strawberry.enum(RequestStatus, name="ConsentStatus")
StatusEnum: TypeAlias = RequestStatus
strawberry.enum(LedgerEvent, name="ConsentEvent")
EventEnum: TypeAlias = LedgerEvent
strawberry.enum(Channel, name="ConsentChannel")
ChannelEnum: TypeAlias = Channel


class ExportFormat(StrEnum):
    XLSX = "XLSX"
    CSV = "CSV"


strawberry.enum(ExportFormat, name="ConsentExportFormat")
ExportFormatEnum: TypeAlias = ExportFormat


@strawberry.type(description="A placeholder a consent template may use, as `[name]`.")
class ConsentTemplateField:
    name: str
    description: str


@strawberry.type(name="ConsentConfiguration", description="When to ask whom, and the email.")
class ConsentConfigurationType:
    record: strawberry.Private[ConsentConfiguration]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ConsentConfiguration", self.record.id)

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field
    def enabled(self) -> bool:
        return self.record.enabled

    @strawberry.field
    def audience(self) -> AudienceEnum:
        return self.record.audience

    @strawberry.field(description="The client categories it applies to.")
    def applies_to(self) -> list[CategoryEnum]:
        return [Category(c) for c in self.record.applies_to]

    @strawberry.field(description="The client kinds it applies to; empty: every kind.")
    def client_kinds(self) -> list[ClientKindEnum]:
        return [ClientKind(k) for k in self.record.client_kinds]

    @strawberry.field
    def triggers(self) -> list[TriggerEnum]:
        return [Trigger(t) for t in self.record.triggers]

    @strawberry.field(description="The managing companies that send it; empty: the organisation.")
    def companies(self, info: Info) -> list[ManagingCompanyType]:
        from gateway.sdk import companies

        wanted = set(self.record.company_ids)
        return [
            ManagingCompanyType(record=c)
            for c in companies.companies(info.context.session)
            if c.id in wanted
        ]

    @strawberry.field
    def sender(self) -> str:
        return self.record.sender

    @strawberry.field
    def subject(self) -> str:
        return self.record.subject

    @strawberry.field
    def body(self) -> str:
        return self.record.body

    @strawberry.field
    def has_image(self) -> bool:
        return self.record.image_mime is not None

    @strawberry.field(description="How long the accept/deny links work.")
    def link_valid_days(self) -> int:
        return self.record.link_valid_days

    @strawberry.field(description="Raised each time the sender, subject, body or image change.")
    def version(self) -> int:
        return self.record.version

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


@strawberry.type(
    name="ConsentRequest", description="One request sent to a client (or, USER: a user)."
)
class ConsentRequestType:
    record: strawberry.Private[ConsentRequest]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ConsentRequest", self.record.id)

    @strawberry.field(description="The user (employee) asked; null for a client's request.")
    def user_id(self) -> strawberry.ID | None:
        user_id = self.record.user_id
        return global_id("User", user_id) if user_id is not None else None

    @strawberry.field
    def configuration_id(self) -> strawberry.ID:
        return global_id("ConsentConfiguration", self.record.configuration_id)

    @strawberry.field
    def configuration(self) -> str:
        return self.record.configuration.description

    @strawberry.field(description="The managing company that asks; null: the organisation.")
    def company_id(self) -> strawberry.ID | None:
        company_id = self.record.company_id
        return global_id("ManagingCompany", company_id) if company_id is not None else None

    @strawberry.field
    def company_name(self) -> str | None:
        return self.record.company.name if self.record.company is not None else None

    @strawberry.field(description="SENT reads EXPIRED once its links ran out.")
    def status(self) -> StatusEnum:
        return self.record.shown_status(utcnow())

    @strawberry.field(description="What made it: a trigger, RESEND or UNBLOCK.")
    def reason(self) -> str:
        return self.record.reason

    @strawberry.field
    def recipient(self) -> str:
        return self.record.recipient

    @strawberry.field(description="The subject exactly as sent.")
    def subject(self) -> str:
        return self.record.subject

    @strawberry.field(description="The text exactly as sent (placeholders filled in).")
    def body(self) -> str:
        return self.record.body

    @strawberry.field
    def template_version(self) -> int:
        return self.record.template_version

    @strawberry.field
    def requested_by(self, info: Info) -> UserType | None:
        user_id = self.record.requested_by_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def sent_at(self) -> datetime | None:
        return self.record.sent_at

    @strawberry.field
    def expires_at(self) -> datetime | None:
        return self.record.expires_at

    @strawberry.field
    def answered_at(self) -> datetime | None:
        return self.record.answered_at


@strawberry.type(name="ConsentBlock", description="The client is blocked for email (GDPR).")
class ConsentBlockType:
    record: strawberry.Private[ConsentBlock]

    @strawberry.field(description="DENIED or WITHDRAWN.")
    def reason(self) -> str:
        return self.record.reason

    @strawberry.field
    def blocked_at(self) -> datetime:
        return self.record.blocked_at


@strawberry.type(
    name="ConsentBlockedClient",
    description="A client blocked for email (GDPR): the client itself, why and since when.",
)
class BlockedClientType:
    record: strawberry.Private[ConsentBlock]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ConsentBlock", self.record.id)

    @strawberry.field(description="The client (its field rules apply as on any contact).")
    def contact(self) -> ContactNode:
        return ContactNode(record=self.record.contact)

    @strawberry.field(description="DENIED or WITHDRAWN.")
    def reason(self) -> str:
        return self.record.reason

    @strawberry.field
    def blocked_at(self) -> datetime:
        return self.record.blocked_at


@strawberry.type(name="ConsentLedgerEntry", description="One fact of the proof of consent.")
class LedgerEntryType:
    record: strawberry.Private[LedgerEntry]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ConsentLedgerEntry", self.record.id)

    @strawberry.field
    def at(self) -> datetime:
        return self.record.at

    @strawberry.field
    def event(self) -> EventEnum:
        return self.record.event

    @strawberry.field
    def channel(self) -> ChannelEnum:
        return self.record.channel

    @strawberry.field(description="The client asked; null for a user's (employee's) entry.")
    def contact_id(self) -> strawberry.ID | None:
        contact_id = self.record.contact_id
        return global_id("Contact", contact_id) if contact_id is not None else None

    @strawberry.field(description="The user (employee) asked, for a `USER` configuration.")
    def user_id(self) -> strawberry.ID | None:
        user_id = self.record.user_id
        return global_id("User", user_id) if user_id is not None else None

    @strawberry.field
    def request_id(self) -> strawberry.ID | None:
        request_id = self.record.request_id
        return global_id("ConsentRequest", request_id) if request_id is not None else None

    @strawberry.field
    def configuration(self) -> str:
        return self.record.configuration

    @strawberry.field
    def company(self) -> str:
        return self.record.company

    @strawberry.field(description="The user who asked (resend, unblock) or whose change triggered.")
    def actor(self) -> str:
        return self.record.actor

    @strawberry.field
    def recipient(self) -> str:
        return self.record.recipient

    @strawberry.field
    def template_version(self) -> int | None:
        return self.record.template_version

    @strawberry.field(description="SHA-256 of the subject and text shown.")
    def text_sha256(self) -> str:
        return self.record.text_sha256

    @strawberry.field
    def ip_address(self) -> str:
        return self.record.ip_address

    @strawberry.field
    def user_agent(self) -> str:
        return self.record.user_agent

    @strawberry.field
    def detail(self) -> str:
        return self.record.detail


@strawberry.type(description="A client's consent: its block and every request, newest first.")
class ClientConsent:
    contact_id: strawberry.ID
    blocked: ConsentBlockType | None
    requests: list[ConsentRequestType]


@strawberry.type
class ConsentConfigurationPayload:
    configuration: ConsentConfigurationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConsentRequestPayload:
    request: ConsentRequestType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
