"""Two-factor sign-in over HTTP, with pyotp generating the codes the way an app would."""

from __future__ import annotations

import time

import pyotp
import pytest

from gateway.testing import GraphQLClient

ENROLL = "mutation { enrollTwoFactor { enrolment { secret otpauthUri qrCode } errors { code message } } }"
CONFIRM = "mutation($c: String!) { confirmTwoFactor(code: $c) { recoveryCodes errors { code message field } } }"
LOGIN = """mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  token twoFactorRequired challenge errors { code message } } }"""
VERIFY = """mutation($ch: String!, $c: String!) { verifyTwoFactor(challenge: $ch, code: $c) {
  token viewer { user { email } twoFactorEnabled } errors { code message } } }"""


def steady_clock() -> None:
    """Codes are computed here and checked a moment later on the server: avoid the last
    seconds of a 30-second step so a ±1 step assertion cannot straddle two steps."""
    if time.time() % 30 > 24:
        time.sleep(30 - time.time() % 30 + 0.1)


def enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    steady_clock()
    enrolment = client(ENROLL).data["enrollTwoFactor"]["enrolment"]
    totp = pyotp.TOTP(enrolment["secret"])
    assert enrolment["otpauthUri"].startswith("otpauth://totp/")
    assert "secret=" + enrolment["secret"] in enrolment["otpauthUri"]
    assert enrolment["qrCode"].startswith("data:image/svg+xml")
    confirmed = client(CONFIRM, {"c": totp.at(time.time() - 30)}).data["confirmTwoFactor"]
    assert confirmed["errors"] == []
    assert len(confirmed["recoveryCodes"]) == 10
    assert len(set(confirmed["recoveryCodes"])) == 10
    return totp, confirmed["recoveryCodes"]


def challenge(gql, email="rep1@demo.test", password="demo-password"):
    payload = gql(LOGIN, {"e": email, "p": password}).data["login"]
    assert payload["errors"] == []
    assert payload["twoFactorRequired"] is True and payload["token"] is None
    return payload["challenge"]


def verify(gql, ch, code):
    return gql(VERIFY, {"ch": ch, "c": code}).data["verifyTwoFactor"]


@pytest.fixture
def enrolled(demo, client_for):
    return enrol(client_for("rep1@demo.test"))


def test_enrol_then_sign_in_with_a_code(enrolled, app):
    totp, _ = enrolled
    gql = GraphQLClient(app)
    done = verify(gql, challenge(gql), totp.now())
    assert done["errors"] == []
    assert done["viewer"] == {"user": {"email": "rep1@demo.test"}, "twoFactorEnabled": True}
    gql.token = done["token"]
    assert gql("{ me { user { email } } }").data == {"me": {"user": {"email": "rep1@demo.test"}}}


def test_a_code_is_accepted_once_and_drift_of_one_step(enrolled, app):
    totp, _ = enrolled
    gql = GraphQLClient(app)
    steady_clock()
    now = time.time()
    # enrolment consumed the previous step; the current one works once...
    first = verify(gql, challenge(gql), totp.at(now))
    assert first["errors"] == []
    replay = verify(gql, challenge(gql), totp.at(now))
    assert replay["errors"][0]["code"] == "UNAUTHENTICATED"
    # ...the next step (clock drift of +1) works, two steps away does not
    assert verify(gql, challenge(gql), totp.at(now + 90))["errors"][0]["code"] == "UNAUTHENTICATED"
    assert verify(gql, challenge(gql), totp.at(now + 30))["errors"] == []


def test_recovery_code_works_once(enrolled, app):
    _, codes = enrolled
    gql = GraphQLClient(app)
    assert verify(gql, challenge(gql), codes[0])["errors"] == []
    assert verify(gql, challenge(gql), codes[0])["errors"][0]["code"] == "UNAUTHENTICATED"
    assert verify(gql, challenge(gql), codes[1].upper())["errors"] == []


def test_challenge_is_single_use_and_wrong_password_gives_no_challenge(enrolled, app):
    totp, _ = enrolled
    gql = GraphQLClient(app)
    ch = challenge(gql)
    assert verify(gql, ch, totp.now())["errors"] == []
    again = verify(gql, ch, totp.at(time.time() + 30))
    assert again["errors"][0]["code"] == "UNAUTHENTICATED"
    wrong = gql(LOGIN, {"e": "rep1@demo.test", "p": "wrong-password"}).data["login"]
    assert wrong["challenge"] is None and wrong["errors"][0]["code"] == "UNAUTHENTICATED"


def test_repeated_failures_lock_the_account(enrolled, app, gateway):
    gql = GraphQLClient(app)
    limit = gateway.settings.max_failures_per_account
    for _ in range(limit):
        r = gql(LOGIN, {"e": "rep1@demo.test", "p": "wrong-password"}).data["login"]
        assert r["errors"][0]["code"] == "UNAUTHENTICATED"
    locked = gql(LOGIN, {"e": "rep1@demo.test", "p": "demo-password"}).data["login"]
    assert locked["errors"][0]["code"] == "RATE_LIMITED"
    assert "try again in" in locked["errors"][0]["message"]
    # an unknown email locks the same way, so a lock reveals nothing
    for _ in range(limit):
        gql(LOGIN, {"e": "ghost@demo.test", "p": "wrong-password"})
    assert (
        gql(LOGIN, {"e": "ghost@demo.test", "p": "x"}).data["login"]["errors"][0]["code"]
        == "RATE_LIMITED"
    )


def test_twenty_aliased_code_guesses_cannot_pass_the_limit(enrolled, app, gateway):
    totp, _ = enrolled
    gql = GraphQLClient(app)
    ch = challenge(gql)
    guesses = [f"{n:06d}" for n in range(19)] + [totp.now()]  # the right code comes last
    query = (
        "mutation {"
        + " ".join(
            f'a{i}: verifyTwoFactor(challenge: "{ch}", code: "{code}") {{ token errors {{ code }} }}'
            for i, code in enumerate(guesses)
        )
        + "}"
    )
    r = gql(query)
    assert r.errors == []
    answers = [r.data[f"a{i}"] for i in range(20)]
    assert all(a["token"] is None for a in answers)
    codes = [a["errors"][0]["code"] for a in answers]
    limit = gateway.settings.max_failures_per_account
    assert codes[:limit] == ["UNAUTHENTICATED"] * limit
    # past the limit nothing is checked any more: the account is locked and the challenge
    # burnt, so even the right code, last, gets no token
    assert set(codes[limit:]) <= {"RATE_LIMITED", "UNAUTHENTICATED"}
    again = gql(LOGIN, {"e": "rep1@demo.test", "p": "demo-password"}).data["login"]
    assert again["errors"][0]["code"] == "RATE_LIMITED"


def test_disable_needs_password_and_code(enrolled, client_for, app):
    totp, _ = enrolled
    gql = GraphQLClient(app)
    gql.token = verify(gql, challenge(gql), totp.now())["token"]
    bad = gql(
        'mutation { disableTwoFactor(password: "wrong-password", code: "000000") { ok errors { code } } }'
    )
    assert bad.data["disableTwoFactor"]["errors"][0]["code"] == "UNAUTHENTICATED"
    ok = gql(
        'mutation($c: String!) { disableTwoFactor(password: "demo-password", code: $c) { ok errors { code } } }',
        {"c": totp.at(time.time() + 30)},
    )
    assert ok.data["disableTwoFactor"] == {"ok": True, "errors": []}
    plain = gql(LOGIN, {"e": "rep1@demo.test", "p": "demo-password"}).data["login"]
    assert plain["token"] and plain["twoFactorRequired"] is False


def test_policy_requires_enrolment_before_anything_else(demo, client_for, app):
    admin = client_for("admin@demo.test")
    r = admin(
        "mutation { updateOrganization(input: {requireTwoFactor: true}) { organization { requireTwoFactor } errors { code } } }"
    )
    assert r.data["updateOrganization"] == {
        "organization": {"requireTwoFactor": True},
        "errors": [],
    }
    rep2 = client_for("rep2@demo.test")
    assert rep2("{ me { twoFactorEnrolmentRequired } }").data == {
        "me": {"twoFactorEnrolmentRequired": True}
    }
    blocked = rep2("{ notes { title } }")
    assert blocked.codes == ["FORBIDDEN"]
    assert blocked.errors[0]["extensions"]["reason"] == "TWO_FACTOR_ENROLMENT_REQUIRED"
    totp, _ = enrol(rep2)
    assert rep2("{ notes { title } }").errors == []  # the same session, now enrolled
    # and the next sign-in asks for a code
    gql = GraphQLClient(app)
    ch = challenge(gql, "rep2@demo.test")
    assert verify(gql, ch, totp.now())["errors"] == []
