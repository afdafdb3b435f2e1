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
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.conftest import REPO
from tests.test_readme import expectations
from tests.test_server import free_port

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
    folder = tmp_path_factory.mktemp("graphiql")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "CRM_LOG_LEVEL": "warning"}
    for inherited in ("DATABASE_URL", "CRM_DATA_DIR", "CRM_PLUGINS"):
        env.pop(inherited, None)
    log = (folder / "server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx2.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start:\n{log.read()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def editor_value(page, area: str) -> str:
    """The text of one of GraphiQL's editors (CodeMirror 5)."""
    return page.evaluate(
        "(area) => document.querySelector(`.graphiql-${area} .CodeMirror`).CodeMirror.getValue()",
        area,
    )


def sent_by(request) -> tuple[str, str | None]:
    """A POST's body and its Authorization header."""
    return request.post_data or "", request.headers.get("authorization")


def test_sign_in_docs_and_the_readme_query_with_the_network_blocked(demo_server, tmp_path: Path):
    from playwright.sync_api import Route, expect, sync_playwright

    base = demo_server
    outside: list[str] = []
    problems: list[str] = []
    posted: list[tuple[str, str | None]] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # two shared cores: patience, not a deadline
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("request", lambda r: r.method == "POST" and posted.append(sent_by(r)))
            page.goto(f"{base}/graphql")
            session = page.locator("#crm-session")

            # First visit: a friendly prompt, and no introspection before a token exists.
            expect(session).to_contain_text("Sign in to read the schema")
            expect(page.locator(".graphiql-container")).to_be_visible()
            page.fill("#crm-email", "rep1@demo.test")
            page.fill("#crm-password", "not-the-password")
            page.click("#crm-sign-in button[type=submit]")
            expect(session.locator(".crm-problem")).to_be_visible()
            assert not [body for body, _ in posted if "__schema" in body]

            expect(page.locator("#crm-email")).to_have_value("rep1@demo.test")
            page.fill("#crm-password", "demo-password")
            page.click("#crm-sign-in button[type=submit]")
            expect(page.locator("#crm-who")).to_have_text(
                "Signed in as rep1@demo.test (demo, Sales rep)"
            )
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
            page.screenshot(path=str(tmp_path / "graphiql.png"))
        finally:
            browser.close()

    _, names = expectations()["rep1@demo.test"]
    listed = result["data"]["contacts"]
    assert listed["totalCount"] == len(names)
    assert [e["node"]["displayName"] for e in listed["edges"]] == names
    sent = [auth for body, auth in posted if "contacts(first: 20" in body]
    assert sent == [f"Bearer {token}"]
    assert outside == []  # the page asked nothing of any other host
    assert problems == []  # no script error, no Content-Security-Policy violation
