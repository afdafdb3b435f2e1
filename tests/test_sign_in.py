"""Sign-in over HTTP: login, bearer tokens, me, logout, expiry, and what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.db import utcnow
from gateway.errors import Conflict
from gateway.identity import services as identity
from gateway.identity.models import AuthSession, Profile, ProfileKind, User

ME = "{ me { user { email displayName } tenant { slug name } profile { name kind builtin } } }"


def test_login_then_me_returns_user_tenant_and_profile(demo, gql):
    gql.login("rep1@demo.test")
    r = gql(ME)
    assert r.errors == []
    assert r.data["me"] == {
        "user": {"email": "rep1@demo.test", "displayName": "Rita Rep"},
        "tenant": {"slug": "demo", "name": "Demo Trading Ltd"},
        "profile": {"name": "Sales rep", "kind": "HIERARCHICAL", "builtin": False},
    }


def test_email_is_case_insensitive_and_admin_profile_is_builtin(demo, gql):
    gql.login("ADMIN@Demo.Test")
    me = gql(ME).data["me"]
    assert me["profile"] == {"name": "Administrator", "kind": "ADMINISTRATOR", "builtin": True}


def test_wrong_password_and_unknown_email_give_the_same_answer(demo, gql):
    q = 'mutation($e: String!) { login(email: $e, password: "nope-nope") { token errors { code message field } } }'
    wrong = gql(q, {"e": "rep1@demo.test"}).data["login"]
    unknown = gql(q, {"e": "nobody@demo.test"}).data["login"]
    assert wrong == unknown
    assert wrong["token"] is None
    assert wrong["errors"][0]["code"] == "UNAUTHENTICATED"


def test_anonymous_me_is_unauthenticated(demo, gql):
    r = gql(ME)
    assert r.codes == ["UNAUTHENTICATED"]


def test_bad_token_is_unauthenticated_with_a_reason(demo, gql):
    gql.token = "not-a-token"
    r = gql(ME)
    assert r.codes == ["UNAUTHENTICATED"]
    assert "invalid, expired or revoked" in r.errors[0]["message"]


def test_malformed_authorization_header(demo, app):
    r = app.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic abc"})
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in r.json()["errors"][0]["message"]


def test_logout_revokes_the_token(demo, gql):
    gql.login("rep2@demo.test")
    assert gql("mutation { logout { ok } }").data == {"logout": {"ok": True}}
    assert gql(ME).codes == ["UNAUTHENTICATED"]


def test_expired_token_is_refused(demo, gql, gateway):
    gql.login("rep2@demo.test")
    with gateway.db.transaction() as s:
        s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert gql(ME).codes == ["UNAUTHENTICATED"]


def test_deactivated_user_cannot_use_their_token(demo, gql, gateway):
    gql.login("rep2@demo.test")
    with gateway.db.transaction() as s:
        user = s.scalar(select(User).where(User.email == "rep2@demo.test"))
        identity.deactivate_user(s, user)
    assert gql(ME).codes == ["UNAUTHENTICATED"]


def test_passwords_are_argon2id_and_tokens_stored_hashed(demo, gql, gateway):
    gql.login("rep1@demo.test")
    with gateway.db.reading() as s:
        hashes = s.scalars(select(User.password_hash)).all()
        stored = s.scalars(select(AuthSession.token_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert gql.token not in stored
    assert identity.token_digest(gql.token) in stored


def test_interactive_hash_profile_is_rfc9106_argon2id():
    from gateway.identity.passwords import hash_password, verify_password

    h = hash_password("correct horse")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(h, "correct horse") and not verify_password(h, "wrong horse")


def test_tenant_never_loses_its_last_administrator(demo, gateway):
    with gateway.db.transaction() as s:
        admin = s.scalar(select(User).where(User.email == "admin@acme.test"))
        standard = s.scalar(
            select(Profile).where(Profile.tenant_id == admin.tenant_id, Profile.name == "Standard")
        )
        for attempt in (
            lambda: identity.deactivate_user(s, admin),
            lambda: identity.set_user_profile(s, admin, standard),
        ):
            with pytest.raises(Conflict, match="at least one active administrator"):
                attempt()
    # With a second administrator, the first can step down.
    with gateway.db.transaction() as s:
        admin = s.scalar(select(User).where(User.email == "admin@acme.test"))
        admin_profile = admin.profile
        assert admin_profile.kind is ProfileKind.ADMINISTRATOR
        identity.create_user(
            s,
            tenant_id=admin.tenant_id,
            email="second@acme.test",
            password="long-enough",
            display_name="Second",
            profile=admin_profile,
            hash_profile="fast",
        )
        identity.set_user_profile(s, admin, standard)
        assert admin.profile.name == "Standard"
