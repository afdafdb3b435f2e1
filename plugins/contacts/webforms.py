"""Web contact forms (MISSION C7): administrators create forms; a public endpoint accepts
their submissions and creates contacts automatically.

::

    admin (GraphQL, contacts.manage_settings)   webForms, createWebForm, updateWebForm,
                                                deleteWebForm → WebForm {endpoint htmlSnippet}
    visitor's browser or server                 POST /forms/{publicKey}  (JSON or form-encoded)
                                                OPTIONS /forms/{publicKey}  (CORS preflight)

The endpoint is public, so it defends itself: the form's key names the tenant (unknown
keys, disabled forms and tenants with the contacts module off all answer 404), browsers'
``Origin`` must be one of the form's allowed origins (CORS), bodies are capped at 16 KiB,
a hidden honeypot field (``website_url``) that only bots fill makes the submission be
answered like a success and dropped, and each client address may submit a form at most
:data:`RATE_LIMIT` times per :data:`RATE_WINDOW` (counted in the database, so the limit
holds across worker processes). A valid submission creates a private contact managed by
the form's owner, tagged with the form's tags, through the contacts service helpers
(validation, search text, record events), and notifies the owner. A form whose target is
``LEAD`` hands the checked fields to the module answering ``crm_web_form_submission``
instead (the leads module: an unmanaged lead), or creates a contact if that module is off.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import strawberry
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    Base,
    CallerContext,
    Forbidden,
    GatewayError,
    NotFound,
    PluginRegistry,
    ProfileKind,
    RequestContext,
    User,
    UserError,
    UserType,
    UTCDateTime,
    Via,
    check_text,
    enabled_modules,
    global_id,
    guarded,
    load_users,
    mutate,
    notify,
    parse_global_id,
    str_enum,
    throttle,
    utcnow,
)
from plugins.contacts import services
from plugins.contacts import validation as check
from plugins.contacts.api import RemovedPayload
from plugins.contacts.fields import FORM_FIELDS
from plugins.contacts.models import Contact, ContactKind, Tag, TagGrant
from plugins.contacts.permissions import ContactsPermission as P

if TYPE_CHECKING:
    from gateway.sdk import Gateway

Ctx = Info[RequestContext, None]

MODULE = "contacts"
#: The contact fields a form may collect (GraphQL names) → Contact attribute (None: a list),
#: and their labels: the field table's ``web_form`` fields.
FIELDS: dict[str, str | None] = {name: f.attr for name, f in FORM_FIELDS.items()}
LABELS = {name: f.form_label or f.label for name, f in FORM_FIELDS.items()}
NAME_FIELDS = ("firstName", "lastName", "companyName")
#: The honeypot: hidden from people by CSS, filled by bots that fill every field.
HONEYPOT = "website_url"
MAX_BODY = 16 * 1024
MAX_DESCRIPTION = 5000
#: Submissions one client address may make to one form per window.
RATE_LIMIT = 5
RATE_WINDOW = timedelta(minutes=10)
SOURCE_PREFIX = "web form: "
MAX_NAME = 80 - len(SOURCE_PREFIX)  # the name goes into the contacts' source (80 chars)


class WebFormTarget(StrEnum):
    """What a submission creates: a contact, or (with the leads module on) an unmanaged lead,
    created by whichever module answers ``crm_web_form_submission``."""

    CONTACT = "CONTACT"
    LEAD = "LEAD"


#: Targets other modules create, and the module that must be on to choose them.
TARGET_MODULES = {WebFormTarget.LEAD: "leads"}


class WebForm(Base):
    """A public contact form of a tenant. Its key is public (it is in the site's HTML), so
    it is stored as is; it only lets visitors submit, never read."""

    __tablename__ = "contact_web_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    #: The contact fields the form accepts (GraphQL names), one per line, in form order.
    fields: Mapped[str] = mapped_column(Text, default="")
    #: The subset of ``fields`` a submission must fill, one per line.
    required_fields: Mapped[str] = mapped_column(Text, default="")
    #: Exact origins (``https://shop.example``) browsers may submit from, one per line.
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
    #: The manager of the contacts the form creates (never an assistant).
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: Tag names put on the contacts the form creates, one per line.
    tags: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[WebFormTarget] = mapped_column(
        str_enum(WebFormTarget), default=WebFormTarget.CONTACT
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def field_list(self) -> list[str]:
        return _lines(self.fields)

    @property
    def required_list(self) -> list[str]:
        return _lines(self.required_fields)

    @property
    def origin_list(self) -> list[str]:
        return _lines(self.allowed_origins)

    @property
    def tag_list(self) -> list[str]:
        return _lines(self.tags)


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


# -- administration (services, free of GraphQL) ---------------------------------------------


@dataclass
class WebFormChanges:
    """Administrator input; ``None`` leaves a setting as it is (updates are partial)."""

    name: str | None = None
    fields: list[str] | None = None
    required_fields: list[str] | None = None
    allowed_origins: list[str] | None = None
    owner_id: int | None = None
    tags: list[str] | None = None
    target: WebFormTarget | None = None
    enabled: bool | None = None


def _field_names(names: list[str], where: str) -> list[str]:
    chosen: list[str] = []
    for raw in names:
        name = raw.strip()
        if name not in FIELDS:
            raise BadUserInput(
                f"unknown field {raw!r}; a form may collect {', '.join(FIELDS)}", field=where
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def normalise_origin(value: str) -> str:
    """``scheme://host[:port]`` as browsers send it in ``Origin`` (lower-case, no default
    port); BAD_USER_INPUT for anything else (paths, queries, credentials, other schemes)."""
    problem = f"{value!r} is not an origin: write scheme://host[:port], e.g. https://shop.example"
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        raise BadUserInput(problem, field="allowedOrigins") from exc
    scheme, host = parts.scheme.lower(), parts.hostname
    if (
        scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.path
        or parts.query
        or parts.fragment
        or value.strip().endswith(("?", "#"))
    ):
        raise BadUserInput(problem, field="allowedOrigins")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _owner(session: Session, tenant_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise BadUserInput("no such user in your organisation", field="ownerId")
    if not user.is_active:
        raise BadUserInput("the owner must be an active user", field="ownerId")
    if user.profile.kind is ProfileKind.ASSISTANT:
        raise BadUserInput("assistants cannot manage contacts", field="ownerId")
    return user


def _tag_names(
    session: Session, tenant_id: int, profile_id: int, is_admin: bool, names: list[str]
) -> list[str]:
    chosen: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name or len(name) > 60:
            raise BadUserInput("a tag has 1 to 60 characters", field="tags")
        if name not in chosen:
            chosen.append(name)
    if chosen and not is_admin:
        restricted = session.scalars(
            select(Tag).where(Tag.tenant_id == tenant_id, Tag.name.in_(chosen), Tag.restricted)
        ).all()
        granted = set(
            session.scalars(
                select(TagGrant.tag_id).where(
                    TagGrant.tag_id.in_([t.id for t in restricted]),
                    TagGrant.profile_id == profile_id,
                )
            )
        )
        refused = sorted(t.name for t in restricted if t.id not in granted)
        if refused:
            raise Forbidden(
                f"your profile may not put the tag(s) {', '.join(refused)} on contacts",
                field="tags",
            )
    return chosen


def save_form(
    session: Session,
    *,
    tenant_id: int,
    profile_id: int,
    is_admin: bool,
    form: WebForm | None,
    changes: WebFormChanges,
) -> WebForm:
    """Create (``form`` is ``None``) or change a form of ``tenant_id``, validating it whole."""
    if form is None:
        for name, value in (("name", changes.name), ("fields", changes.fields)):
            if value is None:
                raise BadUserInput(f"{name} is required", field=name)
        if changes.owner_id is None:
            raise BadUserInput("ownerId is required", field="ownerId")
        form = WebForm(
            tenant_id=tenant_id,
            public_key=secrets.token_urlsafe(24),
            target=WebFormTarget.CONTACT,
            enabled=True,
        )
    if changes.name is not None:
        name = changes.name.strip()
        if not name or len(name) > MAX_NAME:
            raise BadUserInput(f"a name of 1 to {MAX_NAME} characters", field="name")
        form.name = name
    if changes.fields is not None:
        chosen = _field_names(changes.fields, "fields")
        if not set(chosen) & set(NAME_FIELDS):
            raise BadUserInput(
                "a form must collect a name: firstName, lastName or companyName", field="fields"
            )
        form.fields = "\n".join(chosen)
    if changes.required_fields is not None:
        form.required_fields = "\n".join(_field_names(changes.required_fields, "requiredFields"))
    missing = [f for f in form.required_list if f not in form.field_list]
    if missing:
        raise BadUserInput(
            f"required fields must be among the form's fields: {', '.join(missing)}",
            field="requiredFields",
        )
    if changes.allowed_origins is not None:
        origins: list[str] = []
        for value in changes.allowed_origins:
            origin = normalise_origin(value)
            if origin not in origins:
                origins.append(origin)
        form.allowed_origins = "\n".join(origins)
    if changes.owner_id is not None:
        form.owner_id = _owner(session, tenant_id, changes.owner_id).id
    if changes.tags is not None:
        form.tags = "\n".join(_tag_names(session, tenant_id, profile_id, is_admin, changes.tags))
    if changes.target is not None:
        form.target = WebFormTarget(changes.target)
    if changes.enabled is not None:
        form.enabled = changes.enabled
    session.add(form)
    session.flush()
    return form


def get_form(session: Session, tenant_id: int, form_id: int) -> WebForm:
    form = session.get(WebForm, form_id)
    if form is None or form.tenant_id != tenant_id:
        raise NotFound("no such web form", field="id")
    return form


def endpoint_of(public_url: str, form: WebForm) -> str:
    return f"{public_url.rstrip('/')}/forms/{form.public_key}"


def html_snippet(endpoint: str, form: WebForm) -> str:
    """A minimal HTML form posting to the endpoint, with the honeypot hidden by CSS."""
    required = set(form.required_list)
    rows = []
    for name in form.field_list:
        attrs = f' name="{name}"' + (" required" if name in required else "")
        if name == "description":
            control = f"<textarea{attrs}></textarea>"
        else:
            kind = {"email": "email", "phone": "tel", "website": "url"}.get(name, "text")
            control = f'<input type="{kind}"{attrs}>'
        rows.append(f"  <p><label>{html.escape(LABELS[name])} {control}</label></p>")
    honeypot = (
        '  <div style="position:absolute;left:-10000px;top:auto;width:1px;height:1px;'
        'overflow:hidden" aria-hidden="true">\n'
        f'    <label>Leave this empty <input type="text" name="{HONEYPOT}" tabindex="-1" '
        'autocomplete="off"></label>\n'
        "  </div>"
    )
    return "\n".join(
        [
            f'<form action="{html.escape(endpoint, quote=True)}" method="post">',
            *rows,
            honeypot,
            '  <p><button type="submit">Send</button></p>',
            "</form>",
        ]
    )


# -- submissions (services, free of HTTP) ----------------------------------------------------


@dataclass(frozen=True)
class FormSpec:
    """What a submission needs of its form, read once (handed between threads)."""

    id: int
    tenant_id: int
    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    origins: frozenset[str]
    owner_id: int
    tags: tuple[str, ...]
    modules: frozenset[str]
    target: WebFormTarget = WebFormTarget.CONTACT

    @classmethod
    def of(cls, form: WebForm, modules: frozenset[str]) -> FormSpec:
        return cls(
            id=form.id,
            tenant_id=form.tenant_id,
            name=form.name,
            fields=tuple(form.field_list),
            required=tuple(form.required_list),
            origins=frozenset(form.origin_list),
            owner_id=form.owner_id,
            tags=tuple(form.tag_list),
            modules=modules,
            target=WebFormTarget(form.target),
        )


def find_form(session: Session, registry: PluginRegistry, key: str) -> FormSpec | None:
    """The enabled form with this key, if the contacts module is on for its tenant."""
    if not key or len(key) > 64:
        return None
    form = session.scalar(select(WebForm).where(WebForm.public_key == key))
    if form is None or not form.enabled:
        return None
    modules = enabled_modules(session, registry, form.tenant_id)
    if MODULE not in modules:
        return None
    return FormSpec.of(form, modules)


def rate_key(form_id: int, address: str) -> str:
    return "form:" + hashlib.sha256(f"{form_id}\n{address}".encode()).hexdigest()


def _text(values: dict[str, str], name: str, limit: int) -> str:
    value = values.get(name, "").strip()
    if len(value) > limit:
        raise BadUserInput(f"{name} has at most {limit} characters", field=name)
    return check_text(value, name, max_length=limit, multiline=name == "description")


def _column_limit(attr: str) -> int:
    length = getattr(Contact.__table__.c[attr].type, "length", None)
    return length if isinstance(length, int) else MAX_DESCRIPTION


def collected(form: FormSpec, values: dict[str, str]) -> dict[str, str]:
    """The non-empty fields the form collects, trimmed and length-checked, with the required
    ones and a name present; BAD_USER_INPUT names the field at fault."""
    given: dict[str, str] = {}
    for name in form.fields:
        attr = FIELDS[name]
        limit = _column_limit(attr) if attr else 254
        value = _text(values, name, limit)
        if value:
            given[name] = value
    for name in form.required:
        if name not in given:
            raise BadUserInput(f"{name} is required", field=name)
    has_person_name = "firstName" in given or "lastName" in given
    if not has_person_name and "companyName" not in given:
        field = next((f for f in NAME_FIELDS if f in form.fields), "firstName")
        raise BadUserInput("a name is required", field=field)
    return given


def create_record(ctx: CallerContext, form: FormSpec, values: dict[str, str]) -> Any:
    """What a submission creates, as visitor ``ctx`` of the form's tenant: for a target
    another module owns, that module's record (``crm_web_form_submission``); a contact
    otherwise, or when that module is off."""
    if form.target is not WebFormTarget.CONTACT:
        created = ctx.hooks.crm_web_form_submission(
            context=ctx,
            target=form.target.value,
            form_name=form.name,
            owner_id=form.owner_id,
            values=collected(form, values),
        )
        if created is not None:
            return created
    return create_contact(ctx, form, values)


def contact_data(form: FormSpec, given: dict[str, str]) -> services.ContactData:
    """A submission's collected fields as the service's input: a private contact managed by
    the form's owner, its source naming the form, tagged with the form's tags. Email and
    phone are checked here first, so a refusal names the form's field."""
    has_person_name = "firstName" in given or "lastName" in given
    values: dict[str, Any] = {
        "kind": ContactKind.PERSON if has_person_name else ContactKind.COMPANY,
        "owner_id": form.owner_id,
        "source": (SOURCE_PREFIX + form.name)[:80],
    }
    values.update({FIELDS[name]: value for name, value in given.items() if FIELDS[name]})
    emails = [("WORK", check.email(given["email"], "email"))] if "email" in given else []
    if "phone" in given:
        check.phone(given["phone"], "phone")
    phones = [("WORK", given["phone"])] if "phone" in given else []
    return services.ContactData(values=values, emails=emails, phones=phones, tags=list(form.tags))


def create_contact(ctx: CallerContext, form: FormSpec, values: dict[str, str]) -> Contact:
    """A private contact of the form's tenant from a submission's ``values`` (GraphQL field
    names → text; fields the form does not collect are ignored), made by the same
    :func:`plugins.contacts.services.create_contact` as ``createContact``. BAD_USER_INPUT
    names the field at fault."""
    contact = services.create_contact(ctx, contact_data(form, collected(form, values)))
    notify(
        ctx.session,
        tenant_id=form.tenant_id,
        user_id=form.owner_id,
        kind="contacts.web_form",
        title=f"New contact from {form.name}: {contact.display_name}",
        subject_id=global_id("Contact", contact.id),
    )
    return contact


# -- the public endpoint ---------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


NOT_FOUND: dict[str, Any] = {"error": "not found"}


def _cors(form: FormSpec, origin: str | None) -> dict[str, str]:
    """CORS headers for an allowed ``Origin``; none without one; refuse any other."""
    if origin is None:
        return {}
    if origin not in form.origins:
        raise _Refused(_json(403, {"error": "this origin may not submit this form"}))
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _lookup(gateway: Gateway, key: str) -> FormSpec | None:
    with gateway.db.reading() as session:
        return find_form(session, gateway.registry, key)


def _admit(gateway: Gateway, key: str, origin: str | None, address: str) -> FormSpec | Response:
    """Find the form (a read: unknown keys never take the write lock), check the origin,
    then count the submission in its own transaction, so refused submissions count too."""
    form = _lookup(gateway, key)
    if form is None:
        return _json(404, NOT_FOUND)
    try:
        headers = _cors(form, origin)
    except _Refused as refused:
        return refused.response
    with gateway.db.transaction() as session:
        wait = throttle.count_event(session, rate_key(form.id, address), RATE_LIMIT, RATE_WINDOW)
    if wait is not None:
        return _json(429, {"error": "too many submissions"}, {**headers, "Retry-After": str(wait)})
    return form


def _submit(gateway: Gateway, form: FormSpec, values: dict[str, str]) -> GatewayError | None:
    ctx = CallerContext.visitor(gateway, form.tenant_id, form.modules, via=Via.WEB_FORM)
    try:
        with ctx.transaction():
            create_record(ctx, form, values)
    except GatewayError as exc:
        return exc
    finally:
        ctx.close()
    return None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise _Refused(_json(413, {"error": f"the body exceeds {MAX_BODY} bytes"}))
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise _Refused(_json(413, {"error": f"the body exceeds {MAX_BODY} bytes"}))
    except ClientDisconnect as exc:
        raise _Refused(_json(400, {"error": "the body was cut short"})) from exc
    return bytes(body)


def parse_values(content_type: str, body: bytes) -> dict[str, str]:
    """The submitted fields as text: a JSON object or a form-encoded body. Raises
    BadUserInput (a 400) for anything else."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadUserInput("the body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise BadUserInput("the body must be a JSON object")
        values: dict[str, str] = {}
        for name, value in data.items():
            if value is None:
                continue
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise BadUserInput(f"{name} must be text", field=str(name))
            values[str(name)] = str(value)
        return values
    if kind == "application/x-www-form-urlencoded":
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadUserInput("the body is not valid form data") from exc
        return {name: items[0] for name, items in parsed.items()}
    raise BadUserInput("send application/json or application/x-www-form-urlencoded")


async def form_endpoint(request: Request) -> Response:
    """``POST /forms/{key}`` (a submission) and ``OPTIONS /forms/{key}`` (CORS preflight)."""
    gateway = request.app.state.gateway
    key = request.path_params["key"]
    origin = request.headers.get("origin")
    if request.method == "OPTIONS":
        found = await anyio.to_thread.run_sync(_lookup, gateway, key)
        if found is None:
            return _json(404, NOT_FOUND)
        try:
            headers = _cors(found, origin)
        except _Refused as refused:
            return refused.response
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                }
            )
        return Response(status_code=204, headers=headers)

    address = request.client.host if request.client else "unknown"
    admitted = await anyio.to_thread.run_sync(_admit, gateway, key, origin, address)
    if isinstance(admitted, Response):
        return admitted
    form = admitted
    headers = _cors(form, origin)
    try:
        body = await _body(request)
    except _Refused as refused:
        refused.response.headers.update(headers)
        return refused.response
    try:
        values = parse_values(request.headers.get("content-type", ""), body)
    except BadUserInput as exc:
        return _json(400, _problem(exc), headers)
    if values.get(HONEYPOT, "").strip():
        return _json(200, {"ok": True}, headers)  # a bot: answer like a success, keep nothing
    problem = await anyio.to_thread.run_sync(_submit, gateway, form, values)
    if problem is not None:
        return _json(400, _problem(problem), headers)
    return _json(201, {"ok": True}, headers)


def _problem(exc: GatewayError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return body


ROUTES: list[BaseRoute] = [Route("/forms/{key}", form_endpoint, methods=["POST", "OPTIONS"])]


# -- GraphQL (administration) ----------------------------------------------------------------

WebFormTargetEnum = strawberry.enum(
    WebFormTarget,
    name="WebFormTarget",
    description="What a web form's submissions create: CONTACT, or LEAD (an unmanaged lead; "
    "needs the leads module).",
)


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
    def target(self) -> WebFormTargetEnum:  # type: ignore[valid-type]
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
    target: WebFormTargetEnum = WebFormTarget.CONTACT  # type: ignore[valid-type]
    enabled: bool = True


@strawberry.input(description="Changes to a web form; omitted fields stay as they are.")
class UpdateWebFormInput:
    name: str | None = None
    fields: list[str] | None = None
    owner_id: strawberry.ID | None = None
    required_fields: list[str] | None = None
    allowed_origins: list[str] | None = None
    tags: list[str] | None = None
    target: WebFormTargetEnum | None = None  # type: ignore[valid-type]
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
