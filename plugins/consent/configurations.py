"""Consent configurations (MISSION K1, K2): saving them with every check, listing them.

Administration needs ``consent.manage`` (declared on the root fields). A description is
unique per organisation (the unique key answers ``CONFLICT``). Changing what the mail says
(sender, subject, body, image) raises ``version``, which every later request and ledger
entry records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gateway.sdk import LONG_TEXT, BadUserInput, CallerContext, NotFound, companies, open_file
from plugins.consent import placeholders
from plugins.consent.models import (
    AUDIENCE_TRIGGERS,
    Audience,
    ConfigurationCompany,
    ConsentConfiguration,
    Trigger,
)
from plugins.contacts import validation
from plugins.contacts.models import Category, ClientKind

IMAGE_LIMIT = 512 * 1024
#: Magic bytes of the images a mail may embed.
IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


@dataclass
class ConfigurationData:
    """What a save gives; ``None`` leaves a field as it is (updates)."""

    description: str | None = None
    enabled: bool | None = None
    audience: Audience | None = None
    applies_to: list[Category] | None = None
    client_kinds: list[ClientKind] | None = None
    triggers: list[Trigger] | None = None
    company_ids: list[int] | None = None
    sender: str | None = None
    subject: str | None = None
    body: str | None = None
    #: A stored file id (an upload of the caller) to embed; "" removes the image.
    image_file_id: str | None = None
    link_valid_days: int | None = None


def list_configurations(ctx: CallerContext) -> list[ConsentConfiguration]:
    return list(
        ctx.session.scalars(
            select(ConsentConfiguration).order_by(
                ConsentConfiguration.description, ConsentConfiguration.id
            )
        )
    )


def get_configuration(
    ctx: CallerContext, configuration_id: int, name: str = "id"
) -> ConsentConfiguration:
    found = ctx.session.get(ConsentConfiguration, configuration_id)
    if found is None or found.tenant_id != ctx.tenant_id:
        raise NotFound("no such consent configuration", field=name)
    return found


def _text(value: str, name: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise BadUserInput("this field is required", field=name)
    if len(text) > limit:
        raise BadUserInput(f"at most {limit} characters", field=name)
    return text


def _image(ctx: CallerContext, file_id: str) -> tuple[bytes, str]:
    stored = open_file(ctx, file_id)
    content = stored.content
    if len(content) > IMAGE_LIMIT:
        raise BadUserInput(
            f"the image may be at most {IMAGE_LIMIT // 1024} KB", field="imageFileId"
        )
    for magic, mime in IMAGE_TYPES.items():
        if content.startswith(magic):
            return content, mime
    raise BadUserInput("the image must be PNG, JPEG or GIF", field="imageFileId")


def save(
    ctx: CallerContext, config: ConsentConfiguration | None, data: ConfigurationData
) -> ConsentConfiguration:
    """Create (``config`` None) or change a configuration. Everything is checked before
    anything is written: placeholders, the sender address, the companies, the choices."""
    creating = config is None
    if creating:
        for name, value in (
            ("description", data.description),
            ("sender", data.sender),
            ("subject", data.subject),
            ("body", data.body),
        ):
            if value is None:
                raise BadUserInput("this field is required", field=name)
        config = ConsentConfiguration(
            tenant_id=ctx.tenant_id,
            audience=data.audience or Audience.CLIENT,
            created_by_id=ctx.user_id,
            applies_to=[],
            client_kinds=[],
            triggers=[],
            version=1,
        )
        config.company_links = []
    assert config is not None
    mail_changed = False
    if data.description is not None:
        config.description = _text(data.description, "description", 200)
    if data.enabled is not None:
        config.enabled = data.enabled
    if data.audience is not None:
        config.audience = data.audience
    if data.applies_to is not None:
        config.applies_to = sorted({c.value for c in data.applies_to})
    if data.client_kinds is not None:
        config.client_kinds = sorted({k.value for k in data.client_kinds})
    if data.triggers is not None:
        config.triggers = sorted({t.value for t in data.triggers})
    if data.sender is not None:
        config.sender = validation.email(data.sender, "sender")
        mail_changed = True
    if data.subject is not None:
        subject = _text(data.subject, "subject", 200)
        placeholders.check(subject, "subject")
        config.subject, mail_changed = subject, True
    if data.body is not None:
        body = _text(data.body, "body", LONG_TEXT)
        placeholders.check(body, "body")
        config.body, mail_changed = body, True
    if data.image_file_id is not None:
        if data.image_file_id == "":
            config.image, config.image_mime = None, None
        else:
            config.image, config.image_mime = _image(ctx, data.image_file_id)
        mail_changed = True
    if data.link_valid_days is not None:
        if not 1 <= data.link_valid_days <= 365:
            raise BadUserInput("between 1 and 365 days", field="linkValidDays")
        config.link_valid_days = data.link_valid_days
    if data.company_ids is not None:
        for index, company_id in enumerate(data.company_ids):
            companies.get_company(ctx.session, ctx.tenant_id, company_id, f"companyIds.{index}")
        config.company_links = [
            ConfigurationCompany(tenant_id=ctx.tenant_id, company_id=company_id)
            for company_id in sorted(set(data.company_ids))
        ]
    _check_shape(config)
    if mail_changed and not creating:
        config.version += 1
    if creating:
        ctx.session.add(config)
    ctx.session.flush()  # a taken description: unique violation → CONFLICT (the transaction)
    return config


def _check_shape(config: ConsentConfiguration) -> None:
    """A client configuration names the categories it applies to and when it is sent; a
    user (employees) configuration has no client categories or kinds, and is sent when a
    user is saved (``USER_SAVED``). Each trigger belongs to one audience."""
    allowed = AUDIENCE_TRIGGERS[config.audience]
    wrong = sorted(set(config.triggers) - {t.value for t in allowed})
    if wrong:
        raise BadUserInput(
            f"{', '.join(wrong)} cannot send a configuration for "
            f"{'clients' if config.audience is Audience.CLIENT else 'users'}; "
            f"use {', '.join(sorted(t.value for t in allowed))}",
            field="triggers",
        )
    if config.audience is Audience.CLIENT:
        if not config.applies_to:
            raise BadUserInput("choose the kinds of client it applies to", field="appliesTo")
    elif config.applies_to or config.client_kinds:
        raise BadUserInput(
            "a configuration for users has no client categories or kinds", field="audience"
        )
    if not config.triggers:
        raise BadUserInput("choose when the request is sent", field="triggers")
