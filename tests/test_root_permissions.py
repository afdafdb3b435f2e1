"""Root fields declare the permission they need (``guarded(permission=...)``): the SDL shows
it, and a caller without it is refused with FORBIDDEN before anything runs."""

from __future__ import annotations

import pytest

from gateway.testing import GraphQLClient

#: (type, root field, permission) as the published SDL must state them.
DECLARED = [
    ("Query", "profiles", "core.profiles.manage"),
    ("Query", "sharingRules", "core.sharing.manage"),
    ("Query", "exportInvoices", "invoices.export"),
    ("Mutation", "createUser", "core.users.manage"),
    ("Mutation", "inviteUser", "core.users.manage"),
    ("Mutation", "updateOrganization", "core.organization.manage"),
    ("Mutation", "createSharingRule", "core.sharing.manage"),
    ("Mutation", "deleteProfile", "core.profiles.manage"),
    ("Mutation", "sendInvoice", "invoices.send"),
    ("Mutation", "saveInvoiceTax", "invoices.manage_settings"),
]


def _field_line(sdl: str, type_name: str, field: str) -> str:
    body = sdl.split(f"type {type_name} {{", 1)[1].split("\n}", 1)[0]
    lines = [ln.strip() for ln in body.splitlines()]
    (line,) = [ln for ln in lines if ln.startswith((f"{field}(", f"{field}:"))]
    return line


@pytest.mark.parametrize(("type_name", "field", "permission"), DECLARED)
def test_the_sdl_says_what_a_root_field_needs(gateway, type_name, field, permission):
    line = _field_line(str(gateway.schemas.full()), type_name, field)
    assert line.endswith(f'@requires(permission: "{permission}")'), line


def _refused(response, permission: str, field: str) -> None:
    """FORBIDDEN as ``ctx.require`` gave it (code, ``extensions.permission``), and no data:
    the operation was refused before execution."""
    assert response.codes == ["FORBIDDEN"], response.body
    (error,) = response.errors
    assert error["extensions"]["permission"] == permission
    assert f"needs the permission {permission!r}" in error["message"]
    assert field in error["message"]
    assert response.body.get("data") is None


def test_a_user_without_the_permission_is_refused_and_nothing_is_created(demo, client_for):
    rep = client_for("rep1@demo.test")
    admin = client_for("admin@demo.test")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}

    created = rep(
        """mutation($p: ID!) { createUser(input: {email: "intruder@demo.test",
        displayName: "Intruder", password: "long-enough-password", profileId: $p})
        { errors { code } } }""",
        {"p": profiles["Administrator"]},
    )
    _refused(created, "core.users.manage", "Mutation.createUser")
    users = admin("{ users { email } }").data["users"]
    assert "intruder@demo.test" not in {u["email"] for u in users}

    taxes = lambda: admin("{ invoiceTaxes { name } }").data["invoiceTaxes"]  # noqa: E731
    before = taxes()
    saved = rep(
        'mutation { saveInvoiceTax(input: {name: "Sneaky", rate: "1"}) { errors { code } } }'
    )
    _refused(saved, "invoices.manage_settings", "Mutation.saveInvoiceTax")
    assert taxes() == before

    org = lambda: admin("{ organization { name } }").data["organization"]  # noqa: E731
    name = org()
    renamed = rep(
        'mutation { updateOrganization(input: {name: "Taken over"}) { errors { code } } }'
    )
    _refused(renamed, "core.organization.manage", "Mutation.updateOrganization")
    assert org() == name


def test_the_refusal_comes_before_any_other_field_runs(demo, client_for):
    """A query that also selects an allowed field gets nothing: the guard refuses the whole
    operation before execution (``ctx.require`` inside the resolver used to answer the rest)."""
    rep = client_for("rep1@demo.test")
    _refused(rep("{ me { user { email } } profiles { id } }"), "core.profiles.manage", "profiles")


def test_a_send_without_the_permission_sends_nothing(demo, mail_app):
    http, inbox = mail_app
    admin, assistant = (
        GraphQLClient(http).login(f"{who}@demo.test") for who in ("admin", "assistant")
    )
    invoices = admin(
        "{ invoices(first: 50, filter: {status: [BILLED]}) { edges { node { id } } } }"
    )
    invoice_id = invoices.data["invoices"]["edges"][0]["node"]["id"]
    sent = assistant(
        'mutation($id: ID!) { sendInvoice(id: $id, to: "x@example.com") { errors { code } } }',
        {"id": invoice_id},
    )
    _refused(sent, "invoices.send", "Mutation.sendInvoice")
    assert inbox.messages == []


def test_without_sign_in_it_is_still_unauthenticated(gql):
    assert gql("{ profiles { id } }").codes == ["UNAUTHENTICATED"]
