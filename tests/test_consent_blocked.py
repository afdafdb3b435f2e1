"""The list of clients blocked for email (issue 16, K4) and its export: paginated like the
other lists, filtered by managing company, visible as the clients are (SQL), with the
clients' field rules applied. Both engines, real SMTP on loopback."""

from __future__ import annotations

import base64
import csv
import io

import openpyxl
import pytest

from tests.consent_support import answer_path, mailing_env, post_answer
from tests.test_consent_mailing import hide_for_reps

LIST = """query($c: ID, $first: Int, $after: String) {
  consentBlockedClients(companyId: $c, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { reason blockedAt contact { id displayName email } } } } }"""
EXPORT = """query($c: ID, $fmt: ConsentExportFormat!) {
  exportConsentBlockedClients(companyId: $c, format: $fmt) { filename mimeType contentBase64 } }"""


@pytest.fixture
def env(gateway, demo, smtp_server):
    yield from mailing_env(gateway, smtp_server)


def _ids(env) -> tuple[dict[str, str], dict[str, str]]:
    admin = env.as_("admin")
    users = {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }
    companies = {
        c["name"]: c["id"]
        for c in admin("{ managingCompanies { id name } }").data["managingCompanies"]
    }
    return users, companies


def _blocked(env, who: str, **variables) -> dict:
    r = env.as_(who)(LIST, variables)
    assert r.errors == [], r.errors
    return r.data["consentBlockedClients"]


def _names(page: dict) -> list[str]:
    return [e["node"]["contact"]["displayName"] for e in page["edges"]]


@pytest.fixture
def blocked(env):
    """Four clients of rep1 (one assigned through the first managing company) and one of
    rep2 decline; one client of rep1 accepts."""
    users, companies = _ids(env)
    first_company = sorted(companies)[0]
    env.configure()
    assigned = [{"companyId": companies[first_company], "userId": users["rep1"]}]
    names = {
        "Ana Ltd": ("ana@a.test", "rep1", {"assignments": assigned}),
        "Bea Ltd": ("bea@b.test", "rep1", {}),
        "Cid Ltd": ("cid@c.test", "rep1", {}),
        "Dan Ltd": ("dan@d.test", "rep1", {}),
        "Eva Ltd": ("eva@e.test", "rep2", {}),
        "Fine Ltd": ("fine@f.test", "rep1", {}),
    }
    for name, (email, who, extra) in names.items():
        env.client(name, email, who=who, **extra)
    env.run()
    for name, (email, _, _) in names.items():
        answer = "accept" if name == "Fine Ltd" else "deny"
        assert post_answer(env.http, answer_path(env.mails_to(email)[0]), answer).status_code == 200
    return companies[first_company]


def test_blocked_clients_are_listed_page_by_page_as_the_caller_sees_them(env, blocked):
    everyone = _blocked(env, "admin", first=10)
    assert everyone["totalCount"] == 5
    assert sorted(_names(everyone)) == ["Ana Ltd", "Bea Ltd", "Cid Ltd", "Dan Ltd", "Eva Ltd"]
    assert {e["node"]["reason"] for e in everyone["edges"]} == {"DENIED"}
    # Pages of two, following the cursor: every blocked client once, in the same order.
    seen: list[str] = []
    after = None
    while True:
        page = _blocked(env, "admin", first=2, after=after)
        seen += _names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == _names(everyone)
    # rep2 sees only its own client; rep1 not rep2's; by managing company only Ana.
    assert _names(_blocked(env, "rep2", first=10)) == ["Eva Ltd"]
    assert "Eva Ltd" not in _names(_blocked(env, "rep1", first=10))
    assert _names(_blocked(env, "admin", c=blocked)) == ["Ana Ltd"]
    # Another organisation sees none; the assistant lacks consent.review.
    assert _blocked(env, "admin@acme.test")["totalCount"] == 0
    assert env.as_("assistant")(LIST, {}).codes == ["FORBIDDEN"]
    foreign = env.as_("admin@acme.test")(LIST, {"c": blocked})
    assert foreign.codes == ["NOT_FOUND"]


def test_statements_do_not_grow_with_the_page(env, blocked, sql_log):
    _blocked(env, "manager", first=1)  # signed in, caches warm
    with sql_log:
        _blocked(env, "manager", first=1)
    small = len(sql_log.statements)
    with sql_log:
        assert len(_blocked(env, "manager", first=5)["edges"]) == 5
    assert len(sql_log.statements) == small


def test_field_rules_apply_to_the_list_and_the_export(env, blocked):
    hide_for_reps(env.as_("admin"), "Contact", "email")
    env.clients.clear()  # sign in again under the new rules
    refused = env.as_("rep1")(LIST, {})
    assert refused.codes == ["FORBIDDEN"] and "email" in refused.errors[0]["message"]
    shown = env.as_("rep1")(LIST.replace(" email }", " }"), {"first": 10})
    assert shown.errors == []
    exported = env.as_("rep1")(EXPORT, {"fmt": "CSV"}).data["exportConsentBlockedClients"]
    text = base64.b64decode(exported["contentBase64"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "Email" not in rows[0] and "ana@a.test" not in text
    assert sorted(r["Client"] for r in rows) == ["Ana Ltd", "Bea Ltd", "Cid Ltd", "Dan Ltd"]
    # The manager sees the addresses, in a spreadsheet.
    xlsx = env.as_("admin")(EXPORT, {"fmt": "XLSX", "c": blocked}).data
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(xlsx["exportConsentBlockedClients"]["contentBase64"]))
    )
    rows_x = list(book["Blocked clients"].iter_rows(values_only=True))
    assert rows_x[0][:4] == ("Client ID", "Client", "Email", "Reason")
    assert [r[1:4] for r in rows_x[1:]] == [("Ana Ltd", "ana@a.test", "DENIED")]
