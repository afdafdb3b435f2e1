"""Web forms, free of HTTP and GraphQL: administration (save, find, snippet) and
submissions (check the fields, create the contact through ``services.create_contact``)."""

from __future__ import annotations

import hashlib
import html
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    Forbidden,
    NotFound,
    PluginRegistry,
    ProfileKind,
    User,
    check_text,
    enabled_modules,
    global_id,
    notify,
)
from plugins.contacts import services
from plugins.contacts import validation as check
from plugins.contacts.models import Contact, ContactKind, Tag, TagGrant
from plugins.contacts.webforms.models import (
    FIELDS,
    HONEYPOT,
    LABELS,
    MAX_DESCRIPTION,
    MAX_NAME,
    MODULE,
    NAME_FIELDS,
    SOURCE_PREFIX,
    WebForm,
    WebFormTarget,
)

if TYPE_CHECKING:
    pass


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
    values.update({field: value for name, value in given.items() if (field := FIELDS[name])})
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
