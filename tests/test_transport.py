"""GraphQL over HTTP at the edge (issue 12, items 8, 9 and 12): malformed requests answer a
coded GraphQL error (never a 500 or a dropped connection), oversized requests are refused
before they are read whole, and ``application/graphql-response+json`` is served per spec.

In-process through the ASGI app, and against real uvicorn processes where the old
behaviour differed (dropped connections; graphql-http's audit suite)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.config import Settings
from tests.conftest import REPO, TEST_PLUGINS
from tests.servers import serve

GR = "application/graphql-response+json"
JSON_TYPE = "application/json"
TYPENAME = b'{"query": "{ __typename }"}'
JSON_HEADERS = {"content-type": JSON_TYPE}


def assert_refused(r: Any, status: int, code: str = "BAD_REQUEST") -> dict[str, Any]:
    """A transport refusal: the status, a GraphQL error with the code, no ``data`` entry."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] in (JSON_TYPE, GR)
    body = r.json()
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert body["errors"][0]["message"]
    return body


# -- item 9: malformed requests ----------------------------------------------------------

MALFORMED = [
    # (id, method, url, headers, body, status)
    ("json string", "POST", "/graphql", JSON_HEADERS, b'"a string"', 400),
    ("json number", "POST", "/graphql", JSON_HEADERS, b"123", 400),
    ("json null", "POST", "/graphql", JSON_HEADERS, b"null", 400),
    ("json true", "POST", "/graphql", JSON_HEADERS, b"true", 400),
    ("json empty array (batch)", "POST", "/graphql", JSON_HEADERS, b"[]", 400),
    ("json batch", "POST", "/graphql", JSON_HEADERS, b"[" + TYPENAME + b"]", 400),
    ("malformed json", "POST", "/graphql", JSON_HEADERS, b'{"query": "{ __typename }"', 400),
    ("not json at all", "POST", "/graphql", JSON_HEADERS, b"NONSENSE", 400),
    ("empty body", "POST", "/graphql", JSON_HEADERS, b"", 400),
    ("json with a BOM", "POST", "/graphql", JSON_HEADERS, b"\xef\xbb\xbf" + TYPENAME, 400),
    ("NaN literal", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query($n: Float) { __typename }", "variables": {"n": NaN}}', 400),
    ("Infinity literal", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query($n: Float) { __typename }", "variables": {"n": -Infinity}}', 400),
    ("number beyond a double", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query($n: Float) { __typename }", "variables": {"n": 1e999}}', 400),
    ("integer of 5000 digits", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query($n: Int) { __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
     400),
    ("json nested 100k deep", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000
     + b"}}", 400),
    ("invalid utf-8 in the body", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }\xff"}', 400),
    ("invalid utf-8 in a variable", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query($s: String) { __typename }", "variables": {"s": "\xc3("}}', 400),
    ("overlong utf-8", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "variables": {"s": "\xc0\xaf"}}', 400),
    ("utf-16 body", "POST", "/graphql", JSON_HEADERS, TYPENAME.decode().encode("utf-16"), 400),
    ("content type text/plain", "POST", "/graphql", {"content-type": "text/plain"}, TYPENAME,
     415),
    ("content type form", "POST", "/graphql",
     {"content-type": "application/x-www-form-urlencoded"}, b"query=%7B__typename%7D", 415),
    ("content type multipart", "POST", "/graphql",
     {"content-type": "multipart/form-data; boundary=x"}, b"--x--", 415),
    ("content type missing", "POST", "/graphql", {}, TYPENAME, 415),
    ("content type look-alike", "POST", "/graphql", {"content-type": "application/jsonx"},
     TYPENAME, 415),
    ("charset not utf-8", "POST", "/graphql",
     {"content-type": "application/json; charset=latin-1"}, TYPENAME, 415),
    ("query missing", "POST", "/graphql", JSON_HEADERS, b'{"qeury": "{ __typename }"}', 400),
    ("query null", "POST", "/graphql", JSON_HEADERS, b'{"query": null}', 400),
    ("query empty", "POST", "/graphql", JSON_HEADERS, b'{"query": ""}', 400),
    ("query a number", "POST", "/graphql", JSON_HEADERS, b'{"query": 1}', 400),
    ("query an object", "POST", "/graphql", JSON_HEADERS, b'{"query": {"a": 1}}', 400),
    ("query an array", "POST", "/graphql", JSON_HEADERS, b'{"query": ["{ __typename }"]}', 400),
    ("query a boolean", "POST", "/graphql", JSON_HEADERS, b'{"query": false}', 400),
    ("variables a string", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "variables": "{}"}', 400),
    ("variables an array", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "variables": [7]}', 400),
    ("variables a number", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "variables": 0}', 400),
    ("extensions a string", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "extensions": "x"}', 400),
    ("extensions an array", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "extensions": []}', 400),
    ("operationName a number", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "operationName": 1}', 400),
    ("operationName an object", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "operationName": {"a": 1}}', 400),
    ("operationName an array", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "{ __typename }", "operationName": ["Q"]}', 400),
    ("operationName unknown", "POST", "/graphql", JSON_HEADERS,
     b'{"query": "query Q { __typename }", "operationName": "Nope"}', 400),
    ("GET without query", "GET", "/graphql", {"accept": JSON_TYPE}, b"", 400),
    ("GET invalid utf-8 escape", "GET", "/graphql?query=%FF", {}, b"", 400),
    ("GET invalid utf-8 in variables", "GET",
     "/graphql?query=query(%24s%3AString)%7B__typename%7D&variables=%7B%22s%22%3A%22%C3%28%22%7D",
     {}, b"", 400),
    ("GET truncated escape", "GET", "/graphql?query=%7B__typename%7", {}, b"", 400),
    ("GET invalid escape", "GET", "/graphql?query=%zz", {}, b"", 400),
    ("GET variables not json", "GET", "/graphql?query=%7B__typename%7D&variables=%7Bbad", {},
     b"", 400),
    ("GET variables not an object", "GET", "/graphql?query=%7B__typename%7D&variables=1", {},
     b"", 400),
    ("GET extensions not an object", "GET",
     "/graphql?query=%7B__typename%7D&extensions=%5B%5D", {}, b"", 400),
    ("GET query given twice", "GET", "/graphql?query=%7B__typename%7D&query=%7Bx%7D", {}, b"",
     400),
    ("GET too many parameters", "GET",
     "/graphql?query=%7B__typename%7D&" + "&".join(f"p{i}=1" for i in range(40)), {}, b"",
     400),
    ("mutation over GET", "GET", "/graphql?query=mutation%7Blogout%7Bok%7D%7D", {}, b"", 405),
    ("PUT", "PUT", "/graphql", JSON_HEADERS, TYPENAME, 405),
    ("DELETE", "DELETE", "/graphql", {}, b"", 405),
    ("PATCH", "PATCH", "/graphql", JSON_HEADERS, TYPENAME, 405),
    ("OPTIONS", "OPTIONS", "/graphql", {}, b"", 405),
    ("unknown method", "PURGE", "/graphql", {}, b"", 405),
    ("accepts neither json type", "POST", "/graphql", {**JSON_HEADERS, "accept": "text/csv"},
     TYPENAME, 406),
    ("refuses json with q=0", "POST", "/graphql",
     {**JSON_HEADERS, "accept": "application/json;q=0, text/html"}, TYPENAME, 406),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "status"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_requests_answer_a_coded_graphql_error(
    app: TestClient, method: str, url: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    r = app.request(method, url, headers=headers, content=body or None)
    assert_refused(r, status)
    assert r.headers["x-request-id"]
    if status == 405:
        assert r.headers["allow"] in ("GET, POST", "POST")
    # The server still answers well-formed requests afterwards.
    assert app.post("/graphql", content=TYPENAME, headers=JSON_HEADERS).json() == {
        "data": {"__typename": "Query"}
    }


@pytest.mark.parametrize("accept", [GR, JSON_TYPE])
def test_refusals_answer_in_the_accepted_media_type(app: TestClient, accept: str) -> None:
    r = app.post("/graphql", content=b"123", headers={**JSON_HEADERS, "accept": accept})
    assert_refused(r, 400)
    assert r.headers["content-type"] == f"{accept}; charset=utf-8"


def test_refused_requests_execute_nothing(demo, as_, app: TestClient) -> None:
    """Nothing of a refused request runs: a mutation over GET, in a wrongly typed body, in
    an oversized body or with a parameter of the wrong type leaves the data as it was."""
    rep = as_("rep1")
    before = rep("{ notes { title } }").data
    create = 'mutation { createNote(title: "refused") { errors { code } } }'
    attempts = [
        ("GET", {"params": {"query": create}}),
        ("POST", {"content": json.dumps({"query": create}), "headers": {"content-type": "text/plain"}}),
        ("POST", {"json": {"query": create, "variables": [1]}}),
        ("POST", {"json": {"query": create, "operationName": 7}}),
        ("POST", {"json": {"query": create, "padding": "x" * (3 * 1024 * 1024)}}),
        ("PUT", {"json": {"query": create}}),
    ]  # fmt: skip
    for method, kwargs in attempts:
        headers = {**kwargs.pop("headers", {}), **rep.headers()}
        r = app.request(method, "/graphql", headers=headers, **kwargs)
        assert r.status_code in (400, 405, 413, 415), r.text
    assert rep("{ notes { title } }").data == before
    # The session survived a mutation (logout) sent over GET, too.
    app.get("/graphql", params={"query": "mutation { logout { ok } }"}, headers=rep.headers())
    assert rep("{ me { user { email } } }").errors == []


def test_url_parameters_keep_their_meaning(demo, as_, app: TestClient) -> None:
    """GET accepts the spec's encoding: variables as JSON text, empty values as absent."""
    rep = as_("rep1")
    q = "query Me($n: Int) { me { user { email } } notes(first: $n) { title } }"
    for params in (
        {"query": q, "variables": json.dumps({"n": 1})},
        {"query": q, "variables": "", "operationName": "", "extensions": ""},
        {"query": q, "operationName": "Me", "unrelated": "ignored"},
    ):
        r = app.get("/graphql", params=params, headers=rep.headers())
        assert r.status_code == 200, r.text
        assert r.json()["data"]["me"] == {"user": {"email": "rep1@demo.test"}}


# -- item 12: application/graphql-response+json --------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON_TYPE),
        ("", JSON_TYPE),
        ("*/*", JSON_TYPE),
        ("application/*", JSON_TYPE),
        (JSON_TYPE, JSON_TYPE),
        (GR, GR),
        (f"{GR}, {JSON_TYPE};q=0.9", GR),
        (f"{JSON_TYPE};q=0.9, {GR}", GR),
        (f"{JSON_TYPE}, {GR}", JSON_TYPE),
        (f"{GR};q=0.5, {JSON_TYPE};q=0.8", JSON_TYPE),
        (f"{GR}, */*;q=0.1", GR),
        (f"text/html, {GR};charset=utf-8", GR),
        ("application/json, text/plain, */*", JSON_TYPE),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GR),
    ],
)
def test_the_response_media_type_follows_accept(
    app: TestClient, accept: str | None, expected: str
) -> None:
    headers = dict(JSON_HEADERS) if accept is None else {**JSON_HEADERS, "accept": accept}
    r = app.post("/graphql", content=TYPENAME, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{expected}; charset=utf-8"
    assert r.json() == {"data": {"__typename": "Query"}}


def post(app: TestClient, accept: str, query: str, variables: Any = None, **headers: str):
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return app.post("/graphql", json=body, headers={"accept": accept, **headers})


REQUEST_ERRORS = [
    # (id, query, variables, code) — refused before execution
    ("document parsing failure", "{", None, "GRAPHQL_VALIDATION_FAILED"),
    ("document validation failure", "{ 8f31403dfe404bccbb0e835f2629c6a7 }", None,
     "GRAPHQL_VALIDATION_FAILED"),
    ("variable coercion failure", "query CoerceFailure($id: ID!) { __typename }",
     {"id": None}, "BAD_USER_INPUT"),
    ("variable of the wrong type", "query($n: Int) { __typename }", {"n": "x"},
     "BAD_USER_INPUT"),
    ("too deep", "{ " + "__type(name: \"Query\") { fields { type { " * 6 + "name"
     + " } } }" * 6 + " }", None, "GRAPHQL_VALIDATION_FAILED UNAUTHENTICATED"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "variables", "code"), [pytest.param(*c[1:], id=c[0]) for c in REQUEST_ERRORS]
)
def test_request_errors_are_400_without_data_when_graphql_response_json_is_accepted(
    app: TestClient, query: str, variables: Any, code: str
) -> None:
    r = post(app, GR, query, variables)
    assert r.status_code == 400
    assert r.headers["content-type"] == f"{GR}; charset=utf-8"
    body = r.json()
    assert "data" not in body
    assert {e["extensions"]["code"] for e in body["errors"]} == set(code.split())
    # application/json keeps the legacy answer: 200 with "data": null.
    legacy = post(app, JSON_TYPE, query, variables)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == f"{JSON_TYPE}; charset=utf-8"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"] == body["errors"]


def test_executed_operations_are_200_with_data_even_with_field_errors(demo, as_, app) -> None:
    rep = as_("rep1")
    ok = post(app, GR, "{ me { user { email } } }", **rep.headers())
    assert (ok.status_code, ok.json()) == (
        200,
        {"data": {"me": {"user": {"email": "rep1@demo.test"}}}},
    )
    # A non-null root field that fails nulls the whole data, but the operation ran: 200.
    boom = post(app, GR, "{ boom }", **rep.headers())
    assert boom.status_code == 200
    assert boom.json()["data"] is None and boom.json()["errors"][0]["path"] == ["boom"]
    assert boom.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    # A mutation whose payload reports a domain error ran too.
    created = post(
        app, GR, 'mutation { createNote(title: "") { errors { code } } }', **rep.headers()
    )
    assert created.status_code == 200 and "data" in created.json()


def test_refusals_before_execution_carry_the_status_of_their_code(demo, as_, app) -> None:
    """Signed out: 401 with a Bearer challenge; a field the profile may not read: 403."""
    anonymous = post(app, GR, "{ notes { title } }")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "data" not in anonymous.json()
    assert [e["extensions"]["code"] for e in anonymous.json()["errors"]] == ["UNAUTHENTICATED"]
    rep = as_("rep1")
    hidden = post(app, GR, "{ notes { title secret } }", **rep.headers())
    assert hidden.status_code == 403
    assert [e["extensions"]["code"] for e in hidden.json()["errors"]] == ["FORBIDDEN"]
    assert "data" not in hidden.json()
    # Legacy clients keep 200 for both.
    assert post(app, JSON_TYPE, "{ notes { title } }").status_code == 200
    assert post(app, JSON_TYPE, "{ notes { title secret } }", **rep.headers()).status_code == 200


GRAPHQL_HTTP_SHOULD = [
    # graphql-http's audits at SHOULD level for application/graphql-response+json (ids as
    # in its suite), as (id, body, expected status).
    ("22EB/34A2", {"query": "{ __typename }"}, 200),
    ("8161", {"operationName": "Query", "query": "query Query { __typename }"}, 200),
    ("94B0", {"query": "{ __typename }", "variables": None}, 200),
    ("94B1", {"query": "{ __typename }", "operationName": None}, 200),
    ("94B2", {"query": "{ __typename }", "extensions": None}, 200),
    ("2EA1", {"query": "query T($name: String!) { __type(name: $name) { name } }",
              "variables": {"name": "sometype"}}, 200),
    ("428F", {"query": "{ __typename }", "extensions": {"some": "value"}}, 200),
    ("423L", {"notquery": "{ __typename }"}, 400),
    ("556A/D586", {"query": "{"}, 400),
    ("74FF/5E5B", {"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"}, 400),
    ("86EE", {"query": "query CoerceFailure($id: ID!){ __typename }", "variables": {"id": None}},
     400),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status"), [pytest.param(*c[1:], id=c[0]) for c in GRAPHQL_HTTP_SHOULD]
)
def test_graphql_http_should_level_audits(demo, as_, app, body: Any, status: int) -> None:
    rep = as_("rep1")  # introspection (__type) is for signed-in callers
    r = app.post("/graphql", json=body, headers={"accept": GR, **rep.headers()})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(GR)
    result = r.json()
    if status == 200:
        assert "errors" not in result and result["data"]
    else:
        assert "data" not in result and result["errors"]


def test_json_parse_failure_is_400_for_both_media_types(app) -> None:
    for accept in (GR, JSON_TYPE):
        r = app.post(
            "/graphql", content=b'{ "not a JSON', headers={**JSON_HEADERS, "accept": accept}
        )
        assert_refused(r, 400)
        assert r.headers["content-type"].startswith(accept)


def test_graphiql_still_opens_in_a_browser_and_only_there(app, gateway) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert "graphiql" in app.get("/graphql", headers={"accept": browser}).text.lower()
    quiet = Gateway(replace(gateway.settings, graphiql=False), gateway.db, gateway.registry)
    with TestClient(create_app(quiet)) as http:
        assert_refused(http.get("/graphql", headers={"accept": browser}), 400)
        assert_refused(http.get("/graphql", headers={"accept": "text/html"}), 406)


# -- item 8: the request size limit --------------------------------------------------------


@pytest.fixture
def small(gateway) -> Iterator[TestClient]:
    """The app with a 4 KiB request limit."""
    settings = replace(gateway.settings, max_body_bytes=4096)
    with TestClient(create_app(Gateway(settings, gateway.db, gateway.registry))) as http:
        yield http


def padded(size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes."""
    head, tail = b'{"query": "{ __typename }", "pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_bodies_up_to_the_limit_pass_and_larger_are_413(small: TestClient) -> None:
    ok = small.post("/graphql", content=padded(4096), headers=JSON_HEADERS)
    assert ok.json() == {"data": {"__typename": "Query"}}
    r = small.post("/graphql", content=padded(4097), headers={**JSON_HEADERS, "accept": GR})
    body = assert_refused(r, 413, "PAYLOAD_TOO_LARGE")
    assert "4096 bytes" in body["errors"][0]["message"]
    assert r.headers["content-type"].startswith(GR)


def test_streamed_bodies_without_length_are_cut_at_the_limit(small: TestClient) -> None:
    def chunks(size: int, chunk: int = 1000) -> Iterator[bytes]:
        body = padded(size)
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    ok = small.post("/graphql", content=chunks(4096), headers=JSON_HEADERS)
    assert ok.json() == {"data": {"__typename": "Query"}}
    assert_refused(small.post("/graphql", content=chunks(50_000), headers=JSON_HEADERS), 413,
                   "PAYLOAD_TOO_LARGE")  # fmt: skip


def test_long_urls_are_414(small: TestClient) -> None:
    ok = small.get("/graphql", params={"query": "{ __typename }", "pad": "x" * 3000})
    assert ok.json() == {"data": {"__typename": "Query"}}
    r = small.get("/graphql", params={"query": "{ __typename }", "pad": "x" * 5000})
    assert_refused(r, 414, "PAYLOAD_TOO_LARGE")


def test_the_limit_covers_every_route(small: TestClient) -> None:
    """Plugins' routes (here the web forms') get the kernel's limit too."""
    r = small.post("/forms/nope", content=b"x" * 5000, headers=JSON_HEADERS)
    assert_refused(r, 413, "PAYLOAD_TOO_LARGE")


async def call(app: Any, method: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """Drive the ASGI app directly; returns (status, body, how many chunks it pulled)."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": True}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("x", 80),
        "state": {},
    }  # fmt: skip
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), pulled


def test_oversized_bodies_are_refused_before_being_read_whole(gateway) -> None:
    """Announced by Content-Length: nothing is read. Streamed: reading stops at the limit
    (10 MB offered in 64 KiB chunks; the 2 MiB default stops after 33)."""
    app = create_app(gateway)
    limit = gateway.settings.max_body_bytes
    assert limit == Settings().max_body_bytes == 2 * 1024 * 1024
    chunks = [b"x" * 65536] * 160
    announced = [(b"content-type", b"application/json"), (b"content-length", b"10485760")]
    status, body, pulled = anyio.run(call, app, "POST", announced, chunks)
    assert (status, pulled) == (413, 0)
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    streamed = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    status, body, pulled = anyio.run(call, app, "POST", streamed, chunks)
    assert status == 413 and pulled == limit // 65536 + 1
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_the_limit_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CRM_MAX_BODY_BYTES", "12345")
    assert Settings.from_env().max_body_bytes == 12345
    monkeypatch.delenv("CRM_MAX_BODY_BYTES")
    assert Settings.from_env().max_body_bytes == 2 * 1024 * 1024


def test_a_full_size_photo_fits_under_the_default_limit(demo, as_) -> None:
    """The default leaves room for the largest photo a contact accepts (1 MiB, base64)."""
    import base64
    import io

    from PIL import Image

    from plugins.contacts.photos import MAX_BYTES
    from tests.test_contacts import create

    rep = as_("rep1")
    contact = create(rep, firstName="Full", lastName="Size")
    buffer = io.BytesIO()
    noise = Image.frombytes("RGB", (580, 600), os.urandom(580 * 600 * 3))
    noise.save(buffer, format="PNG", compress_level=0)
    assert MAX_BYTES - 10_000 < len(buffer.getvalue()) <= MAX_BYTES
    photo = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    r = rep(
        "mutation($id: ID!, $d: String!) { setContactPhoto(id: $id, dataUrl: $d) {"
        " errors { code } } }",
        {"id": contact["id"], "d": photo},
    )
    assert r.status == 200 and r.data["setContactPhoto"]["errors"] == []


# -- real uvicorn processes ----------------------------------------------------------------


@contextmanager
def running_server(
    database_url: str, directory: Path, env: dict[str, str] | None = None, demo: bool = False
) -> Iterator[str]:
    """``crm-gateway serve`` (uvicorn, one worker) on a free port; yields its base URL. Its
    log must hold no "Exception in ASGI application" traceback when it stops."""
    environment = {
        "DATABASE_URL": database_url,
        "CRM_PLUGINS": ",".join(TEST_PLUGINS),
        "CRM_PASSWORD_HASH_PROFILE": "fast",
        **(env or {}),
    }
    with (directory / f"server-{uuid.uuid4().hex[:8]}.log").open("w+") as log:
        with serve(directory, *(["--demo"] if demo else []), env=environment, log=log) as (
            base,
            _,
        ):
            yield base
        log.seek(0)
        output = log.read()
    assert "Exception in ASGI application" not in output, output


class Connection:
    """One raw HTTP/1.1 keep-alive connection, to see whether the server drops it."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, head: bytes, body: bytes = b"") -> None:
        self.sock.sendall(head + b"\r\nHost: test\r\n\r\n" + body)

    def request(self, method: str, target: str, body: bytes = b"", **headers: str):
        lines = [f"{method} {target} HTTP/1.1".encode()]
        for name, value in {"content-length": str(len(body)), **headers}.items():
            lines.append(f"{name.replace('_', '-')}: {value}".encode())
        self.send(b"\r\n".join(lines), body)
        return self.response()

    def response(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body); fails if the server closed the connection."""
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            self._read()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, json.loads(body)

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server closed the connection"
        self.buffer += chunk


ALIVE = (200, {"data": {"__typename": "Query"}})


@pytest.mark.slow
@pytest.mark.engine_agnostic  # the HTTP transport of a real server
def test_real_server_answers_malformed_requests_and_keeps_the_connection(
    gateway, tmp_path: Path
) -> None:
    """Against uvicorn, the requests that used to answer 500 and drop the connection (invalid
    UTF-8 in the body or a variable, JSON that is not an object) answer 400 with a code on
    a connection that stays open; oversized bodies answer 413 and the connection too stays
    usable; a URL over the limit answers 414 (uvicorn itself refuses request lines over
    about 64 KB, before the app sees them)."""
    url = gateway.settings.resolved_database_url
    with running_server(url, tmp_path, {"CRM_MAX_BODY_BYTES": "32768"}) as base:
        conn = Connection(base)
        try:
            json_post = {"content_type": JSON_TYPE}

            def typename() -> tuple[int, dict[str, Any]]:
                status, _, body = conn.request("POST", "/graphql", TYPENAME, **json_post)
                return status, body

            for body in (
                b'{"query": "{ __typename }\xff"}',
                b'{"query": "query($s: String) { __typename }", "variables": {"s": "\xc3("}}',
                b'"a string"',
                b"null",
                b"[]",
            ):
                status, headers, answer = conn.request("POST", "/graphql", body, **json_post)
                assert status == 400 and "data" not in answer
                assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
                assert headers.get("connection") != "close"
                assert typename() == ALIVE
            # 10 MB announced by Content-Length: 413, and the connection survives.
            big = padded(10 * 1024 * 1024)
            status, _, answer = conn.request("POST", "/graphql", big, **json_post)
            assert status == 413
            assert answer["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
            assert typename() == ALIVE
            # 10 MB streamed in chunks without a length: 413 too.
            conn.send(
                b"POST /graphql HTTP/1.1\r\ncontent-type: application/json\r\n"
                b"transfer-encoding: chunked",
                b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in [big[i : i + 65536]
                         for i in range(0, len(big), 65536)]) + b"0\r\n\r\n",
            )  # fmt: skip
            status, _, answer = conn.response()
            assert status == 413
            assert answer["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
            assert typename() == ALIVE
            status, _, answer = conn.request("GET", "/graphql?query=" + "x" * 40_000)
            assert status == 414
            assert answer["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        finally:
            conn.close()


@pytest.mark.slow
@pytest.mark.engine_agnostic  # the HTTP transport of a real server
def test_graphql_http_audit_suite_passes_against_a_real_server(gateway, tmp_path: Path) -> None:
    """Runs graphql-http's ``auditServer`` (npm) against uvicorn, signed in as a demo user
    (introspection is for signed-in callers). Skipped where Node.js or npm is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for graphql-http's audit suite")
    install = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(tmp_path),
         "graphql-http@1.23.1", "graphql@16"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.skip(f"could not install graphql-http from npm: {install.stderr[-500:]}")
    script = REPO / "scripts" / "graphql-http-audit.cjs"
    url = gateway.settings.resolved_database_url
    with running_server(url, tmp_path, demo=True) as base:
        run = subprocess.run(
            [node, str(script), f"{base}/graphql", "rep1@demo.test", "demo-password"],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "NODE_PATH": str(tmp_path / "node_modules")},
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed"), run.stdout
