"""Web contact forms with target LEAD (the ``crm_web_form_submission`` hook): submissions
become unmanaged leads while the leads module is on, contacts otherwise."""

from __future__ import annotations

from tests.test_contact_webforms import SHOP, create_form, found, post, user_id
from tests.test_modules import switch

UNMANAGED = """{ unmanagedLeads(first: 50, filter: {search: "webby"}) { edges { node {
  name company email phone source notes status owner { email } } } } }"""


def lead_form(as_, **extra):
    return create_form(
        as_("admin"),
        name="Leads page",
        fields=["firstName", "lastName", "companyName", "email", "phone", "city", "description"],
        requiredFields=["email"],
        allowedOrigins=[SHOP],
        ownerId=user_id(as_("manager")),
        target="LEAD",
        **extra,
    )


def test_hook_crm_web_form_submission(as_, app):
    form = lead_form(as_)
    assert form["target"] == "LEAD"
    r = post(
        app,
        form,
        origin=SHOP,
        json={
            "firstName": "Wanda",
            "lastName": "Webby",
            "companyName": "Webby Works",
            "email": "wanda@webby.example",
            "phone": "+34 600 000 999",
            "city": "Bilbao",
            "description": "Please call me.",
        },
    )
    assert r.status_code == 201, r.text
    leads = [e["node"] for e in as_("rep2")(UNMANAGED).data["unmanagedLeads"]["edges"]]
    assert leads == [
        {
            "name": "Wanda Webby",
            "company": "Webby Works",
            "email": "wanda@webby.example",
            "phone": "+34 600 000 999",
            "source": "web form: Leads page",
            "notes": "Please call me.\n\nCity: Bilbao",
            "status": "UNMANAGED",
            "owner": None,
        }
    ]
    assert found(as_("admin"), "webby") == []  # no contact
    notes = as_("manager")("{ notifications(unreadOnly: true) { kind title } }").data
    assert {
        "kind": "leads.web_form",
        "title": "New unmanaged lead from Leads page: Wanda Webby",
    } in (notes["notifications"])
    # The contacts module's checks still apply.
    r = post(app, form, origin=SHOP, json={"firstName": "No", "lastName": "Mail"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = post(app, form, origin=SHOP, json={"lastName": "Bad", "email": "not-an-address"})
    assert r.status_code == 400 and r.json()["field"] == "email"


def test_lead_form_needs_the_leads_module_and_falls_back_to_contacts(as_, app):
    form = lead_form(as_)
    admin = as_("admin")
    assert switch(admin, "leads", False)["errors"] == []
    r = post(app, form, origin=SHOP, json={"lastName": "Webby", "email": "late@webby.example"})
    assert r.status_code == 201, r.text
    assert [c["displayName"] for c in found(admin, "webby")] == ["Webby"]
    refused = admin(
        """mutation($input: CreateWebFormInput!) { createWebForm(input: $input) {
        errors { code field } } }""",
        {
            "input": {
                "name": "Another",
                "fields": ["lastName"],
                "ownerId": user_id(as_("rep1")),
                "target": "LEAD",
            }
        },
    ).data["createWebForm"]
    assert refused["errors"] == [{"code": "BAD_USER_INPUT", "field": "target"}]
