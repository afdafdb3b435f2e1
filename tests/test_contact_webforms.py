"""Web contact forms (MISSION C7) through the public surface: administrators manage forms over
GraphQL; visitors post to /forms/{key} (JSON or form-encoded), which creates private contacts
for the form's owner, with CORS, a honeypot, a per-address rate limit and validation."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

FORM_FIELDS = """id name publicKey fields requiredFields allowedOrigins owner { email } tags
  target enabled createdAt endpoint htmlSnippet"""
CREATE_FORM = f"""mutation($input: CreateWebFormInput!) {{ createWebForm(input: $input) {{
  webForm {{ {FORM_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE_FORM = f"""mutation($id: ID!, $input: UpdateWebFormInput!) {{
  updateWebForm(id: $id, input: $input) {{
  webForm {{ {FORM_FIELDS} }} errors {{ code message field }} }} }}"""
DELETE_FORM = "mutation($id: ID!) { deleteWebForm(id: $id) { ok errors { code field } } }"
WEB_FORMS = "{ webForms { id name publicKey } }"
SEARCH = """query($s: String!) { contacts(first: 50, search: $s) { edges { node {
  displayName kind email phone description access source owner { email } tags { name } } } } }"""
SHOP = "https://shop.example"


def user_id(client):
    return client("{ me { user { id } } }").data["me"]["user"]["id"]


def create_form(admin, **fields):
    r = admin(CREATE_FORM, {"input": fields})
    assert r.errors == [], r.errors
    payload = r.data["createWebForm"]
    assert payload["errors"] == [], payload
    return payload["webForm"]


@pytest.fixture
def form(as_):
    return create_form(
        as_("admin"),
        name="Website",
        fields=["firstName", "lastName", "email", "phone", "description"],
        requiredFields=["lastName", "email"],
        allowedOrigins=[SHOP, "http://localhost:3000"],
        ownerId=user_id(as_("rep1")),
        tags=["web", "inbound"],
    )


def post(app, form, *, origin=None, headers=None, **kwargs):
    headers = {**(headers or {}), **({"Origin": origin} if origin else {})}
    return app.post(f"/forms/{form['publicKey']}", headers=headers, **kwargs)


def found(client, search):
    r = client(SEARCH, {"s": search})
    assert r.errors == [], r.errors
    return [e["node"] for e in r.data["contacts"]["edges"]]


def test_admin_creates_a_form(as_, form):
    assert form["name"] == "Website"
    assert form["fields"] == ["firstName", "lastName", "email", "phone", "description"]
    assert form["requiredFields"] == ["lastName", "email"]
    assert form["allowedOrigins"] == [SHOP, "http://localhost:3000"]
    assert form["owner"] == {"email": "rep1@demo.test"}
    assert (form["tags"], form["target"], form["enabled"]) == (["web", "inbound"], "CONTACT", True)
    assert len(form["publicKey"]) >= 32
    assert form["endpoint"] == f"http://127.0.0.1:8000/forms/{form['publicKey']}"
    snippet = form["htmlSnippet"]
    assert f'action="{form["endpoint"]}" method="post"' in snippet
    assert 'name="website_url"' in snippet and "position:absolute;left:-10000px" in snippet
    assert 'name="email" required' in snippet and "<textarea" in snippet
    listed = as_("admin")(WEB_FORMS).data["webForms"]
    assert listed == [{"id": form["id"], "name": "Website", "publicKey": form["publicKey"]}]


def test_json_and_form_encoded_posts_create_private_contacts_for_the_owner(as_, app, form):
    r = post(
        app,
        form,
        json={
            "firstName": "Wendy",
            "lastName": "Webb",
            "email": "wendy@visitor.example",
            "phone": "+34 600 111 222",
            "description": "Call me about pricing",
            "companyName": "ignored: not a field of this form",
        },
    )
    assert (r.status_code, r.json()) == (201, {"ok": True})
    r = post(
        app,
        form,
        data={"firstName": "Frank", "lastName": "Formby", "email": "frank@visitor.example"},
    )
    assert (r.status_code, r.json()) == (201, {"ok": True})

    rep1 = as_("rep1")
    (wendy,) = found(rep1, "wendy@visitor")
    assert sorted(t["name"] for t in wendy.pop("tags")) == ["inbound", "web"]
    assert wendy == {
        "displayName": "Wendy Webb",
        "kind": "PERSON",
        "email": "wendy@visitor.example",
        "phone": "+34 600 111 222",
        "description": "Call me about pricing",
        "access": "PRIVATE",
        "source": "web form: Website",
        "owner": {"email": "rep1@demo.test"},
    }
    assert [c["displayName"] for c in found(rep1, "formby")] == ["Frank Formby"]
    assert {c["displayName"] for c in found(rep1, "inbound")} == {"Wendy Webb", "Frank Formby"}
    # private: rep2 (a peer) and the other tenant do not see them
    assert found(as_("rep2"), "visitor.example") == []
    assert found(as_("admin@acme.test"), "visitor.example") == []

    notes = rep1("{ notifications(unreadOnly: true) { kind title subjectId } }").data[
        "notifications"
    ]
    assert [(n["kind"], n["title"]) for n in notes] == [
        ("contacts.web_form", "New contact from Website: Frank Formby"),
        ("contacts.web_form", "New contact from Website: Wendy Webb"),
    ]
    assert all(n["subjectId"] for n in notes)
    assert as_("rep2")("{ notifications { kind } }").data["notifications"] == []


def test_the_honeypot_answers_like_a_success_and_creates_nothing(as_, app, form):
    body = {"lastName": "Bot", "email": "bot@spam.example", "website_url": "http://spam.example"}
    r = post(app, form, json=body)
    assert (r.status_code, r.json()) == (200, {"ok": True})
    r = post(app, form, data=body)
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert found(as_("admin"), "spam.example") == []
    assert as_("rep1")("{ notifications { kind } }").data["notifications"] == []


def test_cors_allowed_origins_only(as_, app, form):
    body = {"lastName": "Origin", "email": "o@visitor.example"}
    r = post(app, form, origin="https://evil.example", json=body)
    assert r.status_code == 403
    assert "access-control-allow-origin" not in r.headers
    assert found(as_("admin"), "o@visitor") == []

    r = post(app, form, origin=SHOP, json=body)
    assert r.status_code == 201
    assert r.headers["access-control-allow-origin"] == SHOP
    assert r.headers["vary"] == "Origin"
    assert [c["displayName"] for c in found(as_("rep1"), "o@visitor")] == ["Origin"]
    # a validation error is readable by the allowed page too
    r = post(app, form, origin=SHOP, json={"lastName": "No email"})
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == SHOP

    preflight = {"Access-Control-Request-Method": "POST"}
    r = app.options(
        f"/forms/{form['publicKey']}",
        headers={**preflight, "Origin": SHOP, "Access-Control-Request-Headers": "content-type"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == SHOP
    assert r.headers["access-control-allow-methods"] == "POST"
    assert r.headers["access-control-allow-headers"] == "Content-Type"
    assert r.headers["vary"] == "Origin"
    r = app.options(
        f"/forms/{form['publicKey']}", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
    r = app.options("/forms/nope", headers={**preflight, "Origin": SHOP})
    assert (r.status_code, r.json()) == (404, {"error": "not found"})


def test_the_sixth_submission_from_one_address_within_the_window_is_refused(as_, app, form):
    for i in range(5):
        r = post(app, form, json={"lastName": f"Visitor{i}", "email": f"v{i}@visitor.example"})
        assert r.status_code == 201, r.json()
    r = post(app, form, origin=SHOP, json={"lastName": "Sixth", "email": "six@visitor.example"})
    assert (r.status_code, r.json()) == (429, {"error": "too many submissions"})
    assert 0 < int(r.headers["retry-after"]) <= 600
    assert r.headers["access-control-allow-origin"] == SHOP
    assert found(as_("rep1"), "six@visitor") == []
    # another address still may
    other = TestClient(app.app, client=("203.0.113.7", 40000))
    r = post(other, form, json={"lastName": "Other", "email": "other@visitor.example"})
    assert r.status_code == 201


def test_validation_errors_name_the_field_and_create_nothing(as_, app, form):
    addresses = iter(range(1, 100))

    def send(**kwargs):  # each from its own address: refused submissions count too
        visitor = TestClient(app.app, client=(f"198.51.100.{next(addresses)}", 40000))
        return post(visitor, form, **kwargs)

    r = send(json={"firstName": "Nomail", "lastName": "Person"})
    assert (r.status_code, r.json()) == (400, {"error": "email is required", "field": "email"})
    r = send(data={"firstName": "Blank", "lastName": "  ", "email": "b@x.example"})
    assert r.status_code == 400 and r.json()["field"] == "lastName"
    r = send(json={"lastName": "Bad", "email": "not-an-email"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = send(json={"lastName": "Bad", "email": "p@x.example", "phone": "call me"})
    assert r.status_code == 400 and r.json()["field"] == "phone"
    r = send(json={"lastName": "x" * 101, "email": "long@x.example"})
    assert r.status_code == 400 and r.json()["field"] == "lastName"
    r = send(json={"lastName": ["a list"], "email": "l@x.example"})
    assert r.status_code == 400 and r.json()["field"] == "lastName"
    r = send(json=["not", "an", "object"])
    assert r.status_code == 400 and "error" in r.json()
    r = send(content=b"lastName=Plain", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400
    r = send(json={"lastName": "Huge", "email": "h@x.example", "x": "y" * 17000})
    assert r.status_code == 413
    assert found(as_("admin"), "x.example") == []
    assert as_("rep1")("{ notifications { kind } }").data["notifications"] == []
    # the same address, after 5 refused submissions, is rate limited like any other
    for _ in range(5):
        assert post(app, form, json={}).status_code == 400
    assert post(app, form, json={"lastName": "Ok", "email": "ok@x.example"}).status_code == 429


def test_unknown_disabled_or_switched_off_forms_answer_404(as_, app, form):
    body = {"lastName": "Nobody", "email": "n@visitor.example"}
    r = app.post("/forms/not-a-key", json=body)
    assert (r.status_code, r.json()) == (404, {"error": "not found"})

    admin = as_("admin")
    off = admin(UPDATE_FORM, {"id": form["id"], "input": {"enabled": False}})
    assert off.data["updateWebForm"]["webForm"]["enabled"] is False
    assert post(app, form, json=body).status_code == 404
    admin(UPDATE_FORM, {"id": form["id"], "input": {"enabled": True}})
    assert post(app, form, json=body).status_code == 201

    admin('mutation { setModuleEnabled(name: "leads", enabled: false) { changed } }')
    admin('mutation { setModuleEnabled(name: "invoices", enabled: false) { changed } }')
    admin('mutation { setModuleEnabled(name: "calendar", enabled: false) { changed } }')
    admin('mutation { setModuleEnabled(name: "consent", enabled: false) { changed } }')
    r = admin(
        'mutation { setModuleEnabled(name: "contacts", enabled: false) '
        "{ changed errors { code message } } }"
    )
    assert r.data["setModuleEnabled"]["errors"] == [], r.data
    r = post(app, form, json={"lastName": "Later", "email": "l@visitor.example"})
    assert (r.status_code, r.json()) == (404, {"error": "not found"})
    r = app.options(f"/forms/{form['publicKey']}", headers={"Origin": SHOP})
    assert r.status_code == 404
    admin('mutation { setModuleEnabled(name: "contacts", enabled: true) { changed } }')
    assert [c["displayName"] for c in found(admin, "visitor.example")] == ["Nobody"]


def test_only_holders_of_manage_settings_manage_forms(as_, form):
    rep1 = as_("rep1")
    r = rep1(
        CREATE_FORM,
        {"input": {"name": "Mine", "fields": ["lastName"], "ownerId": user_id(rep1)}},
    )
    assert r.codes == ["FORBIDDEN"]
    assert rep1(WEB_FORMS).codes == ["FORBIDDEN"]
    assert rep1(DELETE_FORM, {"id": form["id"]}).codes == ["FORBIDDEN"]
    assert [f["name"] for f in as_("admin")(WEB_FORMS).data["webForms"]] == ["Website"]


def test_tenants_see_and_change_only_their_own_forms(as_, app, form):
    acme = as_("admin@acme.test")
    assert acme(WEB_FORMS).data["webForms"] == []
    r = acme(UPDATE_FORM, {"id": form["id"], "input": {"name": "Stolen"}})
    assert r.data["updateWebForm"]["errors"][0]["code"] == "NOT_FOUND"
    r = acme(DELETE_FORM, {"id": form["id"]})
    assert r.data["deleteWebForm"]["errors"][0]["code"] == "NOT_FOUND"
    # nor give a form to another tenant's user
    r = acme(
        CREATE_FORM,
        {"input": {"name": "Acme", "fields": ["lastName"], "ownerId": user_id(as_("rep1"))}},
    )
    assert r.data["createWebForm"]["errors"] == [
        {
            "code": "BAD_USER_INPUT",
            "message": "no such user in your organisation",
            "field": "ownerId",
        }
    ]
    assert [f["name"] for f in as_("admin")(WEB_FORMS).data["webForms"]] == ["Website"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fields": ["lastName", "favouriteColour"]}, "fields"),
        ({"fields": ["email"]}, "fields"),
        ({"requiredFields": ["city"]}, "requiredFields"),
        ({"allowedOrigins": ["https://shop.example/contact"]}, "allowedOrigins"),
        ({"allowedOrigins": ["shop.example"]}, "allowedOrigins"),
        ({"allowedOrigins": ["ftp://shop.example"]}, "allowedOrigins"),
        ({"name": "  "}, "name"),
        ({"tags": ["x" * 61]}, "tags"),
        ({"ownerId": "assistant"}, "ownerId"),
        ({"ownerId": "not-an-id"}, "ownerId"),
    ],
)
def test_form_input_is_validated(as_, form, change, field):
    admin = as_("admin")
    if change.get("ownerId") == "assistant":
        change = {"ownerId": user_id(as_("assistant"))}
    r = admin(UPDATE_FORM, {"id": form["id"], "input": change})
    assert r.errors == [], r.errors
    (error,) = r.data["updateWebForm"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field), error
    assert admin(WEB_FORMS).data["webForms"][0]["name"] == "Website"  # nothing changed


def test_update_is_partial_and_delete_closes_the_endpoint(as_, app, form):
    admin = as_("admin")
    r = admin(
        UPDATE_FORM,
        {
            "id": form["id"],
            "input": {
                "name": "Shop",
                "allowedOrigins": ["HTTPS://Shop.Example:443", "http://127.0.0.1:8080"],
                "ownerId": user_id(as_("rep2")),
            },
        },
    )
    updated = r.data["updateWebForm"]["webForm"]
    assert updated["allowedOrigins"] == [SHOP, "http://127.0.0.1:8080"]
    assert updated["owner"] == {"email": "rep2@demo.test"}
    assert updated["fields"] == form["fields"] and updated["tags"] == form["tags"]
    assert updated["publicKey"] == form["publicKey"]
    r = post(app, form, json={"lastName": "Shopper", "email": "s@visitor.example"})
    assert r.status_code == 201
    (shopper,) = found(as_("rep2"), "s@visitor")
    assert (shopper["source"], shopper["owner"]) == ("web form: Shop", {"email": "rep2@demo.test"})

    assert admin(DELETE_FORM, {"id": form["id"]}).data["deleteWebForm"] == {
        "ok": True,
        "errors": [],
    }
    assert admin(WEB_FORMS).data["webForms"] == []
    assert post(app, form, json={"lastName": "Late", "email": "late@x.example"}).status_code == 404
    assert len(found(as_("rep2"), "s@visitor")) == 1  # its contacts stay
