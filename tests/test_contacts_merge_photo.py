"""Duplicates, merge (with other modules' references re-pointed through the hook) and photos."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.test_contacts import CREATE, create

DUPLICATES = """{ contactDuplicates { reason value contacts { displayName email owner { email } tags { name } } } }"""
MERGE = """mutation($k: ID!, $m: ID!, $t: [String!]) { mergeContacts(keepId: $k, mergeId: $m, take: $t) {
  contact { displayName emails { address } phones { number } tags { name } address { city } customFields { key value } }
  errors { code message field } } }"""


def test_duplicates_are_found_among_visible_contacts(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    create(rep1, firstName="Dup", lastName="One", email="same@dup.example")
    create(rep2, firstName="Dup", lastName="Two", email="SAME@dup.example")
    create(rep1, firstName="Phone", lastName="A", phone="+34 600 999 888")
    create(rep1, firstName="Phone", lastName="B", phone="600999888")
    groups = manager(DUPLICATES).data["contactDuplicates"]
    by_reason = {
        (g["reason"], g["value"]): {c["displayName"] for c in g["contacts"]} for g in groups
    }
    assert by_reason[("EMAIL", "same@dup.example")] == {"Dup One", "Dup Two"}
    assert by_reason[("PHONE", "600999888")] == {"Phone A", "Phone B"}
    # rep2 cannot see rep1's contacts: no group reveals them
    seen_by_rep2 = {
        c["displayName"] for g in rep2(DUPLICATES).data["contactDuplicates"] for c in g["contacts"]
    }
    assert "Dup One" not in seen_by_rep2 and "Phone A" not in seen_by_rep2


def test_merge_keeps_one_unites_and_takes_chosen_fields(as_, gateway):
    manager = as_("manager")
    kept = create(
        manager,
        firstName="Maria",
        lastName="Lopez",
        email="maria@one.example",
        tags=["customer"],
        customFields=[{"key": "industry", "value": "Food"}],
    )
    merged = create(
        manager,
        firstName="María",
        lastName="López",
        email="maria@two.example",
        phone="+34 611 222 333",
        tags=["newsletter"],
        city="Sevilla",
        customFields=[{"key": "annual_revenue", "value": "1500"}],
    )
    r = manager(MERGE, {"k": kept["id"], "m": merged["id"], "t": ["city", "firstName", "lastName"]})
    assert r.errors == [], r.errors
    payload = r.data["mergeContacts"]
    assert payload["errors"] == []
    c = payload["contact"]
    assert c["displayName"] == "María López" and c["address"]["city"] == "Sevilla"
    assert [e["address"] for e in c["emails"]] == ["maria@one.example", "maria@two.example"]
    assert [p["number"] for p in c["phones"]] == ["+34 611 222 333"]
    assert {t["name"] for t in c["tags"]} == {"customer", "newsletter"}
    assert {f["key"]: f["value"] for f in c["customFields"]} == {
        "industry": "Food",
        "annual_revenue": "1500",
    }
    assert manager("query($id: ID!) { contact(id: $id) { id } }", {"id": merged["id"]}).data == {
        "contact": None
    }


def test_merge_needs_permission_and_write_access(as_):
    rep1, manager = as_("rep1"), as_("manager")
    a = create(rep1, firstName="A", lastName="Same")
    b = create(rep1, firstName="B", lastName="Same")
    assert rep1(MERGE, {"k": a["id"], "m": b["id"]}).codes == [
        "FORBIDDEN"
    ]  # reps lack contacts.merge
    public = create(as_("director"), firstName="Pub", lastName="Lic", access="PUBLIC_READ")
    r = manager(MERGE, {"k": a["id"], "m": public["id"]}).data["mergeContacts"]
    assert r["errors"][0]["code"] == "FORBIDDEN"  # visible (public) but the director's
    secret = create(as_("director"), firstName="Top", lastName="Secret")
    r = manager(MERGE, {"k": a["id"], "m": secret["id"]}).data["mergeContacts"]
    assert r["errors"][0]["code"] == "NOT_FOUND"  # invisible: no existence oracle
    company = manager(CREATE, {"input": {"kind": "COMPANY", "companyName": "Same Co"}}).data[
        "createContact"
    ]["contact"]
    r = manager(MERGE, {"k": a["id"], "m": company["id"]}).data["mergeContacts"]
    assert r["errors"][0]["field"] == "mergeId"


def _image(fmt: str, size: tuple[int, int], mode: str = "RGB") -> str:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(
        buffer, format=fmt
    )
    mime = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[fmt]
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def test_photo_is_resized_and_validated(as_):
    rep1 = as_("rep1")
    c = create(rep1, firstName="Photo", lastName="Genic")
    set_photo = "mutation($id: ID!, $d: String!) { setContactPhoto(id: $id, dataUrl: $d) { contact { photo } errors { code field } } }"
    r = rep1(set_photo, {"id": c["id"], "d": _image("JPEG", (1200, 900))}).data["setContactPhoto"]
    assert r["errors"] == []
    data = base64.b64decode(r["contact"]["photo"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (200, 150) and img.format == "JPEG"
    r = rep1(set_photo, {"id": c["id"], "d": _image("PNG", (100, 400), "RGBA")}).data[
        "setContactPhoto"
    ]
    with Image.open(io.BytesIO(base64.b64decode(r["contact"]["photo"].split(",", 1)[1]))) as img:
        assert img.size == (75, 300) and img.format == "PNG"
    not_image = "data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode()
    too_big = (
        "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * (1024 * 1024 + 10)).decode()
    )
    for bad in (not_image, too_big, "http://example.com/x.png"):
        r = rep1(set_photo, {"id": c["id"], "d": bad}).data["setContactPhoto"]
        assert r["errors"] == [{"code": "BAD_USER_INPUT", "field": "dataUrl"}]
    assert (
        as_("rep2")(set_photo, {"id": c["id"], "d": _image("GIF", (10, 10))}).data[
            "setContactPhoto"
        ]["errors"][0]["code"]
        == "NOT_FOUND"
    )
    removed = rep1(
        "mutation($id: ID!) { removeContactPhoto(id: $id) { contact { photo } } }", {"id": c["id"]}
    )
    assert removed.data["removeContactPhoto"]["contact"]["photo"] is None
