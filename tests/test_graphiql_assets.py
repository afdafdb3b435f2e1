"""GraphiQL is served from the gateway itself (issue 18 item 1): the page names only files
under /graphiql/assets/, each with the SRI hash of what that URL serves, under a
Content-Security-Policy of 'self'; the vendored files are the pinned ones of the manifest."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from dataclasses import replace
from fnmatch import fnmatch

import pytest
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.graphiql.assets import STATIC, VENDOR
from tests.conftest import REPO

pytestmark = pytest.mark.engine_agnostic

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def manifest() -> dict[str, dict[str, str]]:
    return json.loads((VENDOR / "manifest.json").read_text())


def page_links(html: str) -> list[tuple[str, str]]:
    """(URL, integrity) of every script and stylesheet the page loads."""
    tags = re.findall(r"<(?:script|link rel=\"stylesheet\")[^>]*>", html)
    found = []
    for tag in tags:
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        integrity = re.search(r'integrity="([^"]+)"', tag)
        assert url and integrity, tag
        found.append((url.group(1), integrity.group(1)))
    return found


def test_vendored_files_are_the_pinned_ones():
    pinned = manifest()
    on_disk = {p.name for p in VENDOR.iterdir()} - {"manifest.json", "LICENSES.txt"}
    assert on_disk == set(pinned)
    for name, entry in pinned.items():
        assert sri((VENDOR / name).read_bytes()) == entry["integrity"], name
        assert entry["version"] in name  # a new version is a new URL: the long cache is safe
    packages = {entry["package"] for entry in pinned.values()}
    assert packages == {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}


def test_the_page_loads_only_its_own_files_each_with_its_hash(app):
    r = app.get("/graphql", headers=BROWSER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    sources = re.findall(r"[\w-]+-src ([^;]+)", csp)
    assert sources and set(sources) == {"'self'", "'none'"}, csp  # nothing else
    assert "<script>" not in r.text and "<style" not in r.text and "http" not in r.text
    links = page_links(r.text)
    names = [url.removeprefix("graphiql/assets/") for url, _ in links]
    assert names[-1] == "crm-graphiql.js" and "graphiql-4.1.2.min.js" in names
    for url, integrity in links:
        assert url.startswith("graphiql/assets/"), url  # relative: works under a path prefix
        served = app.get(f"/{url}")
        assert served.status_code == 200, url
        assert sri(served.content) == integrity, url


def test_assets_have_content_types_and_cache_policies(app):
    pinned = app.get("/graphiql/assets/graphiql-4.1.2.min.js")
    assert pinned.headers["content-type"] == "text/javascript; charset=utf-8"
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert pinned.headers["x-content-type-options"] == "nosniff"
    own = app.get("/graphiql/assets/crm-graphiql.js")
    assert own.headers["cache-control"] == "no-cache"  # ours change without a new name
    again = app.get(
        "/graphiql/assets/crm-graphiql.js", headers={"if-none-match": own.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    css = app.get("/graphiql/assets/graphiql-4.1.2.min.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    # The stylesheet's fonts and images are files beside it (a CSP of 'self' refuses data:).
    referenced = re.findall(r"url\(([^)]+)\)", css.text)
    assert referenced and not [u for u in referenced if u.startswith("data:")]
    for name in set(referenced):
        font = app.get(f"/graphiql/assets/{name}")
        assert font.status_code == 200, name
        assert font.headers["content-type"] in {"font/woff2", "font/woff", "image/png"}
    assert app.get("/graphiql/assets/nothing.js").status_code == 404
    assert app.get("/graphiql/assets/..%2Fassets.py").status_code == 404


def test_no_assets_when_graphiql_is_off(gateway):
    quiet = Gateway(replace(gateway.settings, graphiql=False), gateway.db, gateway.registry)
    with TestClient(create_app(quiet)) as http:
        assert http.get("/graphiql/assets/crm-graphiql.js").status_code == 404


def test_the_wheel_carries_every_asset():
    """pyproject's package data names every file the gateway serves (a built wheel, not
    only an editable install, has them)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gateway.graphiql"]
    package = VENDOR.parent
    for folder in (VENDOR, STATIC):
        for path in folder.iterdir():
            relative = path.relative_to(package).as_posix()
            assert any(fnmatch(relative, p) for p in patterns), relative
