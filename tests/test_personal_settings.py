"""Personal settings (MISSION I3) and the administrators' two-factor reset (I2), over HTTP."""

from __future__ import annotations

import base64
import io

from PIL import Image

from gateway.testing import GraphQLClient
from tests.test_two_factor import enrol

SETTINGS = (
    "{ me { settings { language timezone effectiveLanguage effectiveTimezone emailSignature } } }"
)
UPDATE = """mutation($i: MySettingsInput!) { updateMySettings(input: $i) {
  settings { language timezone effectiveLanguage effectiveTimezone emailSignature }
  errors { code field } } }"""
PHOTO = (
    """mutation($d: String!) { setMyPhoto(dataUrl: $d) { user { photo } errors { code field } } }"""
)
RESET = """mutation($id: ID!) { resetUserTwoFactor(userId: $id) {
  user { email twoFactorEnabled } errors { code field message } } }"""


def _settings(client) -> dict:
    return client(SETTINGS).data["me"]["settings"]


def _update(client, **values) -> dict:
    r = client(UPDATE, {"i": values})
    assert r.errors == [], r.errors
    return r.data["updateMySettings"]


def test_settings_default_to_the_organisation_and_can_return_to_it(as_):
    rep1 = as_("rep1")
    assert _settings(rep1) == {
        "language": None,
        "timezone": None,
        "effectiveLanguage": "en",
        "effectiveTimezone": "UTC",
        "emailSignature": "",
    }
    done = _update(rep1, language="es-ES", timezone="Europe/Madrid", emailSignature="Rob\nSales  ")
    assert done["errors"] == []
    assert done["settings"] == {
        "language": "es-ES",
        "timezone": "Europe/Madrid",
        "effectiveLanguage": "es-ES",
        "effectiveTimezone": "Europe/Madrid",
        "emailSignature": "Rob\nSales",
    }
    # omitted fields keep their value; null returns to the organisation's
    assert _update(rep1, timezone=None)["settings"]["effectiveTimezone"] == "UTC"
    assert _settings(rep1)["language"] == "es-ES"
    assert _settings(as_("rep2"))["language"] is None  # one user's settings are theirs


def test_bad_settings_are_refused_whole(as_):
    rep1 = as_("rep1")
    refused = _update(rep1, language="fr", timezone="Mars/Olympus")
    assert refused["errors"] == [{"code": "BAD_USER_INPUT", "field": "timezone"}]
    assert _settings(rep1)["language"] is None  # nothing written
    assert _update(rep1, language="not a tag")["errors"][0]["field"] == "language"
    for bad in ("x" * 2001, "bell \u0007"):  # refused at the edge, before any resolver
        r = rep1(UPDATE, {"i": {"emailSignature": bad}})
        assert r.codes == ["BAD_USER_INPUT"]
        assert r.errors[0]["extensions"]["field"] == "input.emailSignature"


def _png(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_a_photo_is_shrunk_shown_to_colleagues_and_removable(as_):
    rep1 = as_("rep1")
    r = rep1(PHOTO, {"d": _png(800, 400)}).data["setMyPhoto"]
    assert r["errors"] == []
    photo = r["user"]["photo"]
    assert photo.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(photo.split(",", 1)[1]))) as image:
        assert image.size == (256, 128)
    users = as_("rep2")("{ users { email photo } }").data["users"]
    assert {u["email"]: u["photo"] for u in users}["rep1@demo.test"] == photo
    bad = rep1(PHOTO, {"d": "data:image/png;base64,bm90IGFuIGltYWdl"}).data["setMyPhoto"]
    assert bad["errors"] == [{"code": "BAD_USER_INPUT", "field": "dataUrl"}]
    gone = rep1("mutation { removeMyPhoto { user { photo } errors { code } } }")
    assert gone.data["removeMyPhoto"] == {"user": {"photo": None}, "errors": []}


def _user_id(admin, email: str) -> str:
    users = admin("{ users { id email } }").data["users"]
    return next(u["id"] for u in users if u["email"] == email)


def test_an_administrator_resets_a_users_second_factor(demo, mail_app):
    http, inbox = mail_app
    rep1 = GraphQLClient(http).login("rep1@demo.test")
    admin = GraphQLClient(http).login("admin@demo.test")
    enrol(rep1)
    rep_id = _user_id(admin, "rep1@demo.test")
    assert admin(RESET, {"id": rep_id}).data["resetUserTwoFactor"] == {
        "user": {"email": "rep1@demo.test", "twoFactorEnabled": False},
        "errors": [],
    }
    # every session of the user ended; the user is told, in the app and by email
    assert rep1("{ me { user { email } } }").codes == ["UNAUTHENTICATED"]
    rep1 = GraphQLClient(http).login("rep1@demo.test")  # the password alone signs in again
    notes = rep1("{ notifications { kind title } }").data["notifications"]
    assert any(n["kind"] == "identity.two_factor_reset" for n in notes)
    [message] = [m for m in inbox.messages if m["To"] == "rep1@demo.test"]
    assert message["Subject"] == "Your two-factor sign-in was reset"
    # nothing left to reset; not for a non-administrator; not across organisations
    again = admin(RESET, {"id": rep_id}).data["resetUserTwoFactor"]
    assert again["errors"][0]["code"] == "BAD_USER_INPUT"
    assert rep1(RESET, {"id": rep_id}).codes == ["FORBIDDEN"]
    other = GraphQLClient(http).login("admin@acme.test")
    assert other(RESET, {"id": rep_id}).data["resetUserTwoFactor"]["errors"][0]["code"] == (
        "NOT_FOUND"
    )
