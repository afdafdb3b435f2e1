"""Vacation approval (MISSION A12): request, approve step by step, reject, cancel; typed
refusals; notifications to approvers and requester; the profile's approval policy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.graphql.common import global_id

FIELDS = "id status startsOn endsOn note awaiting { email } approvers { email } decisionNote"
REQUEST = f"""mutation($i: RequestVacationInput!) {{ requestVacation(input: $i) {{
  request {{ {FIELDS} }} errors {{ code field message }} }} }}"""
APPROVE = f"""mutation($id: ID!, $n: String) {{ approveVacation(id: $id, note: $n) {{
  request {{ {FIELDS} }} errors {{ code field }} }} }}"""
REJECT = f"""mutation($id: ID!, $n: String) {{ rejectVacation(id: $id, note: $n) {{
  request {{ {FIELDS} }} errors {{ code field }} }} }}"""
CANCEL = f"""mutation($id: ID!) {{ cancelVacation(id: $id) {{
  request {{ {FIELDS} }} errors {{ code field }} }} }}"""
MINE = f"{{ myVacationRequests {{ {FIELDS} }} }}"
TO_APPROVE = f"{{ vacationRequestsToApprove {{ {FIELDS} user {{ email }} }} }}"
POLICY = """mutation($p: ID!, $l: Int!, $a: ID) { setVacationPolicy(profileId: $p, levels: $l,
  approverId: $a) { policy { levels builtin approver { email } } errors { code field } } }"""
NOTES = "{ notifications { kind title subjectId } }"

SOON = date.today() + timedelta(days=30)


def ask(client, starts=SOON, days=5, note="Summer"):
    variables = {
        "i": {
            "startsOn": starts.isoformat(),
            "endsOn": (starts + timedelta(days=days - 1)).isoformat(),
            "note": note,
        }
    }
    return client(REQUEST, variables).data["requestVacation"]


def kinds(client) -> list[tuple[str, str]]:
    return [(n["kind"], n["subjectId"]) for n in client(NOTES).data["notifications"]]


@pytest.fixture
def admin(demo, as_):
    return as_("admin")


def test_two_step_approval_up_the_hierarchy(demo, admin, as_):
    rep = demo["demo"].profiles["Sales rep"]
    policy = admin(POLICY, {"p": global_id("Profile", rep.id), "l": 2})
    assert policy.data["setVacationPolicy"]["policy"] == {
        "levels": 2,
        "builtin": False,
        "approver": None,
    }
    rep1, manager, director = as_("rep1"), as_("manager"), as_("director")
    asked = ask(rep1)
    assert asked["errors"] == []
    request = asked["request"]
    assert request["status"] == "PENDING"
    assert [a["email"] for a in request["approvers"]] == [
        "manager@demo.test",
        "director@demo.test",
    ]
    assert ("vacation.requested", request["id"]) in kinds(manager)
    # the director's turn has not come
    early = director(APPROVE, {"id": request["id"]}).data["approveVacation"]
    assert early["errors"] == [{"code": "FORBIDDEN", "field": None}]
    # someone outside the chain is told it does not exist
    assert as_("rep2")(APPROVE, {"id": request["id"]}).data["approveVacation"]["errors"] == [
        {"code": "NOT_FOUND", "field": "id"}
    ]
    todo = manager(TO_APPROVE).data["vacationRequestsToApprove"]
    assert [(t["id"], t["user"]["email"]) for t in todo] == [(request["id"], "rep1@demo.test")]
    step = manager(APPROVE, {"id": request["id"], "n": "fine by me"}).data["approveVacation"]
    assert step["request"]["status"] == "PENDING"
    assert step["request"]["awaiting"] == {"email": "director@demo.test"}
    assert manager(TO_APPROVE).data["vacationRequestsToApprove"] == []
    assert ("vacation.requested", request["id"]) in kinds(director)
    done = director(APPROVE, {"id": request["id"]}).data["approveVacation"]["request"]
    assert done["status"] == "APPROVED" and done["awaiting"] is None
    assert ("vacation.approved", request["id"]) in kinds(rep1)
    again = director(APPROVE, {"id": request["id"]}).data["approveVacation"]
    assert again["errors"] == [{"code": "CONFLICT", "field": "id"}]
    # an approved vacation not yet started may be cancelled; both approvers are told
    cancelled = rep1(CANCEL, {"id": request["id"]}).data["cancelVacation"]["request"]
    assert cancelled["status"] == "CANCELLED"
    assert ("vacation.cancelled", request["id"]) in kinds(manager)
    assert ("vacation.cancelled", request["id"]) in kinds(director)
    assert [r["status"] for r in rep1(MINE).data["myVacationRequests"]] == ["CANCELLED"]


def test_reject_cancel_and_bad_requests(demo, as_):
    rep1, manager = as_("rep1"), as_("manager")
    request = ask(rep1)["request"]
    # overlapping days are refused while the first request stands
    assert ask(rep1, starts=SOON + timedelta(days=2))["errors"][0]["code"] == "CONFLICT"
    bad = ask(rep1, starts=SOON + timedelta(days=90), days=0)
    assert bad["errors"][0]["code"] == "BAD_USER_INPUT"
    assert bad["errors"][0]["field"] == "endsOn"
    # only the requester cancels
    not_theirs = manager(CANCEL, {"id": request["id"]}).data["cancelVacation"]
    assert not_theirs["errors"] == [{"code": "FORBIDDEN", "field": None}]
    rejected = manager(REJECT, {"id": request["id"], "n": "busy month"}).data["rejectVacation"]
    assert rejected["request"]["status"] == "REJECTED"
    assert rejected["request"]["decisionNote"] == "busy month"
    assert ("vacation.rejected", request["id"]) in kinds(rep1)
    assert rep1(CANCEL, {"id": request["id"]}).data["cancelVacation"]["errors"] == [
        {"code": "CONFLICT", "field": "id"}
    ]
    # a rejected request frees its days
    retry = ask(rep1, starts=SOON + timedelta(days=2))
    assert retry["errors"] == []
    withdrawn = rep1(CANCEL, {"id": retry["request"]["id"]}).data["cancelVacation"]["request"]
    assert withdrawn["status"] == "CANCELLED"


def test_named_approver_and_nobody_to_approve(demo, admin, as_):
    profiles = demo["demo"].profiles
    backoffice = demo["demo"].users["backoffice@demo.test"]
    # the director has no manager: nobody approves until a named approver is set
    refused = ask(as_("director"))
    assert refused["request"] is None and refused["errors"][0]["code"] == "CONFLICT"
    variables = {
        "p": global_id("Profile", profiles["Director"].id),
        "l": 1,
        "a": global_id("User", backoffice.id),
    }
    set_ = admin(POLICY, variables).data["setVacationPolicy"]
    assert set_["policy"]["approver"] == {"email": "backoffice@demo.test"}
    asked = ask(as_("director"))["request"]
    assert asked["approvers"] == [{"email": "backoffice@demo.test"}]
    assert as_("rep1")(POLICY, variables).codes == ["FORBIDDEN"]
    too_many = admin(POLICY, {**variables, "l": 9}).data["setVacationPolicy"]
    assert too_many["errors"] == [{"code": "BAD_USER_INPUT", "field": "levels"}]


ABSENCES = """query($f: Date!, $t: Date!) { absences(from: $f, to: $t) {
  user { email } startsOn endsOn } }"""


def test_approved_vacations_show_in_the_calendar_to_those_who_see_the_user(demo, as_):
    rep1, manager = as_("rep1"), as_("manager")
    request = ask(rep1)["request"]
    window = {"f": (SOON - timedelta(days=3)).isoformat(), "t": SOON.isoformat()}
    assert manager(ABSENCES, window).data["absences"] == []  # pending: not an absence yet
    manager(APPROVE, {"id": request["id"]})
    away = {"email": "rep1@demo.test"}
    expected = [{"user": away, "startsOn": request["startsOn"], "endsOn": request["endsOn"]}]
    for who in ("rep1", "manager", "director", "backoffice", "assistant"):
        assert as_(who)(ABSENCES, window).data["absences"] == expected, who
    assert as_("rep2")(ABSENCES, window).data["absences"] == []  # a peer, not above rep1
    assert as_("admin@acme.test")(ABSENCES, window).data["absences"] == []  # other tenant
    before = {"f": (SOON - timedelta(days=60)).isoformat(), "t": (SOON - timedelta(1)).isoformat()}
    assert manager(ABSENCES, before).data["absences"] == []
    too_long = {"f": "2000-01-01", "t": window["t"]}
    assert manager(ABSENCES, too_long).codes == ["BAD_USER_INPUT"]
    backwards = manager(ABSENCES, {"f": window["t"], "t": window["f"]})
    assert backwards.codes == ["BAD_USER_INPUT"]
