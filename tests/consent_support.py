"""Helpers of the consent tests: an app whose SMTP points at the loopback server, demo
sign-ins, a configuration, clients, and the links of received mails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.jobs import run_pending
from gateway.testing import GraphQLClient

CREATE_CONFIG = """mutation($i: ConsentConfigurationInput!) {
  createConsentConfiguration(input: $i) {
    configuration { id description version triggers appliesTo }
    errors { code field message } } }"""
UPDATE_CONFIG = """mutation($id: ID!, $i: ConsentConfigurationInput!) {
  updateConsentConfiguration(id: $id, input: $i) {
    configuration { id enabled version } errors { code field message } } }"""
CREATE_CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  contact { id } errors { code field message } } }"""
UPDATE_CONTACT = """mutation($id: ID!, $i: UpdateContactInput!) { updateContact(id: $id, input: $i) {
  contact { id } errors { code field } } }"""
CLIENT_CONSENT = """query($c: ID!) { clientConsent(contactId: $c) {
  contactId blocked { reason blockedAt }
  requests { id status reason recipient subject body configuration companyName
             templateVersion requestedBy { email } sentAt answeredAt } } }"""
RESEND = """mutation($i: ConsentTargetInput!) { resendConsentRequest(input: $i) {
  request { id status reason } errors { code field message } } }"""
UNBLOCK = """mutation($i: ConsentTargetInput!) { unblockConsent(input: $i) {
  request { id status reason } errors { code field message } } }"""
LEDGER = """query($c: ID, $f: DateTime, $t: DateTime) { consentLedger(contactId: $c, from: $f, to: $t) {
  event channel configuration recipient templateVersion textSha256 ipAddress userAgent actor
  contactId } }"""
EXPORT = """query($c: ID, $f: DateTime, $t: DateTime, $fmt: ConsentExportFormat!) {
  exportConsentLedger(contactId: $c, from: $f, to: $t, format: $fmt) {
    filename mimeType contentBase64 } }"""

BODY = "Dear [name],\nmay [organization] email you? Your address: [email]."
LINK = re.compile(r"https?://[^/\s]+(/consent/[A-Za-z0-9.]+)")


@dataclass
class Env:
    """The mailing app: ``as_("rep1")`` signs in, ``run()`` drains the job queue."""

    gateway: Gateway
    http: TestClient
    inbox: Any
    clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def as_(self, name: str) -> GraphQLClient:
        email = name if "@" in name else f"{name}@demo.test"
        if email not in self.clients:
            self.clients[email] = GraphQLClient(self.http).login(email)
        return self.clients[email]

    def run(self) -> None:
        run_pending(self.gateway)

    @property
    def messages(self) -> list[Any]:
        return self.inbox.messages

    def configure(self, **overrides: Any) -> str:
        values: dict[str, Any] = {
            "description": "Potential companies",
            "enabled": True,
            "appliesTo": ["POTENTIAL"],
            "clientKinds": ["COMPANY"],
            "triggers": ["CLIENT_SAVED", "TASK_SAVED", "INTERACTION_LOGGED"],
            "sender": "privacy@demo.test",
            "subject": "Your consent, [name]",
            "body": BODY,
        }
        values.update(overrides)
        r = self.as_("admin")(CREATE_CONFIG, {"i": values})
        payload = r.data["createConsentConfiguration"]
        assert r.errors == [] and payload["errors"] == [], r
        return payload["configuration"]["id"]

    def client(self, name: str, email: str | None = None, who: str = "rep1", **extra: Any) -> str:
        values: dict[str, Any] = {
            "kind": "COMPANY",
            "companyName": name,
            "category": "POTENTIAL",
            "clientKind": "COMPANY",
        }
        if email is not None:
            values["email"] = email
        values.update(extra)
        r = self.as_(who)(CREATE_CONTACT, {"i": values})
        payload = r.data["createContact"]
        assert r.errors == [] and payload["errors"] == [], r
        return payload["contact"]["id"]

    def consent(self, contact: str, who: str = "admin") -> Any:
        r = self.as_(who)(CLIENT_CONSENT, {"c": contact})
        assert r.errors == [], r
        return r.data["clientConsent"]

    def mails_to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def links_of(message: Any) -> list[str]:
    """The consent paths in a mail's text, in order (accept, deny, then withdraw if any)."""
    return LINK.findall(text_of(message))


def answer_path(message: Any) -> str:
    return links_of(message)[0]


def withdraw_path(message: Any) -> str | None:
    found = [p for p in links_of(message) if p.split("/")[-1].startswith("w.")]
    return found[0] if found else None


def form_token(page: str) -> str:
    found = re.search(r'name="form" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


def post_answer(http: TestClient, path: str, answer: str, **headers: str) -> Any:
    page = http.get(path)
    assert page.status_code == 200, page.text
    return http.post(
        path,
        data={"form": form_token(page.text), "answer": answer},
        headers=headers,
    )


def mailing_env(gateway: Gateway, smtp_server: Any) -> Iterator[Env]:
    """The body of each consent test file's ``env`` fixture (needs ``demo`` seeded)."""
    settings = replace(gateway.settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    mailing = Gateway(settings=settings, db=gateway.db, registry=gateway.registry)
    with TestClient(create_app(mailing)) as http:
        yield Env(mailing, http, smtp_server)
