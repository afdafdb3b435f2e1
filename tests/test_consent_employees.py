"""Consent requests to employees (issue 16, K1 "type: user"): a ``USER`` configuration asks
each user an administrator creates or changes, once, mailed after the commit, answered
through the same links, recorded in the ledger; reviewers see them. Both engines, real SMTP
on loopback."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from tests.consent_support import (
    CREATE_CONFIG,
    LEDGER,
    UPDATE_CONFIG,
    answer_path,
    mailing_env,
    post_answer,
    text_of,
)

CREATE_USER = """mutation($e: String!, $n: String!, $p: ID!) { createUser(input: {email: $e,
  displayName: $n, password: "a-long-password", profileId: $p}) { user { id } errors { code } } }"""
UPDATE_USER = """mutation($id: ID!, $n: String!) { updateUser(id: $id, input: {displayName: $n}) {
  errors { code } } }"""
USER_CONSENT = """query($u: ID!) { userConsent(userId: $u) {
  status reason recipient subject userId companyName } }"""
USER_LEDGER = """query($u: ID) { consentLedger(userId: $u) {
  event channel contactId userId recipient textSha256 } }"""
EXPORT = """query($u: ID) { exportConsentLedger(userId: $u, format: CSV) { contentBase64 } }"""
EMPLOYEES = {
    "description": "Employees",
    "audience": "USER",
    "triggers": ["USER_SAVED"],
    "sender": "hr@demo.test",
    "subject": "[first_name], may [organization] keep your photo?",
    "body": "Dear [name],\nwe ask every employee.",
}


@pytest.fixture
def env(gateway, demo, smtp_server):
    yield from mailing_env(gateway, smtp_server)


def _profile(env, name: str = "Sales rep") -> str:
    profiles = env.as_("admin")("{ profiles { id name } }").data["profiles"]
    return next(p["id"] for p in profiles if p["name"] == name)


def _user(env, email: str, name: str) -> str:
    r = env.as_("admin")(CREATE_USER, {"e": email, "n": name, "p": _profile(env)})
    assert r.errors == [] and r.data["createUser"]["errors"] == [], r
    return r.data["createUser"]["user"]["id"]


def test_user_configurations_are_checked(env):
    admin = env.as_("admin")
    for overrides, field in (
        ({"triggers": ["CLIENT_SAVED"]}, "triggers"),
        ({"triggers": []}, "triggers"),
        ({"appliesTo": ["POTENTIAL"]}, "audience"),
    ):
        r = admin(CREATE_CONFIG, {"i": {**EMPLOYEES, **overrides}})
        errors = r.data["createConsentConfiguration"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("BAD_USER_INPUT", field)], r
    client = {**EMPLOYEES, "audience": "CLIENT", "appliesTo": ["POTENTIAL"]}
    r = admin(CREATE_CONFIG, {"i": client})
    assert r.data["createConsentConfiguration"]["errors"][0]["field"] == "triggers"


def test_a_new_user_is_asked_once_and_answers_through_the_link(env):
    config = env.configure(**EMPLOYEES, appliesTo=[], clientKinds=[])
    env.client("A client", "client@clients.test")  # client triggers do not send it
    user = _user(env, "nora@demo.test", "Nora Gil")
    assert env.messages == []  # mailed by the job, after the commit
    env.run()
    assert [m["To"] for m in env.messages] == ["nora@demo.test"]
    [message] = env.messages
    subject = message["Subject"]
    assert subject.startswith("Nora, may Demo") and subject.endswith(" keep your photo?")
    assert "Dear Nora Gil," in text_of(message)
    # Changing the user again asks nothing while the request waits.
    admin = env.as_("admin")
    assert admin(UPDATE_USER, {"id": user, "n": "Nora Gil Ruiz"}).data["updateUser"]["errors"] == []
    env.run()
    assert len(env.messages) == 1
    assert post_answer(env.http, answer_path(message), "accept").status_code == 200
    [request] = admin(USER_CONSENT, {"u": user}).data["userConsent"]
    assert request["status"] == "ACCEPTED" and request["reason"] == "USER_SAVED"
    assert request["userId"] == user and request["recipient"] == "nora@demo.test"
    # Answered: later changes do not ask again.
    admin(UPDATE_USER, {"id": user, "n": "Nora"})
    env.run()
    assert len(env.messages) == 1
    entries = admin(USER_LEDGER, {"u": user}).data["consentLedger"]
    assert [(e["event"], e["channel"]) for e in entries] == [
        ("REQUESTED", "SYSTEM"),
        ("SENT", "EMAIL"),
        ("ACCEPTED", "LINK"),
    ]
    assert {(e["contactId"], e["userId"]) for e in entries} == {(None, user)}
    exported = admin(EXPORT, {"u": user}).data["exportConsentLedger"]["contentBase64"]
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(exported).decode("utf-8-sig"))))
    assert [(r["Event"], r["Client"], r["User"]) for r in rows] == [
        ("REQUESTED", "Nora", "nora@demo.test"),  # the user's name today
        ("SENT", "Nora", "nora@demo.test"),
        ("ACCEPTED", "Nora", "nora@demo.test"),
    ]
    # A disabled configuration asks nobody.
    admin(UPDATE_CONFIG, {"id": config, "i": {"enabled": False}})
    _user(env, "omar@demo.test", "Omar")
    env.run()
    assert len(env.messages) == 1


def test_a_declining_user_is_recorded_not_blocked_and_reviewers_see_it(env):
    env.configure(**EMPLOYEES, appliesTo=[], clientKinds=[])
    user = _user(env, "pia@demo.test", "Pia")
    env.run()
    assert post_answer(env.http, answer_path(env.messages[0]), "deny").status_code == 200
    admin = env.as_("admin")
    admin(UPDATE_USER, {"id": user, "n": "Pia Paz"})
    env.run()
    assert len(env.messages) == 1  # a refusal is not asked again by a trigger
    blocked = admin("{ consentBlockedClients { totalCount } }").data["consentBlockedClients"]
    assert blocked["totalCount"] == 0
    # Reviewers (reps hold consent.review) see it; assistants do not; other tenants see none.
    seen = env.as_("rep2")(USER_CONSENT, {"u": user}).data["userConsent"]
    assert [r["status"] for r in seen] == ["DENIED"]
    assert env.as_("assistant")(USER_CONSENT, {"u": user}).codes == ["FORBIDDEN"]
    assert env.as_("admin@acme.test")(USER_CONSENT, {"u": user}).data["userConsent"] == []
    assert env.as_("admin@acme.test")(USER_LEDGER, {"u": user}).data["consentLedger"] == []
    # A client's entries stay with the client's visibility next to users' entries.
    env.client("Rita's", "r@rita.test", who="rep1", category="POTENTIAL")
    everything = env.as_("rep2")(LEDGER, {}).data["consentLedger"]
    assert {e["recipient"] for e in everything} == {"pia@demo.test"}
