"""Sessions, password change, invitations by email (real SMTP) and link, organisation
settings, and a scan proving no secret is stored or logged in the clear."""

from __future__ import annotations

import base64
import logging
import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
from sqlalchemy import text

from gateway.testing import GraphQLClient

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201d0b8e8a10000000049454e44ae426082"
    )
).decode()


def test_sessions_list_revoke_and_password_change(demo, app):
    first = GraphQLClient(app).login("rep1@demo.test")
    second = GraphQLClient(app).login("rep1@demo.test")
    sessions = first("{ mySessions { id current client } }").data["mySessions"]
    assert len(sessions) == 2
    assert sorted(s["current"] for s in sessions) == [False, True]
    other = next(s["id"] for s in sessions if not s["current"])
    assert first("mutation($id: ID!) { revokeSession(id: $id) { ok } }", {"id": other}).data == {
        "revokeSession": {"ok": True}
    }
    assert second("{ me { user { email } } }").codes == ["UNAUTHENTICATED"]
    third = GraphQLClient(app).login("rep1@demo.test")
    wrong = first(
        'mutation { changePassword(currentPassword: "nope-nope", newPassword: "another-password") { ok errors { code } } }'
    )
    assert wrong.data["changePassword"]["errors"][0]["code"] == "UNAUTHENTICATED"
    short = first(
        'mutation { changePassword(currentPassword: "demo-password", newPassword: "short") { errors { code field } } }'
    )
    assert short.data["changePassword"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "newPassword"}
    ]
    ok = first(
        'mutation { changePassword(currentPassword: "demo-password", newPassword: "another-password") { ok errors { code } } }'
    )
    assert ok.data["changePassword"] == {"ok": True, "errors": []}
    assert third("{ me { user { email } } }").codes == ["UNAUTHENTICATED"]  # others revoked
    assert first("{ me { user { email } } }").errors == []  # the current one kept
    GraphQLClient(app).login("rep1@demo.test", "another-password")
    assert first("mutation { revokeAllSessions(keepCurrent: false) { ok } }").data[
        "revokeAllSessions"
    ]["ok"]
    assert first("{ me { user { email } } }").codes == ["UNAUTHENTICATED"]


def test_invitation_by_email_is_received_and_accepted(demo, mail_app):
    http, inbox = mail_app
    admin = GraphQLClient(http).login("admin@demo.test")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    sent = admin(
        'mutation($p: ID!) { inviteUser(email: "newbie@example.com", profileId: $p) { url expiresAt errors { code message } } }',
        {"p": profiles["Sales rep"]},
    )
    assert sent.data["inviteUser"]["errors"] == []
    (message,) = inbox.messages
    assert message["To"] == "newbie@example.com"
    assert "Demo Trading Ltd" in message["Subject"]
    body = message.get_content()
    url = re.search(r"https?://\S+", body).group(0)
    token = parse_qs(urlparse(url).query)["token"][0]
    anonymous = GraphQLClient(http)
    preview = anonymous(
        "query($t: String!) { invitation(token: $t) { email organization profile } }", {"t": token}
    )
    assert preview.data["invitation"] == {
        "email": "newbie@example.com",
        "organization": "Demo Trading Ltd",
        "profile": "Sales rep",
    }
    accepted = anonymous(
        """mutation($t: String!) { acceptInvitation(token: $t, displayName: "New Bie", password: "newbie-password") {
        token viewer { user { email } tenant { slug } profile { name } } errors { code message } } }""",
        {"t": token},
    )
    payload = accepted.data["acceptInvitation"]
    assert payload["errors"] == []
    assert payload["viewer"] == {
        "user": {"email": "newbie@example.com"},
        "tenant": {"slug": "demo"},
        "profile": {"name": "Sales rep"},
    }
    again = anonymous(
        """mutation($t: String!) { acceptInvitation(token: $t, displayName: "X", password: "x-password-x") { errors { code } } }""",
        {"t": token},
    )
    assert again.data["acceptInvitation"]["errors"][0]["code"] == "NOT_FOUND"
    GraphQLClient(http).login("newbie@example.com", "newbie-password")


def test_invitation_link_and_expiry(demo, app, gateway):
    admin = GraphQLClient(app).login("admin@demo.test")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    made = admin(
        "mutation($p: ID!) { createInvitationLink(profileId: $p) { url errors { code } } }",
        {"p": profiles["Back office"]},
    )
    token = parse_qs(urlparse(made.data["createInvitationLink"]["url"]).query)["token"][0]
    anonymous = GraphQLClient(app)
    forged = anonymous(
        """mutation { acceptInvitation(token: "forged", displayName: "F", password: "forged-password") { errors { code } } }"""
    )
    assert forged.data["acceptInvitation"]["errors"][0]["code"] == "NOT_FOUND"
    no_email = anonymous(
        """mutation($t: String!) { acceptInvitation(token: $t, displayName: "L", password: "link-password") { errors { code field } } }""",
        {"t": token},
    )
    assert no_email.data["acceptInvitation"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "email"}
    ]
    with gateway.db.transaction() as s:
        s.execute(
            text("UPDATE invitations SET expires_at = :t"), {"t": "2000-01-01 00:00:00+00:00"}
        )
    expired = anonymous(
        """mutation($t: String!) { acceptInvitation(token: $t, email: "l@example.com", displayName: "L", password: "link-password") { errors { code } } }""",
        {"t": token},
    )
    assert expired.data["acceptInvitation"]["errors"][0]["code"] == "NOT_FOUND"
    rep = GraphQLClient(app).login("rep1@demo.test")
    assert rep(
        "mutation($p: ID!) { createInvitationLink(profileId: $p) { url } }",
        {"p": profiles["Back office"]},
    ).codes == ["FORBIDDEN"]


def test_invitation_by_email_without_smtp_is_a_clear_error(demo, app):
    admin = GraphQLClient(app).login("admin@demo.test")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    r = admin(
        'mutation($p: ID!) { inviteUser(email: "x@example.com", profileId: $p) { url errors { code message } } }',
        {"p": profiles["Standard"]},
    )
    assert r.data["inviteUser"]["url"] is None
    assert r.data["inviteUser"]["errors"][0]["code"] == "CONFLICT"
    assert "CRM_SMTP_HOST" in r.data["inviteUser"]["errors"][0]["message"]


def test_organization_settings_and_logo(demo, client_for):
    admin = client_for("admin@demo.test")
    r = admin("""mutation { updateOrganization(input: {name: "Demo Trading", language: "es-ES", timezone: "Europe/Madrid",
        legalName: "Demo Trading S.L.", fiscalId: "B12345678", website: "https://demo.test"}) {
        organization { name language timezone legalName fiscalId website } errors { code field } } }""")
    assert r.data["updateOrganization"] == {
        "organization": {
            "name": "Demo Trading",
            "language": "es-ES",
            "timezone": "Europe/Madrid",
            "legalName": "Demo Trading S.L.",
            "fiscalId": "B12345678",
            "website": "https://demo.test",
        },
        "errors": [],
    }
    bad_tz = admin(
        'mutation { updateOrganization(input: {timezone: "Mars/Olympus"}) { errors { code field } } }'
    )
    assert bad_tz.data["updateOrganization"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": "timezone"}
    ]
    logo = admin(
        "mutation($d: String!) { setOrganizationLogo(dataUrl: $d) { organization { logo } errors { code } } }",
        {"d": f"data:image/png;base64,{PNG}"},
    )
    assert (
        logo.data["setOrganizationLogo"]["organization"]["logo"] == f"data:image/png;base64,{PNG}"
    )
    for bad in (
        f"data:image/svg+xml;base64,{base64.b64encode(b'<svg/>').decode()}",
        f"data:image/jpeg;base64,{PNG}",
        "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 600_000).decode(),
    ):
        refused = admin(
            "mutation($d: String!) { setOrganizationLogo(dataUrl: $d) { errors { code field } } }",
            {"d": bad},
        )
        assert refused.data["setOrganizationLogo"]["errors"] == [
            {"code": "BAD_USER_INPUT", "field": "dataUrl"}
        ]
    rep = client_for("rep1@demo.test")
    assert rep("{ organization { name timezone } }").data == {
        "organization": {"name": "Demo Trading", "timezone": "Europe/Madrid"}
    }
    assert rep('mutation { updateOrganization(input: {name: "x"}) { errors { code } } }').codes == [
        "FORBIDDEN"
    ]


def test_nothing_secret_is_stored_or_logged_in_the_clear(demo, mail_app, gateway, caplog):
    http, _inbox = mail_app
    secrets: list[str] = ["demo-password"]
    with caplog.at_level(logging.DEBUG):
        rep = GraphQLClient(http).login("rep1@demo.test")
        secrets.append(rep.token)
        enrolment = rep("mutation { enrollTwoFactor { enrolment { secret } } }").data[
            "enrollTwoFactor"
        ]["enrolment"]
        totp = pyotp.TOTP(enrolment["secret"])
        secrets.append(enrolment["secret"])
        codes = rep(
            "mutation($c: String!) { confirmTwoFactor(code: $c) { recoveryCodes } }",
            {"c": totp.at(time.time() - 30)},
        ).data["confirmTwoFactor"]["recoveryCodes"]
        secrets += codes
        gql = GraphQLClient(http)
        ch = gql(
            'mutation { login(email: "rep1@demo.test", password: "demo-password") { challenge } }'
        ).data["login"]["challenge"]
        secrets.append(ch)
        done = gql(
            "mutation($ch: String!, $c: String!) { verifyTwoFactor(challenge: $ch, code: $c) { token } }",
            {"ch": ch, "c": codes[0]},
        ).data["verifyTwoFactor"]
        secrets.append(done["token"])
        admin = GraphQLClient(http).login("admin@demo.test")
        secrets.append(admin.token)
        profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
        link = admin(
            "mutation($p: ID!) { createInvitationLink(profileId: $p) { url } }",
            {"p": profiles["Standard"]},
        )
        token = parse_qs(urlparse(link.data["createInvitationLink"]["url"]).query)["token"][0]
        secrets.append(token)
        GraphQLClient(http)(
            """mutation($t: String!) { acceptInvitation(token: $t, email: "scan@example.com",
            displayName: "Scan", password: "scan-password-1") { token } }""",
            {"t": token},
        )
        secrets.append("scan-password-1")
    dump = []
    with gateway.db.engine.connect() as conn:
        for table in gateway.registry.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes):
                        dump.append(value.decode("latin-1"))
                    elif value is not None:
                        dump.append(str(value))
    stored = "\n".join(dump)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in stored, secret
        assert secret.replace("-", "") not in stored
        assert secret not in logged, secret
