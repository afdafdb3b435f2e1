"""Hardening (DESIGN §4, §6): limits, masking, introspection, GET, content types, pages."""

from __future__ import annotations

import logging
from dataclasses import replace

from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.testing import GraphQLClient


def test_101_aliases_are_refused(demo, client_for):
    rep = client_for("rep1@demo.test")
    query = "{ " + " ".join(f"a{i}: me {{ user {{ email }} }}" for i in range(101)) + " }"
    r = rep(query)
    assert r.data == {}
    assert r.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in r.errors[0]["message"]
    ok = "{ " + " ".join(f"a{i}: me {{ user {{ email }} }}" for i in range(100)) + " }"
    assert rep(ok).errors == []


def test_101_aliased_logins_are_refused_before_any_attempt(demo, gql):
    query = (
        "mutation { "
        + " ".join(
            f'a{i}: login(email: "rep1@demo.test", password: "guess{i}") {{ token }}'
            for i in range(101)
        )
        + " }"
    )
    r = gql(query)
    assert r.codes == ["GRAPHQL_VALIDATION_FAILED"] and r.data == {}


def test_depth_limit(demo, gateway, client_for):
    token = client_for("rep1@demo.test").token
    shallow = Gateway(
        settings=replace(gateway.settings, max_query_depth=1),
        db=gateway.db,
        registry=gateway.registry,
    )
    with TestClient(create_app(shallow)) as http:
        rep = GraphQLClient(http)
        rep.token = token
        assert rep("{ me { user { email } } }").codes == ["GRAPHQL_VALIDATION_FAILED"]
        assert (
            "exceeds maximum operation depth"
            in rep("{ me { user { email } } }").errors[0]["message"]
        )
        assert rep("{ me { enabledModules } }").errors == []


def test_token_limit(demo, client_for, gateway):
    rep = client_for("rep1@demo.test")
    fields = " ".join(["__typename"] * (gateway.settings.max_tokens + 1))
    r = rep("{ " + fields + " }")
    assert r.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "token" in r.errors[0]["message"].lower()


def test_no_field_suggestions(demo, client_for):
    r = client_for("rep1@demo.test")("{ me { user { emial } } }")
    assert r.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in r.errors[0]["message"]


def test_introspection_only_for_signed_in_callers(demo, gql, client_for):
    r = gql("{ __schema { types { name } } }")
    assert r.data == {} and r.codes == ["UNAUTHENTICATED"]
    assert r.errors[0]["message"].startswith("Sign in to read the schema")
    assert client_for("rep1@demo.test")("{ __schema { types { name } } }").errors == []


def test_anonymous_callers_learn_to_sign_in_not_that_a_field_is_unknown(demo, gql):
    r = gql("{ notes { title } }")
    assert r.codes == ["UNAUTHENTICATED"]


def test_unexpected_exception_is_masked_and_logged_with_request_id(demo, client_for, app, caplog):
    rep = client_for("rep1@demo.test")
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        resp = app.post("/graphql", json={"query": "{ boom }"}, headers=rep.headers())
    body = resp.json()
    assert "hunter2" not in resp.text
    (error,) = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert resp.headers["x-request-id"] == request_id
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and "hunter2" in str(logged[0].exc_info[1])


def test_mutations_are_refused_over_get(demo, client_for, app):
    rep = client_for("rep1@demo.test")
    r = app.get("/graphql", params={"query": "mutation { logout { ok } }"}, headers=rep.headers())
    assert r.status_code in (400, 405)
    # the session is still alive
    assert rep("{ me { user { email } } }").errors == []
    ok = app.get("/graphql", params={"query": "{ me { user { email } } }"}, headers=rep.headers())
    assert ok.json()["data"]["me"]["user"]["email"] == "rep1@demo.test"


def test_only_json_bodies_are_accepted(demo, app):
    form = app.post("/graphql", data={"query": "{ __typename }"})
    text = app.post("/graphql", content="{ __typename }", headers={"content-type": "text/plain"})
    assert form.status_code >= 400 and text.status_code >= 400


def test_batched_requests_are_refused(demo, app):
    r = app.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert r.status_code == 400


def test_page_size_is_capped_with_a_clear_error(demo, client_for, gateway):
    rep = client_for("rep1@demo.test")
    cap = gateway.settings.max_page_size
    r = rep("query($n: Int) { notes(first: $n) { title } }", {"n": cap + 1})
    assert r.codes == ["BAD_USER_INPUT"]
    assert r.errors[0]["extensions"]["field"] == "first"
    assert rep("query($n: Int) { notes(first: $n) { title } }", {"n": cap}).errors == []


def test_bad_variables_are_bad_user_input(demo, client_for):
    r = client_for("rep1@demo.test")("query($n: Int) { notes(first: $n) { title } }", {"n": "x"})
    assert r.codes == ["BAD_USER_INPUT"]


def test_graphiql_is_served(app):
    r = app.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()
