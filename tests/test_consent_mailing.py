"""Mass email (MISSION R3, K5) over HTTP as the demo users, with a real SMTP server on
loopback (aiosmtpd): placeholders, the 100-recipient limit, skipped recipients reported
with their reasons (the audit test plugin refuses contacts named "Nomail…"), record access
and field rules, files of recipients, and a retried send that never sends twice."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import replace

import openpyxl
import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.graphql.common import global_id
from gateway.jobs import Job, JobStatus, run_pending
from gateway.testing import GraphQLClient
from plugins.consent.mailing.models import MailingRecipient, RecipientStatus

SEND_KIND = "consent.send_mailing"
PREVIEW = """query($i: MailingInput!) { mailingPreview(input: $i) {
  counts { total pending skipped }
  recipients { position row given status reason detail recipient { id } }
  sample { subject text html } } }"""
CREATE = """mutation($i: MailingInput!) { createMailing(input: $i) {
  mailing { id status counts { total pending skipped } recipients { position row given status reason detail } }
  errors { code message field } } }"""
SEND = """mutation($id: ID!) { sendMailing(id: $id) {
  mailing { id status jobId } errors { code message field } } }"""
MAILING = """query($id: ID!) { mailing(id: $id) { id status subject sentAt createdBy { email }
  counts { total pending sending sent skipped failed }
  recipients { position row given status reason detail sentAt recipient { id ... on Contact { displayName } } } } }"""
CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  contact { id } errors { code message } } }"""
SWITCH = """mutation($n: String!, $e: Boolean!) { setModuleEnabled(name: $n, enabled: $e) {
  errors { code } } }"""


@pytest.fixture
def mail(gateway, demo, smtp_server, monkeypatch):
    """The gateway with SMTP on the loopback server and progress written at every step;
    the send kind retries at once (its real backoff is a minute)."""
    settings = replace(
        gateway.settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        job_progress_seconds=0.0,
    )
    gw = Gateway(settings=settings, db=gateway.db, registry=gateway.registry)
    kind = gateway.registry.job_kinds[SEND_KIND]
    monkeypatch.setitem(
        gateway.registry.job_kinds, SEND_KIND, dataclasses.replace(kind, backoff_seconds=0)
    )
    with TestClient(create_app(gw)) as http:
        clients: dict[str, GraphQLClient] = {}

        def as_(name: str) -> GraphQLClient:
            if name not in clients:
                clients[name] = GraphQLClient(http).login(f"{name}@demo.test")
            return clients[name]

        yield gw, as_, smtp_server


def contact(client, **fields) -> str:
    values = {"kind": "PERSON", **fields}
    r = client(CONTACT, {"i": values})
    assert r.errors == [] and r.data["createContact"]["errors"] == [], r.body
    return r.data["createContact"]["contact"]["id"]


def draft(
    ids=(), subject="Hello [name]", body="Dear [first_name],\n\nNews for [company].", **extra
):
    return {
        "audience": "CONTACTS",
        "subject": subject,
        "body": body,
        "recipientIds": list(ids),
        **extra,
    }


def created(client, **kwargs) -> dict:
    r = client(CREATE, {"i": draft(**kwargs)})
    assert r.errors == [] and r.data["createMailing"]["errors"] == [], r.body
    return r.data["createMailing"]["mailing"]


def send(gw, client, mailing_id) -> dict:
    r = client(SEND, {"id": mailing_id})
    assert r.errors == [] and r.data["sendMailing"]["errors"] == [], r.body
    run_pending(gw)
    found = client(MAILING, {"id": mailing_id})
    assert found.errors == [], found.errors
    return found.data["mailing"]


def parts(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_placeholders_are_declared_and_unknown_ones_refused(mail):
    _gw, as_, _inbox = mail
    rep1 = as_("rep1")
    listed = rep1("{ mailingPlaceholders(audience: CONTACTS) { key label available } }")
    assert [p["key"] for p in listed.data["mailingPlaceholders"]] == [
        "name",
        "first_name",
        "last_name",
        "company",
        "email",
        "city",
    ]
    assert all(p["available"] for p in listed.data["mailingPlaceholders"])
    ana = contact(rep1, firstName="Ana", email="ana@example.test")
    for variables, field in (
        (draft([ana], body="Hi [nickname]"), "body"),
        (draft([ana], subject="[Name] and [shoe_size]"), "subject"),
        (draft([ana], subject=" "), "subject"),
    ):
        r = rep1(CREATE, {"i": variables})
        [error] = r.data["createMailing"]["errors"]
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field), error
        preview = rep1(PREVIEW, {"i": variables})
        assert preview.codes == ["BAD_USER_INPUT"]
    assert (
        "[nickname]"
        in rep1(CREATE, {"i": draft([ana], body="Hi [nickname]")}).data["createMailing"]["errors"][
            0
        ]["message"]
    )
    # other bracketed text is left as written; keys are case-insensitive
    fine = rep1(PREVIEW, {"i": draft([ana], subject="[NAME] [1] [see below]")})
    assert fine.errors == []
    assert fine.data["mailingPreview"]["sample"]["subject"] == "Ana [1] [see below]"
    assert rep1("{ mailings { totalCount } }").data["mailings"]["totalCount"] == 0


def test_sends_one_personalised_message_per_recipient_and_reports_the_skipped(mail, sql_log):
    gw, as_, inbox = mail
    rep1, rep2, admin = as_("rep1"), as_("rep2"), as_("admin")
    assert admin(SWITCH, {"n": "audit", "e": True}).data["setModuleEnabled"]["errors"] == []
    ana = contact(
        rep1,
        firstName="Ana",
        lastName="<b>Bold</b>",
        companyName="Tom & Jerry [email]",
        email="ana@example.test",
    )
    bea = contact(rep1, firstName="Bea", email="bea@example.test")
    nomail = contact(rep1, kind="COMPANY", companyName="Nomail Ltd", email="no@example.test")
    silent = contact(rep1, firstName="Sil")
    broken = contact(rep1, firstName="Bro", email="bro@example..test")
    hidden = contact(rep2, firstName="Rob's", email="robs@example.test")
    ids = [ana, bea, nomail, silent, broken, hidden, ana]

    preview = rep1(PREVIEW, {"i": draft(ids)})
    assert preview.errors == [], preview.errors
    shown = preview.data["mailingPreview"]
    assert [(r["status"], r["reason"]) for r in shown["recipients"]] == [
        ("PENDING", None),
        ("PENDING", None),
        ("SKIPPED", "REFUSED"),
        ("SKIPPED", "NO_EMAIL"),
        ("SKIPPED", "INVALID_ADDRESS"),
        ("SKIPPED", "NOT_FOUND"),
        ("SKIPPED", "DUPLICATE"),
    ]
    assert shown["recipients"][2]["detail"] == "audit: contacts named Nomail… are never emailed"
    assert shown["recipients"][5]["recipient"] is None  # nothing about rep2's contact
    assert shown["counts"] == {"total": 7, "pending": 2, "skipped": 5}
    sample = shown["sample"]
    assert sample["subject"] == "Hello Ana <b>Bold</b>"
    assert "News for Tom & Jerry [email]." in sample["text"]
    assert "Tom &amp; Jerry [email]" in sample["html"] and "<b>" not in sample["html"]
    assert inbox.messages == [], "a preview sends nothing"

    mailing = created(rep1, ids=ids)
    assert mailing["status"] == "DRAFT"
    assert mailing["counts"] == {"total": 7, "pending": 2, "skipped": 5}
    assert inbox.messages == []
    done = send(gw, rep1, mailing["id"])
    assert done["status"] == "SENT" and done["sentAt"]
    assert done["counts"] == {
        "total": 7,
        "pending": 0,
        "sending": 0,
        "sent": 2,
        "skipped": 5,
        "failed": 0,
    }
    assert [r["status"] for r in done["recipients"]] == ["SENT", "SENT"] + ["SKIPPED"] * 5
    assert done["recipients"][0]["recipient"]["displayName"] == "Ana <b>Bold</b>"
    assert done["recipients"][5]["recipient"] is None

    by_to = {m["To"]: m for m in inbox.messages}
    assert sorted(by_to) == ["ana@example.test", "bea@example.test"]
    message = by_to["ana@example.test"]
    assert message["Subject"] == "Hello Ana <b>Bold</b>"
    assert message["Reply-To"] == "rep1@demo.test"
    text, html = parts(message)
    assert text.startswith("Dear Ana,\n\nNews for Tom & Jerry [email].")
    assert "&lt;b&gt;" not in html and "<p>News for Tom &amp; Jerry [email].</p>" in html
    assert parts(by_to["bea@example.test"])[0].startswith("Dear Bea,")

    with gw.db.reading() as s:
        job = s.scalars(select(Job).where(Job.kind == SEND_KIND)).one()
        assert job.status == JobStatus.SUCCEEDED
        assert job.result["counts"] == {
            "pending": 0,
            "sending": 0,
            "sent": 2,
            "skipped": 5,
            "failed": 0,
        }
    # the job's own report lists every recipient not sent, with the reason
    report = rep1(
        "query($id: ID!) { job(id: $id) { errors { code message row column } } }",
        {"id": global_id("Job", job.id)},
    ).data["job"]["errors"]
    assert [(e["code"], e["row"], e["column"]) for e in report] == [
        ("REFUSED", 3, "recipientIds"),
        ("NO_EMAIL", 4, "recipientIds"),
        ("INVALID_ADDRESS", 5, "recipientIds"),
        ("NOT_FOUND", 6, "recipientIds"),
        ("DUPLICATE", 7, "recipientIds"),
    ]
    assert report[0]["message"] == f"{nomail}: audit: contacts named Nomail… are never emailed"
    again = rep1(SEND, {"id": mailing["id"]}).data["sendMailing"]["errors"]
    assert [e["code"] for e in again] == ["CONFLICT"]
    notes = rep1("{ notifications { kind title } }").data["notifications"]
    assert {"kind": "job.succeeded", "title": "Mass email finished"} in notes


def test_more_than_100_recipients_is_refused_and_nothing_is_saved(mail):
    gw, as_, inbox = mail
    rep1 = as_("rep1")
    ana = contact(rep1, firstName="Ana", email="ana@example.test")
    r = rep1(CREATE, {"i": draft([ana] * 101)})
    [error] = r.data["createMailing"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "recipientIds")
    assert "100" in error["message"]
    assert rep1(PREVIEW, {"i": draft([ana] * 101)}).codes == ["BAD_USER_INPUT"]
    # the ids and the file's rows count together
    csv = ("Email\n" + "".join(f"x{n}@example.test\n" for n in range(100))).encode()
    file_id = upload(rep1, csv)
    r = rep1(CREATE, {"i": draft([ana], fileId=file_id)})
    [error] = r.data["createMailing"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "fileId")
    assert rep1("{ mailings { totalCount } }").data["mailings"]["totalCount"] == 0
    # exactly 100 is fine
    assert created(rep1, ids=[ana] * 100)["counts"]["total"] == 100
    run_pending(gw)
    assert inbox.messages == []


def upload(client, data: bytes, name="recipients.csv") -> str:
    headers = {"X-CRM-Upload": "1", "Content-Type": "text/csv", **client.headers()}
    r = client.http.post("/files", params={"name": name}, content=data, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_recipients_from_a_file_of_addresses_or_ids(mail):
    gw, as_, inbox = mail
    rep1, rep2 = as_("rep1"), as_("rep2")
    ana = contact(
        rep1,
        firstName="Ana",
        emails=[{"address": "first@example.test"}, {"address": "Ana@Example.test"}],
    )
    bea = contact(rep1, firstName="Bea", email="bea@example.test")
    contact(rep2, firstName="Rob's", email="robs@example.test")  # private to rep2
    csv = b"Name;E-mail\nAna;ana@example.test\nX;nobody@example.test\n\nRob;robs@example.test\n"
    mailing = created(rep1, fileId=upload(rep1, csv), body="Hi [first_name] at [email]")
    assert [(r["given"], r["status"], r["reason"]) for r in mailing["recipients"]] == [
        ("ana@example.test", "PENDING", None),
        ("nobody@example.test", "SKIPPED", "NOT_FOUND"),
        ("robs@example.test", "SKIPPED", "NOT_FOUND"),  # not visible: same as unknown
    ]
    assert send(gw, rep1, mailing["id"])["counts"]["sent"] == 1
    # matched by its second address: sent there, as the contact stores it
    assert [m["To"] for m in inbox.messages] == ["Ana@Example.test"]
    assert parts(inbox.messages[0])[0].startswith("Hi Ana at Ana@Example.test")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Note"])
    sheet.append([bea, "by id"])
    sheet.append(["not-an-id", "bad"])
    sheet.append([ana, "twice: by the id list too"])
    data = io.BytesIO()
    book.save(data)
    headers = {"X-CRM-Upload": "1", "Content-Type": "application/octet-stream", **rep1.headers()}
    r = rep1.http.post(
        "/files", params={"name": "ids.xlsx"}, content=data.getvalue(), headers=headers
    )
    assert r.status_code == 201, r.text
    mixed = created(rep1, ids=[ana], fileId=r.json()["id"])
    assert [(r["position"], r["row"], r["status"], r["reason"]) for r in mixed["recipients"]] == [
        (1, None, "PENDING", None),
        (2, 2, "PENDING", None),
        (3, 3, "SKIPPED", "NOT_FOUND"),
        (4, 4, "SKIPPED", "DUPLICATE"),
    ]
    done = send(gw, rep1, mixed["id"])
    assert done["counts"]["sent"] == 2
    assert sorted(m["To"] for m in inbox.messages[1:]) == [
        "bea@example.test",
        "first@example.test",  # by ID: the first address
    ]
    # a file without an address or ID column, and another user's file
    bad = rep1(CREATE, {"i": draft(fileId=upload(rep1, b"Name\nAna\n"))})
    assert bad.data["createMailing"]["errors"][0]["field"] == "fileId"
    theirs = rep1(CREATE, {"i": draft(fileId=upload(rep2, csv))})
    assert [e["code"] for e in theirs.data["createMailing"]["errors"]] == ["NOT_FOUND"]


def test_a_rep_cannot_mail_another_reps_private_contact(mail):
    gw, as_, inbox = mail
    rep1, rep2, manager, admin = as_("rep1"), as_("rep2"), as_("manager"), as_("admin")
    theirs = contact(rep2, firstName="Rob's", email="robs@example.test")
    mine = contact(rep1, firstName="Ana", email="ana@example.test", access="PUBLIC_READ")
    mailing = created(rep1, ids=[theirs, mine])
    assert [r["reason"] for r in mailing["recipients"]] == ["NOT_FOUND", None]
    # the manager sees both: the same request sends to both
    by_manager = created(manager, ids=[theirs, mine])
    assert [r["status"] for r in by_manager["recipients"]] == ["PENDING", "PENDING"]
    # a mailing is its author's: others get null / NOT_FOUND; administrators see it
    assert rep2(MAILING, {"id": mailing["id"]}).data["mailing"] is None
    refused = rep2(SEND, {"id": mailing["id"]}).data["sendMailing"]["errors"]
    assert [e["code"] for e in refused] == ["NOT_FOUND"]
    assert rep2("{ mailings { totalCount } }").data["mailings"]["totalCount"] == 0
    assert admin(MAILING, {"id": mailing["id"]}).data["mailing"]["createdBy"] == {
        "email": "rep1@demo.test"
    }
    assert [
        e["code"] for e in admin(SEND, {"id": mailing["id"]}).data["sendMailing"]["errors"]
    ] == ["NOT_FOUND"]
    # visibility is decided again when the job runs: rep1's public contact seen by rep2
    draft_by_rep2 = created(rep2, ids=[mine, theirs])
    assert [r["status"] for r in draft_by_rep2["recipients"]] == ["PENDING", "PENDING"]
    r = rep1(
        """mutation($id: ID!) { updateContact(id: $id, input: {access: PRIVATE}) {
        errors { code } } }""",
        {"id": mine},
    )
    assert r.data["updateContact"]["errors"] == []
    done = send(gw, rep2, draft_by_rep2["id"])
    assert [(r["status"], r["reason"]) for r in done["recipients"]] == [
        ("SKIPPED", "NOT_FOUND"),
        ("SENT", None),
    ]
    assert [m["To"] for m in inbox.messages] == ["robs@example.test"]
    # an assistant lacks the permission
    assistant = as_("assistant")
    assert assistant(CREATE, {"i": draft([mine])}).codes == ["FORBIDDEN"]


def hide_for_reps(admin, type_name: str, field: str) -> None:
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!, $t: String!, $f: String!) { updateProfile(id: $id, input: {
        fieldRules: [{typeName: $t, fieldName: $f, mode: HIDDEN}]}) { errors { code } } }""",
        {"id": rep_profile, "t": type_name, "f": field},
    )
    assert r.data["updateProfile"]["errors"] == [], r.body


def test_a_placeholder_whose_field_is_hidden_is_refused(mail):
    gw, as_, inbox = mail
    rep1, admin = as_("rep1"), as_("admin")
    ana = contact(rep1, firstName="Ana", email="ana@example.test", city="Lugo")
    queued = created(rep1, ids=[ana], body="Write to [email] in [city]")
    hide_for_reps(admin, "Contact", "email")
    rep1 = as_("rep1")
    listed = rep1("{ mailingPlaceholders(audience: CONTACTS) { key available } }")
    available = {p["key"]: p["available"] for p in listed.data["mailingPlaceholders"]}
    assert available["email"] is False and available["city"] is True
    r = rep1(CREATE, {"i": draft([ana], body="Your address: [email]")})
    [error] = r.data["createMailing"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "body")
    assert "Contact.email" in error["message"]
    # the address is still used to send, never shown: matching a file by it is refused
    file_id = upload(rep1, b"Email\nana@example.test\n")
    r = rep1(CREATE, {"i": draft(fileId=file_id)})
    assert r.data["createMailing"]["errors"][0]["field"] == "fileId"
    # a draft saved before the rule: sending it is refused before anything is sent
    refused = rep1(SEND, {"id": queued["id"]}).data["sendMailing"]["errors"]
    assert [(e["code"], e["field"]) for e in refused] == [("BAD_USER_INPUT", "body")]
    fine = created(rep1, ids=[ana], body="Hello from [city]")
    assert send(gw, rep1, fine["id"])["counts"]["sent"] == 1
    [message] = inbox.messages
    assert parts(message)[0].startswith("Hello from Lugo")


def test_a_retried_send_never_sends_a_recipient_twice(mail):
    gw, as_, inbox = mail
    rep1 = as_("rep1")
    ids = [contact(rep1, firstName=f"P{n}", email=f"p{n}@example.test") for n in range(5)]
    mailing = created(rep1, ids=ids, subject="News", body="Hi [first_name]")
    # the mail server refuses the third message once, temporarily (451)
    original = inbox.handle_DATA
    calls = {"n": 0}

    async def flaky(server, session, envelope):
        calls["n"] += 1
        if calls["n"] == 3:
            return "451 4.3.0 try again later"
        return await original(server, session, envelope)

    inbox.handle_DATA = flaky
    r = rep1(SEND, {"id": mailing["id"]})
    assert r.data["sendMailing"]["errors"] == []
    run_pending(gw)  # PostgreSQL: the worker runs the retry too
    if gw.db.is_sqlite:
        run_pending(gw)
    done = rep1(MAILING, {"id": mailing["id"]}).data["mailing"]
    assert done["status"] == "SENT", done
    assert [r["status"] for r in done["recipients"]] == ["SENT"] * 5
    assert sorted(m["To"] for m in inbox.messages) == sorted(f"p{n}@example.test" for n in range(5))
    with gw.db.reading() as s:
        job = s.scalars(select(Job).where(Job.kind == SEND_KIND)).one()
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


def test_an_attempt_that_died_mid_send_is_not_sent_again(mail):
    gw, as_, inbox = mail
    rep1 = as_("rep1")
    ids = [contact(rep1, firstName=f"P{n}", email=f"p{n}@example.test") for n in range(3)]
    mailing = created(rep1, ids=ids, subject="News", body="Hi")
    r = rep1(SEND, {"id": mailing["id"]})
    assert r.data["sendMailing"]["errors"] == []
    # as if an earlier attempt claimed the second recipient and died before confirming
    with gw.db.transaction() as s:
        s.execute(
            update(MailingRecipient)
            .where(MailingRecipient.position == 2)
            .values(status=RecipientStatus.SENDING)
        )
    run_pending(gw)
    done = rep1(MAILING, {"id": mailing["id"]}).data["mailing"]
    assert [(r["status"], r["reason"]) for r in done["recipients"]] == [
        ("SENT", None),
        ("FAILED", "UNCONFIRMED"),
        ("SENT", None),
    ]
    assert sorted(m["To"] for m in inbox.messages) == ["p0@example.test", "p2@example.test"]


def test_permanent_refusals_are_reported_and_the_rest_sent(mail):
    gw, as_, inbox = mail
    rep1 = as_("rep1")
    ids = [contact(rep1, firstName=f"P{n}", email=f"p{n}@example.test") for n in range(3)]
    original = inbox.handle_DATA

    async def picky(server, session, envelope):
        if envelope.rcpt_tos == ["p1@example.test"]:
            return "550 5.1.1 no such mailbox"
        return await original(server, session, envelope)

    inbox.handle_DATA = picky
    done = send(gw, rep1, created(rep1, ids=ids)["id"])
    assert [(r["status"], r["reason"]) for r in done["recipients"]] == [
        ("SENT", None),
        ("FAILED", "DELIVERY_FAILED"),
        ("SENT", None),
    ]
    assert "550" in done["recipients"][1]["detail"]
    assert done["status"] == "SENT"


def test_leads_are_an_audience_while_the_leads_module_is_on(mail):
    gw, as_, inbox = mail
    rep1, admin = as_("rep1"), as_("admin")
    r = rep1(
        """mutation { createLead(input: {name: "Nina New", company: "Acme <Ltd>",
        email: "nina@example.test"}) { lead { id } errors { code } } }"""
    )
    lead = r.data["createLead"]["lead"]["id"]
    leads = {
        "audience": "LEADS",
        "recipientIds": [lead],
        "subject": "For [company]",
        "body": "Hello [name] of [company]",
    }
    unknown = rep1(CREATE, {"i": {**leads, "body": "Hello [first_name]"}})
    assert unknown.data["createMailing"]["errors"][0]["field"] == "body"
    wrong_type = rep1(CREATE, {"i": {**leads, "recipientIds": [contact(rep1, firstName="C")]}})
    assert wrong_type.data["createMailing"]["errors"][0]["field"] == "recipientIds"
    mailing = rep1(CREATE, {"i": leads}).data["createMailing"]["mailing"]
    done = send(gw, rep1, mailing["id"])
    assert done["counts"]["sent"] == 1
    [message] = inbox.messages
    assert message["Subject"] == "For Acme <Ltd>"
    assert "Acme &lt;Ltd&gt;" in parts(message)[1]
    assert admin(SWITCH, {"n": "leads", "e": False}).data["setModuleEnabled"]["errors"] == []
    off = rep1(CREATE, {"i": leads}).data["createMailing"]["errors"]
    assert [(e["code"], e["field"]) for e in off] == [("BAD_USER_INPUT", "audience")]
    # the sent mailing is still listed; its lead is not shown while leads is off
    kept = rep1(MAILING, {"id": mailing["id"]}).data["mailing"]
    assert kept["recipients"][0]["status"] == "SENT" and kept["recipients"][0]["recipient"] is None


def test_without_smtp_sending_is_a_clear_error(as_):
    rep1 = as_("rep1")
    ana = contact(rep1, firstName="Ana", email="ana@example.test")
    mailing = created(rep1, ids=[ana])
    errors = rep1(SEND, {"id": mailing["id"]}).data["sendMailing"]["errors"]
    assert [e["code"] for e in errors] == ["CONFLICT"]
    assert rep1(MAILING, {"id": mailing["id"]}).data["mailing"]["status"] == "DRAFT"


def test_listing_mailings_costs_the_same_statements_at_any_size(mail, sql_log):
    _gw, as_, _inbox = mail
    rep1 = as_("rep1")
    ids = [contact(rep1, firstName=f"P{n}", email=f"p{n}@example.test") for n in range(3)]
    query = """{ mailings(first: 50) { totalCount edges { node { id counts { total }
      recipients { status recipient { id ... on Contact { displayName } } } } } } }"""
    counts = {}
    for size in (1, 4):
        while len(rep1(query).data["mailings"]["edges"]) < size:
            created(rep1, ids=ids)
        with sql_log:
            r = rep1(query)
            assert r.errors == []
        assert len(r.data["mailings"]["edges"]) == size
        counts[size] = len(sql_log.statements)
    assert counts[1] == counts[4], counts


def test_a_cancelled_or_refused_send_is_interrupted_and_may_be_sent_again(mail):
    gw, as_, inbox = mail
    rep1, admin = as_("rep1"), as_("admin")
    ana = contact(rep1, firstName="Ana", email="ana@example.test", city="Lugo")
    mailing = created(rep1, ids=[ana], body="Hi [first_name] from [city]")
    queued = rep1(SEND, {"id": mailing["id"]}).data["sendMailing"]["mailing"]
    assert queued["status"] == "QUEUED"
    cancel = "mutation($id: ID!) { cancelJob(id: $id) { errors { code } } }"
    assert rep1(cancel, {"id": queued["jobId"]}).data["cancelJob"]["errors"] == []
    assert rep1(MAILING, {"id": mailing["id"]}).data["mailing"]["status"] == "INTERRUPTED"
    run_pending(gw)
    assert inbox.messages == []
    # sent again; then a field rule added while it waits makes the job refuse it
    again = rep1(SEND, {"id": mailing["id"]}).data["sendMailing"]
    assert again["errors"] == [] and again["mailing"]["status"] == "QUEUED"
    hide_for_reps(admin, "Contact", "address")
    run_pending(gw)
    stopped = rep1(MAILING, {"id": mailing["id"]}).data["mailing"]
    assert stopped["status"] == "INTERRUPTED"
    assert [r["status"] for r in stopped["recipients"]] == ["PENDING"]
    assert inbox.messages == []
    job = rep1(
        "query($id: ID!) { job(id: $id) { status errors { code column } } }",
        {"id": again["mailing"]["jobId"]},
    ).data["job"]
    assert job == {"status": "FAILED", "errors": [{"code": "BAD_USER_INPUT", "column": "body"}]}


def test_a_preview_costs_the_same_statements_for_2_or_20_recipients(mail, sql_log):
    _gw, as_, _inbox = mail
    rep1 = as_("rep1")
    ids = [contact(rep1, firstName=f"P{n}", email=f"p{n}@example.test") for n in range(20)]
    counts = {}
    for size in (2, 20):
        with sql_log:
            r = rep1(PREVIEW, {"i": draft(ids[:size])})
            assert r.errors == [] and r.data["mailingPreview"]["counts"]["pending"] == size
        counts[size] = len(sql_log.statements)
    assert counts[2] == counts[20], counts


def test_no_placeholder_reads_a_field_that_needs_full_access(gateway):
    """What the author's profile may read is what every visible recipient shows: none of
    the declared placeholders reads a ``@fullAccess`` field (a public record's description)."""
    from plugins.consent.mailing.placeholders import DECLARED

    schema = gateway.schemas.for_modules(frozenset(gateway.registry.plugins))
    policies = schema.crm_field_policies
    reads = [tuple(r.split(".")) for ps in DECLARED.values() for p in ps for r in p.reads]
    assert ("Contact", "email") in reads and ("Lead", "company") in reads
    for type_name, field in reads:
        policy = policies.get((type_name, field))
        assert policy is None or not policy.full_access, (type_name, field)
    assert policies[("Contact", "description")].full_access  # the check can fail


def test_two_sends_of_one_draft_at_once_queue_one_job(mail):
    import threading

    from gateway.context import CallerContext, Via
    from gateway.errors import Conflict
    from gateway.graphql.common import parse_global_id
    from plugins.consent.mailing import services

    gw, as_, inbox = mail
    rep1 = as_("rep1")
    ana = contact(rep1, firstName="Ana", email="ana@example.test")
    mailing_id = parse_global_id(created(rep1, ids=[ana])["id"], "Mailing")
    with gw.db.reading() as s:
        from gateway.identity.models import User

        rep1_id = s.scalar(select(User.id).where(User.email == "rep1@demo.test"))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def send_once() -> None:
        ctx = CallerContext.acting_for(gw, rep1_id, via=Via.API)
        try:
            start.wait()
            with ctx.transaction():
                services.send_mailing(ctx, mailing_id)
            outcomes.append("queued")
        except Conflict:
            outcomes.append("conflict")
        finally:
            ctx.close()

    threads = [threading.Thread(target=send_once) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "queued"]
    with gw.db.reading() as s:
        assert len(s.scalars(select(Job).where(Job.kind == SEND_KIND)).all()) == 1
    run_pending(gw)
    assert [m["To"] for m in inbox.messages] == ["ana@example.test"]
