"""GraphQL administration of web forms (``contacts.manage_settings``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    RequestContext,
    UserError,
    UserType,
    global_id,
    guarded,
    load_users,
    mutate,
    parse_global_id,
)
from plugins.contacts.api import RemovedPayload
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.webforms.models import TARGET_MODULES, WebForm, WebFormTarget
from plugins.contacts.webforms.service import (
    WebFormChanges,
    endpoint_of,
    get_form,
    html_snippet,
    save_form,
)

if TYPE_CHECKING:
    pass

Ctx = Info[RequestContext, None]


# -- GraphQL (administration) ----------------------------------------------------------------

strawberry.enum(
    WebFormTarget,
    name="WebFormTarget",
    description="What a web form's submissions create: CONTACT, or LEAD (an unmanaged lead; "
    "needs the leads module).",
)
WebFormTargetEnum: TypeAlias = WebFormTarget


@strawberry.type(
    name="WebForm",
    description="A public contact form: each valid submission to its endpoint creates a "
    "private contact managed by its owner.",
)
class WebFormType:
    record: strawberry.Private[WebForm]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("WebForm", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(
        description="The form's key in its endpoint. Public: it appears in the site's HTML."
    )
    def public_key(self) -> str:
        return self.record.public_key

    @strawberry.field(description="The contact fields the form collects, in order.")
    def fields(self) -> list[str]:
        return self.record.field_list

    @strawberry.field
    def required_fields(self) -> list[str]:
        return self.record.required_list

    @strawberry.field(
        description="Origins (scheme://host[:port]) browsers may submit from; a request "
        "with any other Origin is refused. Requests without Origin (server to server) pass."
    )
    def allowed_origins(self) -> list[str]:
        return self.record.origin_list

    @strawberry.field(description="The manager of the contacts the form creates.")
    def owner(self, info: Info) -> UserType | None:
        owner_id = self.record.owner_id
        found = load_users(info.context, [owner_id]).get(owner_id)
        return UserType(record=found) if found else None

    @strawberry.field(description="Tags put on the contacts the form creates.")
    def tags(self) -> list[str]:
        return self.record.tag_list

    @strawberry.field
    def target(self) -> WebFormTargetEnum:
        return self.record.target

    @strawberry.field
    def enabled(self) -> bool:
        return self.record.enabled

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field(
        description="Where the site posts submissions (JSON or form-encoded; answers 201 "
        "{ok: true}, or 400 {error, field})."
    )
    def endpoint(self, info: Ctx) -> str:
        return endpoint_of(info.context.gateway.settings.public_url, self.record)

    @strawberry.field(
        description="A minimal HTML form for the site, posting to the endpoint, with the "
        "honeypot field hidden by CSS."
    )
    def html_snippet(self, info: Ctx) -> str:
        settings = info.context.gateway.settings
        return html_snippet(endpoint_of(settings.public_url, self.record), self.record)


@strawberry.type
class WebFormPayload:
    web_form: WebFormType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A new web form.")
class CreateWebFormInput:
    name: str = strawberry.field(description="1 to 70 characters; the contacts' source.")
    fields: list[str] = strawberry.field(
        description="Contact fields to collect, among firstName, lastName, companyName, "
        "email, phone, website, city, country, description; at least one name field."
    )
    owner_id: strawberry.ID = strawberry.field(
        description="The manager of the contacts it creates: an active user, not an assistant."
    )
    required_fields: list[str] = strawberry.field(default_factory=list)
    allowed_origins: list[str] = strawberry.field(
        default_factory=list, description="e.g. https://shop.example"
    )
    tags: list[str] = strawberry.field(default_factory=list)
    target: WebFormTargetEnum = WebFormTarget.CONTACT
    enabled: bool = True


@strawberry.input(description="Changes to a web form; omitted fields stay as they are.")
class UpdateWebFormInput:
    name: str | None = None
    fields: list[str] | None = None
    owner_id: strawberry.ID | None = None
    required_fields: list[str] | None = None
    allowed_origins: list[str] | None = None
    tags: list[str] | None = None
    target: WebFormTargetEnum | None = None
    enabled: bool | None = None


def _changes(input: CreateWebFormInput | UpdateWebFormInput) -> WebFormChanges:
    owner_id = input.owner_id
    return WebFormChanges(
        name=input.name,
        fields=input.fields,
        required_fields=input.required_fields,
        allowed_origins=input.allowed_origins,
        owner_id=parse_global_id(owner_id, "User", "ownerId") if owner_id is not None else None,
        tags=input.tags,
        target=WebFormTarget(input.target) if input.target is not None else None,
        enabled=input.enabled,
    )


@guarded(permission=P.MANAGE_SETTINGS.value, description="Your organisation's web contact forms.")
def web_forms(info: Ctx) -> list[WebFormType]:
    ctx = info.context
    caller = ctx.require_caller()
    rows = ctx.session.scalars(
        select(WebForm).where(WebForm.tenant_id == caller.tenant_id).order_by(WebForm.id)
    ).all()
    load_users(info.context, sorted({f.owner_id for f in rows}))
    return [WebFormType(record=f) for f in rows]


def _save(
    ctx: RequestContext,
    form_id: strawberry.ID | None,
    input: CreateWebFormInput | UpdateWebFormInput,
) -> WebFormPayload:
    caller = ctx.require_caller()

    def work(session: Session) -> WebForm:
        needs = TARGET_MODULES.get(WebFormTarget(input.target)) if input.target else None
        if needs is not None and needs not in ctx.enabled_modules:
            raise BadUserInput(f"switch the {needs} module on first", field="target")
        form = None
        if form_id is not None:
            form = get_form(session, caller.tenant_id, parse_global_id(form_id, "WebForm"))
        return save_form(
            session,
            tenant_id=caller.tenant_id,
            profile_id=caller.profile_id,
            is_admin=caller.is_admin,
            form=form,
            changes=_changes(input),
        )

    return mutate(
        ctx,
        WebFormPayload,
        work,
        lambda result: WebFormPayload(web_form=WebFormType(record=result)),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create a web contact form; its endpoint and HTML snippet are in the result.",
)
def create_web_form(info: Ctx, input: CreateWebFormInput) -> WebFormPayload:
    return _save(info.context, None, input)


@guarded(permission=P.MANAGE_SETTINGS.value, description="Change some settings of a web form.")
def update_web_form(info: Ctx, id: strawberry.ID, input: UpdateWebFormInput) -> WebFormPayload:
    return _save(info.context, id, input)


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Delete a web form; its endpoint then answers 404. Contacts it created stay.",
)
def delete_web_form(info: Ctx, id: strawberry.ID) -> RemovedPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> bool:
        session.delete(get_form(session, caller.tenant_id, parse_global_id(id, "WebForm")))
        return True

    return mutate(ctx, RemovedPayload, work, lambda _done: RemovedPayload(ok=True))


QUERY_FIELDS = [web_forms]
MUTATION_FIELDS = [create_web_form, update_web_form, delete_web_form]
