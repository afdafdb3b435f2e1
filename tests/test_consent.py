"""The consent module (issue 16) on both engines, with a real SMTP server on loopback:
configurations, each trigger sending exactly one request after its transaction commits,
answers through signed single-use links (a GET shows, a POST decides), expired and reused
links refused, the GDPR block and the refusals every sender asks, the unblock flow,
withdrawal, and the proof ledger and its export."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select, update

from gateway import events, mail
from gateway.context import CallerContext, Via
from gateway.contract import ChangeKind
from gateway.db import utcnow
from gateway.errors import Conflict
from gateway.identity.models import User
from gateway.jobs.models import Job
from plugins.consent.models import ConsentRequest, LedgerEntry
from plugins.contacts.models import Category, ClientKind, Contact
from tests.consent_support import (
    CREATE_CONFIG,
    EXPORT,
    LEDGER,
    RESEND,
    UNBLOCK,
    UPDATE_CONFIG,
    UPDATE_CONTACT,
    answer_path,
    form_token,
    mailing_env,
    post_answer,
    text_of,
    withdraw_path,
)


@pytest.fixture
def env(gateway, demo, smtp_server):
    yield from mailing_env(gateway, smtp_server)


CREATE_TASK = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code } } }"""
UPDATE_TASK = """mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) {
  task { id } errors { code } } }"""


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


def _refusals(gateway, user_email: str, contact_ids: list[int]) -> dict[int, list[str]]:
    with gateway.db.reading() as session:
        user_id = session.scalar(select(User.id).where(User.email == user_email))
    ctx = CallerContext.acting_for(gateway, user_id, via=Via.API)
    try:
        return mail.email_refusals(ctx, "contact", contact_ids)
    finally:
        ctx.close()


# -- configurations -------------------------------------------------------------------------


def test_configurations_are_checked_and_administered_by_managers_only(env):
    admin = env.as_("admin")
    bad = admin(
        CREATE_CONFIG,
        {
            "i": {
                "description": "Bad",
                "appliesTo": ["POTENTIAL"],
                "triggers": ["CLIENT_SAVED"],
                "sender": "privacy@demo.test",
                "subject": "Hello [name]",
                "body": "Dear [name], your [password] please",
            }
        },
    ).data["createConsentConfiguration"]
    assert bad["configuration"] is None
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("BAD_USER_INPUT", "body")]
    assert "[password]" in bad["errors"][0]["message"]
    for field, value in (("sender", "not-an-address"), ("triggers", []), ("appliesTo", [])):
        r = admin(
            CREATE_CONFIG,
            {
                "i": {
                    "description": "Bad",
                    "appliesTo": ["POTENTIAL"],
                    "triggers": ["CLIENT_SAVED"],
                    "sender": "privacy@demo.test",
                    "subject": "s",
                    "body": "b",
                    field: value,
                }
            },
        )
        assert r.data["createConsentConfiguration"]["errors"][0]["field"] == field, r
    config = env.configure()
    again = admin(
        CREATE_CONFIG,
        {
            "i": {
                "description": "Potential companies",
                "appliesTo": ["POTENTIAL"],
                "triggers": ["CLIENT_SAVED"],
                "sender": "privacy@demo.test",
                "subject": "s",
                "body": "b",
            }
        },
    ).data["createConsentConfiguration"]
    assert again["errors"][0]["code"] == "CONFLICT"
    changed = admin(UPDATE_CONFIG, {"id": config, "i": {"subject": "New [name]"}})
    assert changed.data["updateConsentConfiguration"]["configuration"]["version"] == 2
    same = admin(UPDATE_CONFIG, {"id": config, "i": {"enabled": False}})
    assert same.data["updateConsentConfiguration"]["configuration"] == {
        "id": config,
        "enabled": False,
        "version": 2,
    }
    # Reps neither read nor change configurations.
    rep = env.as_("rep1")
    assert rep("{ consentConfigurations { id } }").codes == ["FORBIDDEN"]
    assert rep(UPDATE_CONFIG, {"id": config, "i": {"enabled": True}}).codes == ["FORBIDDEN"]
    listed = admin("{ consentConfigurations { description } consentTemplateFields { name } }")
    assert [c["description"] for c in listed.data["consentConfigurations"]] == [
        "Consent on creating a potential client",  # the demo's, switched off
        "Potential companies",
    ]
    assert {"name", "email", "organization"} <= {
        f["name"] for f in listed.data["consentTemplateFields"]
    }


# -- triggers -------------------------------------------------------------------------------


def test_a_new_client_gets_exactly_one_request_mailed_after_the_commit(env):
    env.configure()
    contact = env.client("Acme <Foods>", "buyer@acme.test")
    assert env.messages == []  # queued with the transaction, mailed by the job
    env.run()
    [message] = env.messages
    assert message["To"] == "buyer@acme.test"
    assert message["Subject"] == "Your consent, Acme <Foods>"
    assert "Dear Acme <Foods>,\nmay Demo" in text_of(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Acme &lt;Foods&gt;" in html and "Acme <Foods>" not in html  # values escaped
    assert ">Accept</a>" in html and ">Decline</a>" in html
    # Later changes of the client do not ask again while the request waits.
    for city in ("Madrid", "Sevilla"):
        r = env.as_("rep1")(UPDATE_CONTACT, {"id": contact, "i": {"city": city}})
        assert r.data["updateContact"]["errors"] == []
    env.run()
    assert len(env.messages) == 1
    [request] = env.consent(contact)["requests"]
    assert request["status"] == "SENT" and request["reason"] == "CLIENT_SAVED"
    assert request["requestedBy"] == {"email": "rep1@demo.test"}
    assert request["subject"] == "Your consent, Acme <Foods>"


def test_clients_the_configuration_does_not_cover_are_not_asked(env):
    env.configure()
    env.client("Billable Ltd", "a@billable.test", category="BILLABLE")
    env.client("Person", "p@person.test", clientKind="INDIVIDUAL")
    env.client("No address")
    env.run()
    assert env.messages == []


def test_a_rolled_back_creation_queues_nothing(env, gateway):
    """The request and its job are written in the triggering transaction: when that rolls
    back (anything failing after the client was saved), nothing is ever mailed."""
    from plugins.contacts.services import ContactData, create_contact

    env.configure()
    with gateway.db.reading() as session:
        rep_id = session.scalar(select(User.id).where(User.email == "rep1@demo.test"))
    ctx = CallerContext.acting_for(env.gateway, rep_id, via=Via.API)
    values = {"kind": "COMPANY", "company_name": "Ghost", "category": Category.POTENTIAL}
    values["client_kind"] = ClientKind.COMPANY
    made: list[int] = []

    def fails_after_saving() -> None:
        with ctx.transaction() as session:
            create_contact(ctx, ContactData(values=values, emails=[("WORK", "g@ghost.test")]))
            made.extend(session.scalars(select(ConsentRequest.id)))  # made, not committed
            raise RuntimeError("a later step fails")

    try:
        with pytest.raises(RuntimeError):
            fails_after_saving()
    finally:
        ctx.close()
    assert len(made) == 1
    env.run()
    assert env.messages == []
    with gateway.db.reading() as session:
        assert session.scalars(select(ConsentRequest)).all() == []
        assert session.scalars(select(Job).where(Job.kind == "consent.send")).all() == []


def test_a_task_and_an_interaction_trigger_one_request_each(env, gateway):
    config = env.configure(triggers=["TASK_SAVED"])
    contact = env.client("Tasked", "t@tasked.test")
    env.run()
    assert env.messages == []  # saving the client is not this configuration's trigger
    rep = env.as_("rep1")
    r = rep(
        CREATE_TASK,
        {"i": {"title": "Call", "deadline": "2030-01-01T09:00:00Z", "contactId": contact}},
    )
    task = r.data["createTask"]["task"]["id"]
    rep(UPDATE_TASK, {"id": task, "i": {"title": "Call again"}})
    env.run()
    assert [m["To"] for m in env.messages] == ["t@tasked.test"]
    # An interaction logged (the calendar's activity history; fired here as its event).
    env.as_("admin")(UPDATE_CONFIG, {"id": config, "i": {"triggers": ["INTERACTION_LOGGED"]}})
    other = env.client("Logged", "l@logged.test")
    with gateway.db.reading() as session:
        rep_id = session.scalar(select(User.id).where(User.email == "rep1@demo.test"))
        tenant_id = session.get(Contact, _pk(other)).tenant_id
    ctx = CallerContext.acting_for(env.gateway, rep_id, via=Via.API)
    interaction = SimpleNamespace(id=1, tenant_id=tenant_id, contact_id=_pk(other))
    try:
        with ctx.transaction():
            events.record_changed(ctx, ChangeKind.CREATED, "interaction", interaction)
            events.record_changed(ctx, ChangeKind.CREATED, "interaction", interaction)
            events.record_changed(ctx, ChangeKind.UPDATED, "interaction", interaction)
    finally:
        ctx.close()
    env.run()
    assert [m["To"] for m in env.messages] == ["t@tasked.test", "l@logged.test"]


def test_switched_off_the_module_asks_nobody(env):
    env.configure()
    admin = env.as_("admin")
    switch = (
        """mutation { setModuleEnabled(name: "consent", enabled: false) { errors { code } } }"""
    )
    assert admin(switch).data["setModuleEnabled"]["errors"] == []
    env.client("Quiet", "q@quiet.test")
    env.run()
    assert env.messages == []
    assert admin("{ consentConfigurations { id } }").codes == ["MODULE_DISABLED"]


# -- links ----------------------------------------------------------------------------------


def test_accept_through_the_link_get_shows_post_decides_once(env):
    env.configure()
    contact = env.client("Acme", "buyer@acme.test")
    env.run()
    path = answer_path(env.messages[0])
    for _ in range(2):  # a mail scanner opening the link decides nothing
        page = env.http.get(path)
        seen = page.text
        assert page.status_code == 200
        assert "Your consent, Acme" in page.text and 'name="answer"' in page.text
        assert page.headers["x-frame-options"] == "DENY"
    assert env.consent(contact)["requests"][0]["status"] == "SENT"
    # A POST without the page's form token (a form forged elsewhere) is refused.
    forged = env.http.post(path, data={"answer": "accept", "form": "0" * 64})
    assert forged.status_code == 400
    done = post_answer(env.http, path, "accept", **{"user-agent": "TestBrowser/1.0"})
    assert done.status_code == 200 and "consent is recorded" in done.text
    consent = env.consent(contact)
    assert consent["requests"][0]["status"] == "ACCEPTED" and consent["blocked"] is None
    # Used: GET and POST now answer 410, and nothing changes.
    assert env.http.get(path).status_code == 410
    again = env.http.post(path, data={"answer": "deny", "form": form_token(seen)})
    assert again.status_code == 410
    assert env.consent(contact)["requests"][0]["status"] == "ACCEPTED"
    assert _refusals(env.gateway, "admin@demo.test", [_pk(contact)]) == {}


def test_reused_link_racing_its_own_answer_is_refused(env):
    env.configure()
    contact = env.client("Race", "r@race.test")
    env.run()
    path = answer_path(env.messages[0])
    page = env.http.get(path).text
    first = env.http.post(path, data={"form": form_token(page), "answer": "deny"})
    second = env.http.post(path, data={"form": form_token(page), "answer": "accept"})
    assert (first.status_code, second.status_code) == (200, 410)
    assert env.consent(contact)["requests"][0]["status"] == "DENIED"


def test_expired_and_forged_links_are_refused(env, gateway):
    env.configure()
    contact = env.client("Late", "late@late.test")
    env.run()
    path = answer_path(env.messages[0])
    kind, request_id, expires, sig = path.rsplit("/", 1)[1].split(".")
    forged = f"/consent/{kind}.{request_id}.{int(expires) + 86400}.{sig}"
    assert env.http.get(forged).status_code == 404
    assert env.http.get(f"/consent/{kind}.{int(request_id) + 1}.{expires}.{sig}").status_code == 404
    assert env.http.get("/consent/garbage").status_code == 404
    page = env.http.get(path).text
    with gateway.db.transaction() as session:
        session.execute(update(ConsentRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert env.http.get(path).status_code == 410
    late = env.http.post(path, data={"form": form_token(page), "answer": "accept"})
    assert late.status_code == 410
    consent = env.consent(contact)
    assert consent["requests"][0]["status"] == "EXPIRED"
    # The next trigger may ask again: a new request, a new mail.
    env.as_("rep1")(UPDATE_CONTACT, {"id": contact, "i": {"city": "Bilbao"}})
    env.run()
    assert len(env.messages) == 2
    assert [r["status"] for r in env.consent(contact)["requests"]] == ["SENT", "EXPIRED"]


# -- block, unblock, withdrawal -------------------------------------------------------------


def test_denial_blocks_mass_email_skips_and_only_an_accepted_unblock_lifts_it(env):
    config = env.configure()
    contact = env.client("Denier", "d@denier.test")
    covered = env.client("Covered", "c@covered.test")
    uncovered = env.client("Billable", "b@billable.test", category="BILLABLE")
    env.run()
    deny_mail = env.mails_to("d@denier.test")[0]
    assert post_answer(env.http, answer_path(deny_mail), "deny").status_code == 200
    consent = env.consent(contact)
    assert consent["blocked"]["reason"] == "DENIED"
    assert consent["requests"][0]["status"] == "DENIED"
    ids = [_pk(contact), _pk(covered), _pk(uncovered)]
    refused = _refusals(env.gateway, "admin@demo.test", ids)
    assert refused == {
        _pk(contact): ["consent: blocked (GDPR): the client declined consent"],
        _pk(covered): ["consent: no consent: the client has not accepted a consent request"],
    }
    # Neither a trigger nor a resend asks a blocked client.
    env.as_("rep1")(UPDATE_CONTACT, {"id": contact, "i": {"city": "Vigo"}})
    target = {"contactId": contact, "configurationId": config}
    resend = env.as_("manager")(RESEND, {"i": target}).data["resendConsentRequest"]
    assert resend["errors"][0]["code"] == "CONFLICT"
    env.run()
    assert len(env.mails_to("d@denier.test")) == 1
    # Unblocking is the administrator's; it mails a new request, the block stays.
    assert env.as_("manager")(UNBLOCK, {"i": target}).codes == ["FORBIDDEN"]
    unblocked = env.as_("admin")(UNBLOCK, {"i": target}).data["unblockConsent"]
    assert unblocked["errors"] == [] and unblocked["request"]["reason"] == "UNBLOCK"
    env.run()
    second = env.mails_to("d@denier.test")[1]
    assert env.consent(contact)["blocked"]["reason"] == "DENIED"
    assert _refusals(env.gateway, "admin@demo.test", [_pk(contact)]) != {}
    # The old link is spent; the new one's acceptance lifts the block.
    assert env.http.get(answer_path(deny_mail)).status_code == 410
    assert post_answer(env.http, answer_path(second), "accept").status_code == 200
    assert env.consent(contact)["blocked"] is None
    assert _refusals(env.gateway, "admin@demo.test", [_pk(contact)]) == {}
    again = env.as_("admin")(UNBLOCK, {"i": target}).data["unblockConsent"]
    assert again["errors"][0]["code"] == "CONFLICT"


def test_withdrawal_link_in_every_later_mail_blocks_the_client(env):
    config = env.configure()
    contact = env.client("Withdrawer", "w@withdrawer.test")
    env.run()
    first = env.messages[0]
    assert withdraw_path(first) is None  # no consent to withdraw yet
    post_answer(env.http, answer_path(first), "accept")
    resent = env.as_("manager")(RESEND, {"i": {"contactId": contact, "configurationId": config}})
    assert resent.data["resendConsentRequest"]["errors"] == []
    env.run()
    later = env.messages[1]
    path = withdraw_path(later)
    assert path is not None
    assert "withdraw" in later.get_body(preferencelist=("html",)).get_content().lower()
    page = env.http.get(path)
    assert page.status_code == 200 and "Withdraw my consent" in page.text
    done = env.http.post(path, data={"form": form_token(page.text), "answer": "withdraw"})
    assert done.status_code == 200 and "withdrawn" in done.text
    consent = env.consent(contact)
    assert consent["blocked"]["reason"] == "WITHDRAWN"
    assert [r["status"] for r in consent["requests"]] == ["SENT", "WITHDRAWN"]
    assert _refusals(env.gateway, "admin@demo.test", [_pk(contact)]) == {
        _pk(contact): ["consent: blocked (GDPR): the client withdrew consent"]
    }
    assert env.http.get(path).status_code == 410  # single use


# -- proof ----------------------------------------------------------------------------------


def test_the_ledger_and_its_exports_match_what_happened(env, gateway):
    env.configure()
    contact = env.client("Proven", "p@proven.test")
    other = env.client("Other", "o@other.test")
    env.run()
    post_answer(
        env.http, answer_path(env.mails_to("p@proven.test")[0]), "accept", **{"user-agent": "UA/2"}
    )
    entries = env.as_("admin")(LEDGER, {"c": contact}).data["consentLedger"]
    assert [(e["event"], e["channel"]) for e in entries] == [
        ("REQUESTED", "SYSTEM"),
        ("SENT", "EMAIL"),
        ("ACCEPTED", "LINK"),
    ]
    accepted = entries[2]
    assert accepted["ipAddress"] == "testclient" and accepted["userAgent"] == "UA/2"
    assert entries[0]["actor"] == "rep1@demo.test"
    assert len({e["textSha256"] for e in entries}) == 1
    assert len(entries[0]["textSha256"]) == 64 and entries[0]["templateVersion"] == 1
    # CSV of one client: the same entries, in order.
    csv_export = env.as_("admin")(EXPORT, {"c": contact, "fmt": "CSV"}).data["exportConsentLedger"]
    assert csv_export["mimeType"] == "text/csv"
    text = base64.b64decode(csv_export["contentBase64"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["Event"], r["Client"], r["User agent"]) for r in rows] == [
        ("REQUESTED", "Proven", ""),
        ("SENT", "Proven", ""),
        ("ACCEPTED", "Proven", "UA/2"),
    ]
    # XLSX of a period: both clients' entries inside it, none outside.
    now = utcnow()
    period = {
        "f": (now - timedelta(hours=1)).isoformat(),
        "t": (now + timedelta(hours=1)).isoformat(),
        "fmt": "XLSX",
    }
    xlsx = env.as_("admin")(EXPORT, period).data["exportConsentLedger"]
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["contentBase64"])))
    sheet = book["Consent ledger"]
    events_by_client = [(row[3], row[4]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(events_by_client) == sorted(
        [
            ("Proven", "REQUESTED"),
            ("Proven", "SENT"),
            ("Proven", "ACCEPTED"),
            ("Other", "REQUESTED"),
            ("Other", "SENT"),
        ]
    )
    past = {**period, "t": (now - timedelta(minutes=59)).isoformat()}
    empty = env.as_("admin")(EXPORT, past).data["exportConsentLedger"]
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(empty["contentBase64"])))
    assert book["Consent ledger"].max_row == 1
    bad = env.as_("admin")(EXPORT, {**period, "t": period["f"], "f": period["t"]})
    assert bad.codes == ["BAD_USER_INPUT"]
    assert other  # (its entries are in the period export above)


def test_ledger_entries_cannot_be_changed_or_deleted(env, gateway):
    env.configure()
    env.client("Fixed", "f@fixed.test")
    with gateway.db.transaction() as session:
        entry = session.scalars(select(LedgerEntry)).first()
        entry.detail = "rewritten"
        with pytest.raises(Conflict):
            session.flush()
        session.rollback()
    with gateway.db.transaction() as session:
        entry = session.scalars(select(LedgerEntry)).first()
        session.delete(entry)
        with pytest.raises(Conflict):
            session.flush()
        session.rollback()
    schema = env.as_("admin")("{ __schema { mutationType { fields { name } } } }")
    names = {f["name"] for f in schema.data["__schema"]["mutationType"]["fields"]}
    assert not {n for n in names if "Ledger" in n or ("Consent" in n and "delete" in n.lower())}


# -- access ---------------------------------------------------------------------------------


def test_consent_data_follows_the_clients_access(env):
    config = env.configure()
    mine = env.client("Rita's", "r@rita.test", who="rep1")
    env.run()
    rep2 = env.as_("rep2")
    assert rep2(
        "query($c: ID!) { clientConsent(contactId: $c) { contactId } }", {"c": mine}
    ).data == {"clientConsent": None}
    assert rep2(LEDGER, {"c": mine}).data["consentLedger"] == []
    assert rep2(LEDGER, {}).data["consentLedger"] == []
    exported = rep2(EXPORT, {"fmt": "CSV"}).data["exportConsentLedger"]
    assert base64.b64decode(exported["contentBase64"]).decode("utf-8-sig").count("\n") == 1
    # The manager above rep1 sees it; sending needs consent.send, which reps lack.
    assert env.consent(mine, who="manager")["requests"][0]["recipient"] == "r@rita.test"
    target = {"i": {"contactId": mine, "configurationId": config}}
    assert rep2(RESEND, target).codes == ["FORBIDDEN"]
    hidden = env.as_("backoffice")  # structural: sees every client
    assert env.consent(mine, who="backoffice")["contactId"] == mine
    other_tenant = env.as_("admin@acme.test")
    assert other_tenant(
        "query($c: ID!) { clientConsent(contactId: $c) { contactId } }", {"c": mine}
    ).data == {"clientConsent": None}
    r = other_tenant(RESEND, target).data["resendConsentRequest"]
    assert r["errors"] == [
        {"code": "NOT_FOUND", "field": "contactId", "message": "no such contact"}
    ]
    assert hidden


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def _upload(client, data: bytes, name: str, content_type: str) -> str:
    headers = {"X-CRM-Upload": "1", "Content-Type": content_type, **client.headers()}
    r = client.http.post("/files", params={"name": name}, content=data, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


def test_the_request_embeds_the_configured_image(env):
    admin = env.as_("admin")
    text_file = _upload(admin, b"not an image", "a.txt", "text/plain")
    config = env.configure()
    bad = admin(UPDATE_CONFIG, {"id": config, "i": {"imageFileId": text_file}})
    assert bad.data["updateConsentConfiguration"]["errors"][0]["field"] == "imageFileId"
    image = _upload(admin, PNG, "logo.png", "image/png")
    done = admin(UPDATE_CONFIG, {"id": config, "i": {"imageFileId": image}})
    assert done.data["updateConsentConfiguration"]["configuration"]["version"] == 2
    env.client("Pictured", "pic@pictured.test")
    env.run()
    [message] = env.messages
    html_part = message.get_body(preferencelist=("html",))
    [picture] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert picture.get_content() == PNG
    assert f'src="cid:{picture["Content-ID"][1:-1]}"' in html_part.get_content()


def test_contact_consent_nested_costs_two_statements_per_page(env, sql_log):
    env.configure()
    for i in range(4):
        env.client(f"Nested {i}", f"n{i}@nested.test")
    env.run()
    query = """{ contacts(first: 50) { edges { node { id consent {
      blocked { reason } requests { status recipient } } } } } }"""
    with sql_log:
        r = env.as_("manager")(query)
    assert r.errors == [], r
    nodes = [e["node"] for e in r.data["contacts"]["edges"]]
    asked = [n for n in nodes if n["consent"]["requests"]]
    assert sorted(n["consent"]["requests"][0]["recipient"] for n in asked) == [
        f"n{i}@nested.test" for i in range(4)
    ]
    assert len(sql_log.touching("consent_requests")) == 1
    assert len(sql_log.touching("consent_blocks")) == 1
    refused = env.as_("assistant")(query)  # no consent.review: refused before execution
    assert refused.codes == ["FORBIDDEN"] and "Contact.consent" in refused.errors[0]["message"]
    assert not refused.data
    seen_by_rep2 = env.as_("rep2")(query).data["contacts"]["edges"]
    assert not [e for e in seen_by_rep2 if e["node"]["consent"]["requests"]]


def test_mass_email_carries_the_withdraw_link_and_skips_the_blocked(env):
    """K4/K5 end to end: a client who accepted gets the mass email with a link to withdraw
    (GDPR Art. 7(3)); one who denied is skipped and reported, never silently dropped."""
    env.configure()
    accepted = env.client("Accepter", "a@accepter.test")
    denied = env.client("Denier Two", "d2@denier.test")
    env.run()
    post_answer(env.http, answer_path(env.mails_to("a@accepter.test")[0]), "accept")
    post_answer(env.http, answer_path(env.mails_to("d2@denier.test")[0]), "deny")
    rep1 = env.as_("rep1")
    draft = {
        "audience": "CONTACTS",
        "subject": "News for [name]",
        "body": "Hello [name], our autumn news.",
        "recipientIds": [accepted, denied],
    }
    made = rep1(
        "mutation($i: MailingInput!) { createMailing(input: $i) { mailing { id } errors { code } } }",
        {"i": draft},
    ).data["createMailing"]
    assert made["errors"] == []
    sent = rep1(
        "mutation($id: ID!) { sendMailing(id: $id) { errors { code } } }",
        {"id": made["mailing"]["id"]},
    )
    assert sent.data["sendMailing"]["errors"] == []
    env.run()
    [news] = [m for m in env.mails_to("a@accepter.test") if m["Subject"] == "News for Accepter"]
    assert withdraw_path(news) is not None
    assert not [m for m in env.mails_to("d2@denier.test") if m["Subject"].startswith("News")]
    report = rep1(
        "query($id: ID!) { mailing(id: $id) { recipients { status reason detail } } }",
        {"id": made["mailing"]["id"]},
    ).data["mailing"]["recipients"]
    skipped = [r for r in report if r["status"] == "SKIPPED"]
    assert len(skipped) == 1 and skipped[0]["reason"] == "REFUSED"
    assert "declined consent" in skipped[0]["detail"]


CREATE_LEAD = """mutation($i: CreateLeadInput!) { createLead(input: $i) {
  lead { id } errors { code field } } }"""
CREATE_MAILING = """mutation($i: MailingInput!) { createMailing(input: $i) {
  mailing { id } errors { code field } } }"""
SEND_MAILING = "mutation($id: ID!) { sendMailing(id: $id) { errors { code } } }"
MAILING_REPORT = """query($id: ID!) { mailing(id: $id) {
  recipients { position status reason detail } } }"""


def test_leads_are_judged_by_the_blocks_and_answers_of_their_address(env):
    """A lead whose address a blocked client holds — even one the sender may not see — or
    whose last recorded answer is a denial is refused; a later acceptance clears it. Mass
    email to leads skips and reports them."""
    config = env.configure()
    denier = env.client("Denier", "d@denier.test")
    env.client("Hidden", "h@hidden.test", who="rep2")  # rep1 may not see it
    turned = env.client("Turned", "t@turned.test")
    env.run()
    for address in ("d@denier.test", "h@hidden.test", "t@turned.test"):
        assert post_answer(env.http, answer_path(env.mails_to(address)[0]), "deny").status_code
    target = {"contactId": turned, "configurationId": config}
    assert env.as_("admin")(UNBLOCK, {"i": target}).data["unblockConsent"]["errors"] == []
    env.run()
    assert post_answer(env.http, answer_path(env.mails_to("t@turned.test")[1]), "accept")
    assert env.consent(turned)["blocked"] is None and env.consent(denier)["blocked"]
    rep1 = env.as_("rep1")
    leads = []
    for name, email in (
        ("Dee", "D@Denier.TEST"),
        ("Hid", "h@hidden.test"),
        ("Tur", "t@turned.test"),
        ("New", "new@fresh.test"),
    ):
        made = rep1(CREATE_LEAD, {"i": {"name": name, "email": email}}).data["createLead"]
        assert made["errors"] == [], made
        leads.append(made["lead"]["id"])
    refused = _lead_refusals(env.gateway, "rep1@demo.test", [_pk(lead) for lead in leads])
    assert refused == {
        _pk(leads[0]): [
            "consent: blocked (GDPR): this address belongs to a client blocked for email"
        ],
        _pk(leads[1]): [
            "consent: blocked (GDPR): this address belongs to a client blocked for email"
        ],
    }
    draft = {"audience": "LEADS", "subject": "Hi [name]", "body": "News.", "recipientIds": leads}
    mailing = rep1(CREATE_MAILING, {"i": draft}).data["createMailing"]
    assert mailing["errors"] == []
    assert rep1(SEND_MAILING, {"id": mailing["mailing"]["id"]}).data["sendMailing"]["errors"] == []
    env.run()
    report = rep1(MAILING_REPORT, {"id": mailing["mailing"]["id"]}).data["mailing"]["recipients"]
    assert [(r["status"], r["reason"]) for r in report] == [
        ("SKIPPED", "REFUSED"),
        ("SKIPPED", "REFUSED"),
        ("SENT", None),
        ("SENT", None),
    ]
    assert "Hidden" not in report[1]["detail"]
    news = [m["To"] for m in env.messages if m["Subject"].startswith("Hi ")]
    assert sorted(news) == ["new@fresh.test", "t@turned.test"]


def test_a_lead_whose_address_denied_is_refused_after_the_client_changed_it(env):
    """The ledger's answers count even when no client holds the address any more."""
    env.configure()
    moved = env.client("Moved", "old@moved.test")
    env.run()
    post_answer(env.http, answer_path(env.mails_to("old@moved.test")[0]), "deny")
    changed = env.as_("rep1")(UPDATE_CONTACT, {"id": moved, "i": {"email": "new@moved.test"}})
    assert changed.data["updateContact"]["errors"] == []
    lead = env.as_("rep1")(CREATE_LEAD, {"i": {"name": "Old", "email": "old@moved.test"}})
    lead_id = _pk(lead.data["createLead"]["lead"]["id"])
    assert _lead_refusals(env.gateway, "rep1@demo.test", [lead_id]) == {
        lead_id: ["consent: blocked (GDPR): this address declined consent"]
    }


def _lead_refusals(gateway, user_email: str, lead_ids: list[int]) -> dict[int, list[str]]:
    with gateway.db.reading() as session:
        user_id = session.scalar(select(User.id).where(User.email == user_email))
    ctx = CallerContext.acting_for(gateway, user_id, via=Via.API)
    try:
        return mail.email_refusals(ctx, "lead", lead_ids)
    finally:
        ctx.close()


def test_the_exported_proof_tells_the_whole_story_in_order(env, gateway):
    """Request, denial, unblock, acceptance, a resend replacing a waiting request, withdrawal
    and expiry: the CSV export lists exactly these facts, in order, with their channels,
    actors, IP addresses and user agents, and one text hash per request."""
    from gateway.jobs.runner import run_due

    config = env.configure(linkValidDays=3)
    contact = env.client("Storied", "s@storied.test")
    env.run()
    first = env.mails_to("s@storied.test")[0]
    post_answer(env.http, answer_path(first), "deny", **{"user-agent": "UA/deny"})
    target = {"contactId": contact, "configurationId": config}
    assert env.as_("admin")(UNBLOCK, {"i": target}).data["unblockConsent"]["errors"] == []
    env.run()
    second = env.mails_to("s@storied.test")[1]
    post_answer(env.http, answer_path(second), "accept", **{"user-agent": "UA/accept"})
    resend = env.as_("manager")(RESEND, {"i": target}).data["resendConsentRequest"]
    assert resend["errors"] == []
    env.run()
    third = env.mails_to("s@storied.test")[2]
    again = env.as_("manager")(RESEND, {"i": target}).data["resendConsentRequest"]
    assert again["errors"] == []  # replaces the third, unanswered
    env.run()
    fourth = env.mails_to("s@storied.test")[3]
    assert env.http.get(answer_path(third)).status_code == 404  # its nonce is gone
    page = env.http.get(withdraw_path(fourth))
    env.http.post(
        withdraw_path(fourth),
        data={"form": form_token(page.text), "answer": "withdraw"},
        headers={"user-agent": "UA/withdraw"},
    )
    run_due(env.gateway, utcnow() + timedelta(days=4))  # the fourth request's links run out
    exported = env.as_("admin")(EXPORT, {"c": contact, "fmt": "CSV"}).data["exportConsentLedger"]
    text = base64.b64decode(exported["contentBase64"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    story = [(r["Event"], r["Channel"], r["Asked by"], r["User agent"]) for r in rows]
    assert story == [
        ("REQUESTED", "SYSTEM", "rep1@demo.test", ""),
        ("SENT", "EMAIL", "", ""),
        ("DENIED", "LINK", "", "UA/deny"),
        ("REQUESTED", "API", "admin@demo.test", ""),
        ("UNBLOCK_REQUESTED", "API", "admin@demo.test", ""),
        ("SENT", "EMAIL", "", ""),
        ("ACCEPTED", "LINK", "", "UA/accept"),
        ("BLOCK_LIFTED", "LINK", "", "UA/accept"),
        ("REQUESTED", "API", "manager@demo.test", ""),
        ("SENT", "EMAIL", "", ""),
        ("EXPIRED", "API", "manager@demo.test", ""),
        ("REQUESTED", "API", "manager@demo.test", ""),
        ("SENT", "EMAIL", "", ""),
        ("WITHDRAWN", "LINK", "", "UA/withdraw"),
        ("EXPIRED", "SYSTEM", "", ""),
    ]
    assert {r["IP address"] for r in rows if r["Channel"] == "LINK"} == {"testclient"}
    requests = {}
    for r in rows:
        requests.setdefault(r["Request"], set()).add(r["Text SHA-256"])
    assert len(requests) == 4 and all(len(h) == 1 for h in requests.values())
    # What the ledger says matches the requests' state.
    consent = env.consent(contact)
    assert consent["blocked"]["reason"] == "WITHDRAWN"
    assert [r["status"] for r in consent["requests"]] == [
        "EXPIRED",
        "EXPIRED",
        "WITHDRAWN",
        "DENIED",
    ]
