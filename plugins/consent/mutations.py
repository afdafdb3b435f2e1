"""Root mutations of the consent module: each one transaction through ``mutate``."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from gateway.sdk import guarded, mutate, parse_global_id
from plugins.consent import configurations, requests
from plugins.consent.inputs import ConsentConfigurationInput, ConsentTargetInput
from plugins.consent.models import ConsentConfiguration, ConsentRequest
from plugins.consent.permissions import ConsentPermission as P
from plugins.consent.queries import Ctx
from plugins.consent.types import (
    ConsentConfigurationPayload,
    ConsentConfigurationType,
    ConsentRequestPayload,
    ConsentRequestType,
)


def _config_payload(config: ConsentConfiguration) -> ConsentConfigurationPayload:
    return ConsentConfigurationPayload(configuration=ConsentConfigurationType(record=config))


def _request_payload(request: ConsentRequest) -> ConsentRequestPayload:
    return ConsentRequestPayload(request=ConsentRequestType(record=request))


@guarded(permission=P.MANAGE.value, description="Add a consent configuration.")
def create_consent_configuration(
    info: Ctx, input: ConsentConfigurationInput
) -> ConsentConfigurationPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> ConsentConfiguration:
        return configurations.save(ctx, None, input.to_data())

    return mutate(ctx, ConsentConfigurationPayload, work, _config_payload)


@guarded(
    permission=P.MANAGE.value,
    description="Change a consent configuration (`enabled: false` switches it off; "
    "configurations are never deleted, the proof names them).",
)
def update_consent_configuration(
    info: Ctx, id: strawberry.ID, input: ConsentConfigurationInput
) -> ConsentConfigurationPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> ConsentConfiguration:
        config = configurations.get_configuration(ctx, parse_global_id(id, "ConsentConfiguration"))
        return configurations.save(ctx, config, input.to_data())

    return mutate(ctx, ConsentConfigurationPayload, work, _config_payload)


@guarded(
    permission=P.SEND.value,
    description="Send a client the request again (a waiting one is replaced, its links "
    "stop working). A blocked client is asked only through `unblockConsent`.",
)
def resend_consent_request(info: Ctx, input: ConsentTargetInput) -> ConsentRequestPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> ConsentRequest:
        return requests.resend(ctx, input.to_target())

    return mutate(ctx, ConsentRequestPayload, work, _request_payload)


@guarded(
    permission=P.MANAGE.value,
    description="Unblock a client blocked by GDPR: a new request is sent; the block lifts "
    "only when the client accepts it.",
)
def unblock_consent(info: Ctx, input: ConsentTargetInput) -> ConsentRequestPayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> ConsentRequest:
        return requests.unblock(ctx, input.to_target())

    return mutate(ctx, ConsentRequestPayload, work, _request_payload)
