"""GraphiQL in a real browser with the outside network blocked (issue 18, "done when"):
Debian's Chromium, driven by Playwright, opens GraphiQL on a real ``crm-gateway serve
--demo``, signs in as a demo user from the page, sees the documentation explorer and runs
the README's contacts query. Every request that is not to 127.0.0.1 is refused (and
recorded: the test fails if the page even tried one)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from gateway.testing import GraphQLClient
from tests.conftest import REPO
from tests.servers import serve
from tests.test_readme import expectations
from tests.test_two_factor import enrol, steady_clock

pytestmark = [pytest.mark.slow, pytest.mark.engine_agnostic]

#: Chromium as this machine's probe starts it: no sandbox (root), no background traffic,
#: and no name resolves but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("no Chromium binary: .ci/run installs Debian's chromium package")
    pytest.skip("no Chromium binary (Debian: apt-get install chromium); CI runs this test")


def readme_contacts_query() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r'"query": "(\{ contacts\(.*?\} \})"\}', text)
    assert found, "the README's contacts query"
    return found.group(1)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``crm-gateway serve --demo`` on a free port, with a fresh SQLite database."""
    with serve(tmp_path_factory.mktemp("graphiql"), "--demo", probe="/readyz") as (base, _):
        yield base


def editor_value(page: Any, area: str) -> str:
    """The text of one of GraphiQL's editors (CodeMirror 5)."""
    return page.evaluate(
        "(area) => document.querySelector(`.graphiql-${area} .CodeMirror`).CodeMirror.getValue()",
        area,
    )


@dataclass
class Browser:
    """One page in Chromium, and what it did: requests refused for leaving 127.0.0.1,
    script errors and console errors (CSP violations among them), POST bodies with their
    Authorization header."""

    page: Any
    outside: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    posted: list[tuple[str, str | None]] = field(default_factory=list)

    def record(self, request: Any) -> None:
        if request.method == "POST":
            self.posted.append((request.post_data or "", request.headers.get("authorization")))

    def assert_clean(self) -> None:
        assert self.outside == []  # the page asked nothing of any other host
        assert self.problems == []  # no script error, no Content-Security-Policy violation


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Chromium (Playwright) with every request not to 127.0.0.1 refused."""
    from playwright.sync_api import Route, expect, sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = chrome.new_context()
            page = context.new_page()
            seen = Browser(page)

            def only_loopback(route: Route) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    seen.outside.append(route.request.url)
                    route.abort("internetdisconnected")

            context.route("**/*", only_loopback)
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # two shared cores: patience, not a deadline
            page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
            page.on("console", lambda m: m.type == "error" and seen.problems.append(m.text))
            page.on("request", seen.record)
            yield seen
            page.screenshot(path=str(tmp_path / "graphiql.png"))
        finally:
            chrome.close()


def test_sign_in_docs_and_the_readme_query_with_the_network_blocked(demo_server, browser):
    from playwright.sync_api import expect

    page = browser.page
    page.goto(f"{demo_server}/graphql")
    session = page.locator("#crm-session")

    # First visit: a friendly prompt, and no introspection before a token exists.
    expect(session).to_contain_text("Sign in to read the schema")
    expect(page.locator(".graphiql-container")).to_be_visible()
    page.fill("#crm-email", "rep1@demo.test")
    page.fill("#crm-password", "not-the-password")
    page.click("#crm-sign-in button[type=submit]")
    expect(session.locator(".crm-problem")).to_be_visible()
    assert not [body for body, _ in browser.posted if "__schema" in body]

    expect(page.locator("#crm-email")).to_have_value("rep1@demo.test")
    page.fill("#crm-password", "demo-password")
    page.click("#crm-sign-in button[type=submit]")
    expect(page.locator("#crm-who")).to_have_text("Signed in as rep1@demo.test (demo, Sales rep)")
    token = page.evaluate("sessionStorage.getItem('crm-gateway.token')")
    assert token

    # The documentation explorer opens with the caller's schema, no re-fetch needed.
    docs = page.locator(".graphiql-doc-explorer")
    expect(docs).to_be_visible()
    expect(docs).to_contain_text("Root Types")
    docs.get_by_text("Query", exact=True).first.click()
    expect(docs).to_contain_text("contacts")

    # The README's contacts query, typed into the editor and run.
    query = readme_contacts_query()
    page.locator(".graphiql-query-editor .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(query)
    assert editor_value(page, "query-editor") == query
    page.click(".graphiql-execute-button")
    expect(page.locator(".graphiql-response")).to_contain_text("totalCount")
    result = json.loads(editor_value(page, "response"))
    assert page.evaluate("Object.keys(localStorage)") == []  # nothing outlives the tab

    _, names = expectations()["rep1@demo.test"]
    listed = result["data"]["contacts"]
    assert listed["totalCount"] == len(names)
    assert [e["node"]["displayName"] for e in listed["edges"]] == names
    sent = [auth for body, auth in browser.posted if "contacts(first: 20" in body]
    assert sent == [f"Bearer {token}"]
    browser.assert_clean()


def test_two_factor_code_a_revoked_token_and_a_pasted_one(demo_server, browser):
    from playwright.sync_api import expect

    with httpx2.Client(base_url=demo_server, timeout=60) as http:
        totp, _ = enrol(GraphQLClient(http).login("rep2@demo.test"))
        admin_token = GraphQLClient(http).login("admin@demo.test").token
    page = browser.page
    page.goto(f"{demo_server}/graphql")
    session = page.locator("#crm-session")

    # The password, then the code the account asks for.
    page.fill("#crm-email", "rep2@demo.test")
    page.fill("#crm-password", "demo-password")
    page.click("#crm-sign-in button[type=submit]")
    expect(session).to_contain_text("Two-factor authentication is on")
    steady_clock()
    page.fill("#crm-code", totp.now())
    page.click("#crm-two-factor button[type=submit]")
    expect(page.locator("#crm-who")).to_have_text("Signed in as rep2@demo.test (demo, Sales rep)")
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Root Types")

    # Revoked elsewhere: the next schema fetch brings the sign-in bar back, with the reason.
    token = page.evaluate("sessionStorage.getItem('crm-gateway.token')")
    with httpx2.Client(base_url=demo_server, timeout=60) as http:
        revoked = GraphQLClient(http)
        revoked.token = token
        assert revoked("mutation { logout { ok } }").data["logout"]["ok"] is True
    page.click('button[aria-label="Re-fetch GraphQL schema"]')
    expect(page.locator("#crm-sign-in")).to_be_visible()
    expect(session.locator(".crm-problem")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('crm-gateway.token')") is None

    # A token pasted instead of a password.
    page.fill("#crm-token", f"Bearer {admin_token}")
    page.click("#crm-use-token button[type=submit]")
    expect(page.locator("#crm-who")).to_have_text(
        "Signed in as admin@demo.test (demo, Administrator)"
    )
    browser.assert_clean()
