"""Calendar cases over HTTP on both engines (MISSION T5): the write path, participants, tags,
custom fields, documents and their download links, the tasks of a case, and record access
on every path — open to all by default, restricted to chosen users (who are notified) —
plus field rules and a statement budget constant in page size."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

CASE_FIELDS = """id title description status closedAt access restricted
  restrictedTo { email } owner { email } participants { id displayName }
  tags { name } customFields { key value } tasks { id title }
  documents { id name size contentType addedBy { email } downloadUrl }"""
CREATE = f"""mutation($i: CreateCaseInput!) {{ createCase(input: $i) {{
  case {{ {CASE_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($id: ID!, $i: UpdateCaseInput!) {{ updateCase(id: $id, input: $i) {{
  case {{ {CASE_FIELDS} }} errors {{ code message field }} }} }}"""
CLOSE = """mutation($id: ID!) { closeCase(id: $id) { case { status closedAt } errors { code } } }"""
REOPEN = (
    """mutation($id: ID!) { reopenCase(id: $id) { case { status closedAt } errors { code } } }"""
)
DELETE = """mutation($id: ID!) { deleteCase(id: $id) { deletedId errors { code } } }"""
ADD = """mutation($id: ID!, $c: [ID!]!) { addCaseParticipants(id: $id, contactIds: $c) {
  case { participants { id } } errors { code field } } }"""
REMOVE = """mutation($id: ID!, $c: [ID!]!) { removeCaseParticipants(id: $id, contactIds: $c) {
  case { participants { id } } errors { code field } } }"""
ATTACH = """mutation($id: ID!, $f: ID!) { attachCaseDocument(id: $id, fileId: $f) {
  document { id name downloadUrl } case { documents { id } } errors { code field } } }"""
DETACH = """mutation($id: ID!, $d: ID!) { detachCaseDocument(id: $id, documentId: $d) {
  case { documents { id } } errors { code field } } }"""
LIST = """query($f: CaseFilterInput, $n: Int) { cases(first: $n, filter: $f) {
  totalCount edges { node { id title } } } }"""
ONE = """query($id: ID!) { case(id: $id) { id title } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Case { title } } }"""
TASK = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id caseId case { title } } errors { code field } } }"""
TASKS = """query($f: TaskFilterInput) { tasks(first: 50, filter: $f) {
  totalCount edges { node { id title caseId case { id } } } } }"""
CONTACTS = "{ contacts(first: 100) { edges { node { id lastName companyName } } } }"
NOTES = "{ notifications { kind title subjectId } }"


def _users(admin):
    return {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }


def _contacts(client):
    edges = client(CONTACTS).data["contacts"]["edges"]
    return {e["node"]["companyName"] or e["node"]["lastName"]: e["node"]["id"] for e in edges}


def _create(client, **given):
    r = client(CREATE, {"i": given})
    assert r.errors == [] and r.data["createCase"]["errors"] == [], r
    return r.data["createCase"]["case"]


def _titles(client, flt=None):
    r = client(LIST, {"f": flt, "n": 100})
    assert r.errors == [], r.errors
    return [e["node"]["title"] for e in r.data["cases"]["edges"]], r.data["cases"]["totalCount"]


def _upload(client, data=b"agenda\n", name="agenda.txt"):
    headers = {"X-CRM-Upload": "1", "Content-Type": "text/plain", **client.headers()}
    r = client.http.post("/files", params={"name": name}, content=data, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_create_update_close_reopen_delete(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    r = admin(
        """mutation { createCaseCustomField(key: "venue", label: "Venue", type: TEXT) {
        customField { id key } errors { code } } }"""
    )
    assert r.data["createCaseCustomField"]["errors"] == []
    contacts = _contacts(rep1)
    case = _create(
        rep1,
        title="  Autumn seminar  ",
        description="For key customers",
        participantIds=[contacts["Fernández"], contacts["Rossi"]],
        tags=["seminar", "2026", "seminar"],
        customFields=[{"key": "venue", "value": "Madrid"}],
    )
    assert case["title"] == "Autumn seminar" and case["status"] == "OPEN"
    assert case["access"] == "PUBLIC_WRITE" and case["restricted"] is False
    assert case["owner"] == {"email": "rep1@demo.test"} and case["restrictedTo"] == []
    assert sorted(p["id"] for p in case["participants"]) == sorted(
        [contacts["Fernández"], contacts["Rossi"]]
    )
    assert sorted(t["name"] for t in case["tags"]) == ["2026", "seminar"]
    assert case["customFields"] == [{"key": "venue", "value": "Madrid"}]
    assert [t["name"] for t in rep1("{ caseTags { name } }").data["caseTags"]] == [
        "2026",
        "seminar",
        "tender",
    ]

    r = rep1(UPDATE, {"id": case["id"], "i": {"title": "Winter seminar", "tags": ["winter"]}})
    changed = r.data["updateCase"]["case"]
    assert changed["title"] == "Winter seminar" and [t["name"] for t in changed["tags"]] == [
        "winter"
    ]
    assert len(changed["participants"]) == 2  # omitted lists stay

    closed = rep1(CLOSE, {"id": case["id"]}).data["closeCase"]["case"]
    assert closed["status"] == "CLOSED" and closed["closedAt"]
    assert "Winter seminar" in _titles(rep1, {"status": "CLOSED"})[0]
    assert "Winter seminar" not in _titles(rep1, {"status": "OPEN"})[0]
    reopened = rep1(REOPEN, {"id": case["id"]}).data["reopenCase"]["case"]
    assert reopened == {"status": "OPEN", "closedAt": None}

    assert _titles(rep1, {"tag": "winter"}) == (["Winter seminar"], 1)
    assert _titles(rep1, {"search": "WINTER sem"}) == (["Winter seminar"], 1)
    assert _titles(rep1, {"contactId": contacts["Rossi"]})[0] == [
        "Winter seminar",
        "Spring customer seminar",
    ]

    r = rep1(REMOVE, {"id": case["id"], "c": [contacts["Rossi"]]})
    assert r.data["removeCaseParticipants"]["case"]["participants"] == [
        {"id": contacts["Fernández"]}
    ]
    r = rep1(ADD, {"id": case["id"], "c": [contacts["Rossi"], contacts["Rossi"]]})
    assert len(r.data["addCaseParticipants"]["case"]["participants"]) == 2

    task = rep1(
        TASK,
        {"i": {"title": "Book the room", "deadline": "2026-06-01T09:00:00Z", "caseId": case["id"]}},
    ).data["createTask"]["task"]
    assert task["caseId"] == case["id"] and task["case"] == {"title": "Winter seminar"}
    r = rep1(DELETE, {"id": case["id"]})
    assert r.data["deleteCase"] == {"deletedId": case["id"], "errors": []}
    assert rep1(ONE, {"id": case["id"]}).data["case"] is None
    # the task stays, without its case
    one = rep1("""query($id: ID!) { task(id: $id) { caseId } }""", {"id": task["id"]})
    assert one.data["task"] == {"caseId": None}


def test_bad_input_is_typed_and_writes_nothing(as_, gateway):
    rep1, rep2 = as_("rep1"), as_("rep2")
    before = _titles(rep1)
    r = rep1(CREATE, {"i": {"title": "  "}})
    assert r.data["createCase"]["errors"][0]["field"] == "title"
    hidden = _contacts(rep1)["Fernández"]  # rep1's private contact: rep2 cannot see it
    r = rep2(CREATE, {"i": {"title": "x", "participantIds": [hidden]}})
    assert r.data["createCase"]["errors"][0] == {
        "code": "NOT_FOUND",
        "message": "no such contact",
        "field": "participantIds",
    }
    r = rep1(CREATE, {"i": {"title": "x", "customFields": [{"key": "nope", "value": "1"}]}})
    assert r.data["createCase"]["errors"][0]["field"] == "customFields"
    r = rep1(CREATE, {"i": {"title": "x", "restrictedTo": ["VXNlcjo5OTk5OTk="]}})
    assert r.data["createCase"]["errors"][0]["field"] == "restrictedTo"
    r = rep1(CREATE, {"i": {"title": "x", "tags": ["t" * 61]}})
    assert r.data["createCase"]["errors"][0]["field"] == "tags"
    r = rep1(CREATE, {"i": {"title": "x", "participantIds": ["nonsense"]}})
    assert r.data["createCase"]["errors"][0]["field"] == "participantIds"
    assert _titles(rep1) == before
    r = as_("assistant")(CREATE, {"i": {"title": "Mine"}})
    assert r.data["createCase"]["errors"][0]["code"] == "BAD_USER_INPUT"


def test_open_cases_are_visible_and_writable_by_all(as_):
    rep1, rep2, backoffice = as_("rep1"), as_("rep2"), as_("backoffice")
    case = _create(rep1, title="Open day")
    for client in (rep2, backoffice):
        assert client(ONE, {"id": case["id"]}).data["case"]["title"] == "Open day"
    r = rep2(UPDATE, {"id": case["id"], "i": {"description": "Rob was here"}})
    assert r.data["updateCase"]["errors"] == []
    # deleting needs calendar.case.delete: the back office has none
    r = backoffice(DELETE, {"id": case["id"]})
    assert r.data["deleteCase"]["errors"][0]["code"] == "FORBIDDEN"


def test_a_restricted_case_is_invisible_to_others_on_every_path(as_, demo):
    admin, rep1, rep2, assistant = as_("admin"), as_("rep1"), as_("rep2"), as_("assistant")
    users = _users(admin)
    rossi = _contacts(rep2)["Rossi"]  # a public contact both reps see
    case = _create(
        rep2,
        title="Secret tender",
        participantIds=[rossi],
        restrictedTo=[users["assistant"]],
    )
    assert case["access"] == "PRIVATE" and case["restricted"] is True
    assert case["restrictedTo"] == [{"email": "assistant@demo.test"}]
    # the chosen user is notified, and sees and may change it
    notes = assistant(NOTES).data["notifications"]
    assert {
        "kind": "access.shared",
        "title": "Rob Rep shared the case Secret tender with you to read and change",
        "subjectId": case["id"],
    } in notes
    assert all(n["kind"] != "access.shared" for n in rep2(NOTES).data["notifications"])
    assert assistant(ONE, {"id": case["id"]}).data["case"]["title"] == "Secret tender"
    r = assistant(UPDATE, {"id": case["id"], "i": {"description": "checked"}})
    assert r.data["updateCase"]["errors"] == []
    # rep2's manager sees it through the hierarchy
    assert as_("manager")(ONE, {"id": case["id"]}).data["case"]["title"] == "Secret tender"

    # a task of the case, public: rep1 sees the task but not its case
    task = rep2(
        TASK,
        {
            "i": {
                "title": "Tender paperwork",
                "deadline": "2026-06-01T09:00:00Z",
                "caseId": case["id"],
                "access": "PUBLIC_READ",
            }
        },
    ).data["createTask"]["task"]
    assert task["caseId"] == case["id"]
    fid = _upload(rep2)
    doc = rep2(ATTACH, {"id": case["id"], "f": fid}).data["attachCaseDocument"]["document"]

    # rep1 (not chosen, not above rep2) sees it nowhere
    assert "Secret tender" not in _titles(rep1)[0]
    assert _titles(rep1, {"search": "Secret"}) == ([], 0)
    assert _titles(rep1, {"contactId": rossi})[0] == ["Spring customer seminar"]
    assert rep1(ONE, {"id": case["id"]}).data["case"] is None
    assert rep1(NODE, {"id": case["id"]}).data["node"] is None
    seen = rep1(TASKS, {"f": {"includeCompleted": True}}).data["tasks"]["edges"]
    mine = [e["node"] for e in seen if e["node"]["id"] == task["id"]]
    assert mine == [{"id": task["id"], "title": "Tender paperwork", "caseId": None, "case": None}]
    assert rep1(TASKS, {"f": {"caseId": case["id"]}}).data["tasks"]["totalCount"] == 0
    assert rep2(TASKS, {"f": {"caseId": case["id"]}}).data["tasks"]["totalCount"] == 1
    # nor can it change, link or download anything of it
    for query, variables, name in (
        (UPDATE, {"id": case["id"], "i": {"title": "x"}}, "updateCase"),
        (CLOSE, {"id": case["id"]}, "closeCase"),
        (DELETE, {"id": case["id"]}, "deleteCase"),
        (ADD, {"id": case["id"], "c": [rossi]}, "addCaseParticipants"),
        (ATTACH, {"id": case["id"], "f": _upload(rep1)}, "attachCaseDocument"),
        (DETACH, {"id": case["id"], "d": doc["id"]}, "detachCaseDocument"),
    ):
        assert rep1(query, variables).data[name]["errors"][0]["code"] == "NOT_FOUND", name
    r = rep1(TASK, {"i": {"title": "x", "deadline": "2026-06-01T09:00:00Z", "caseId": case["id"]}})
    assert r.data["createTask"]["errors"] == [{"code": "NOT_FOUND", "field": "caseId"}]
    # a download link minted for the chosen user does not work for rep1's id
    link = urlsplit(doc["downloadUrl"])
    query = parse_qs(link.query)
    forged = {"u": users["rep1"].split(":")[-1], "exp": query["exp"][0], "sig": query["sig"][0]}
    assert rep1.http.get(f"{link.path}?{urlencode(forged)}").status_code == 403

    # opened to all again: rep1 sees it
    r = rep2(UPDATE, {"id": case["id"], "i": {"restrictedTo": []}})
    assert r.data["updateCase"]["case"]["access"] == "PUBLIC_WRITE"
    assert r.data["updateCase"]["case"]["restrictedTo"] == []
    assert rep1(ONE, {"id": case["id"]}).data["case"]["title"] == "Secret tender"


def test_documents_download_for_those_who_see_the_case(as_, gateway):
    rep1, rep2 = as_("rep1"), as_("rep2")
    case = _create(rep1, title="Fair stand")
    fid = _upload(rep1, b"stand plan", "plan \u00f1.txt")
    r = rep1(ATTACH, {"id": case["id"], "f": fid}).data["attachCaseDocument"]
    assert r["errors"] == [] and r["document"]["name"] == "plan \u00f1.txt"
    again = rep1(ATTACH, {"id": case["id"], "f": fid}).data["attachCaseDocument"]
    assert again["errors"][0]["code"] == "CONFLICT"
    # someone else's upload cannot be attached
    theirs = rep1(ATTACH, {"id": case["id"], "f": _upload(rep2)}).data["attachCaseDocument"]
    assert theirs["errors"] == [{"code": "NOT_FOUND", "field": "fileId"}]
    # kept while attached
    expires = rep1("""query($id: ID!) { file(id: $id) { expiresAt } }""", {"id": fid})
    assert expires.data["file"]["expiresAt"].startswith("9999")

    one = """query($id: ID!) { case(id: $id) { documents { id name size addedBy { email }
      downloadUrl } } }"""
    docs = rep2(one, {"id": case["id"]}).data["case"]["documents"]
    assert docs[0]["size"] == 10 and docs[0]["addedBy"] == {"email": "rep1@demo.test"}
    got = rep2.http.get(_path(docs[0]["downloadUrl"]))
    assert got.status_code == 200 and got.content == b"stand plan"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    tampered = _path(docs[0]["downloadUrl"]).replace("exp=", "exp=1")
    assert rep2.http.get(tampered).status_code == 403
    assert rep2.http.post(_path(docs[0]["downloadUrl"])).status_code == 405

    r = rep1(DETACH, {"id": case["id"], "d": docs[0]["id"]})
    assert r.data["detachCaseDocument"] == {"case": {"documents": []}, "errors": []}
    assert rep2.http.get(_path(docs[0]["downloadUrl"])).status_code == 404
    assert rep1("""query($id: ID!) { file(id: $id) { id } }""", {"id": fid}).data["file"] is None

    # deleting the case lets its documents' files go too
    kept = _upload(rep1, b"minutes", "minutes.txt")
    r = rep1(ATTACH, {"id": case["id"], "f": kept}).data["attachCaseDocument"]
    link = _path(r["document"]["downloadUrl"])
    assert rep1.http.get(link).status_code == 200
    assert rep1(DELETE, {"id": case["id"]}).data["deleteCase"]["errors"] == []
    assert rep1("""query($id: ID!) { file(id: $id) { id } }""", {"id": kept}).data["file"] is None
    assert rep1.http.get(link).status_code == 404


def test_case_tasks_and_nested_lists_show_only_what_is_visible(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    case = _create(rep1, title="Roadshow")
    for client, title in ((rep1, "Rita's step"), (rep2, "Rob's private step")):
        r = client(
            TASK,
            {"i": {"title": title, "deadline": "2026-06-01T09:00:00Z", "caseId": case["id"]}},
        )
        assert r.data["createTask"]["errors"] == []
    nested = """query($id: ID!) { case(id: $id) { tasks { title } } }"""
    assert rep1(nested, {"id": case["id"]}).data["case"]["tasks"] == [{"title": "Rita's step"}]
    assert rep2(nested, {"id": case["id"]}).data["case"]["tasks"] == [
        {"title": "Rob's private step"}
    ]
    assert as_("manager")(TASKS, {"f": {"caseId": case["id"]}}).data["tasks"]["totalCount"] == 2
    # a participant rep2 cannot see is left out for rep2, and kept when rep2 replaces the list
    contacts = _contacts(rep1)
    rep1(UPDATE, {"id": case["id"], "i": {"participantIds": [contacts["Fernández"]]}})
    one = """query($id: ID!) { case(id: $id) { participants { id } } }"""
    assert rep2(one, {"id": case["id"]}).data["case"]["participants"] == []
    r = rep2(UPDATE, {"id": case["id"], "i": {"participantIds": [contacts["Rossi"]]}})
    assert r.data["updateCase"]["errors"] == []
    got = rep1(one, {"id": case["id"]}).data["case"]["participants"]
    assert sorted(p["id"] for p in got) == sorted([contacts["Fernández"], contacts["Rossi"]])


def test_field_rules_apply(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Case", fieldName: "tags", mode: READ_ONLY},
        {typeName: "Case", fieldName: "title", mode: HIDDEN}]}) { errors { code } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == []
    small = """mutation($i: CreateCaseInput!) { createCase(input: $i) {
      case { id } errors { code } } }"""
    r = rep1(small, {"i": {"title": "Tagged", "tags": ["x"]}})
    assert r.data["createCase"]["errors"][0]["code"] == "FORBIDDEN"
    seminar = rep1("""{ cases(first: 5, filter: {tag: "seminar"}) { edges { node { id } } } }""")
    seminar_id = seminar.data["cases"]["edges"][0]["node"]["id"]
    change = """mutation($id: ID!, $i: UpdateCaseInput!) { updateCase(id: $id, input: $i) {
      case { description } errors { code } } }"""
    r = rep1(change, {"id": seminar_id, "i": {"description": "Bring badges"}})
    assert r.data["updateCase"] == {"case": {"description": "Bring badges"}, "errors": []}
    r = rep1(change, {"id": seminar_id, "i": {"tags": []}})
    assert r.data["updateCase"]["errors"] == [{"code": "FORBIDDEN"}]
    r = rep1("{ cases(first: 5) { edges { node { title } } } }")
    assert r.errors[0]["extensions"]["code"] == "FORBIDDEN"
    r = rep1("""{ cases(first: 5, filter: {search: "seminar"}) { totalCount } }""")
    assert r.errors[0]["extensions"]["code"] == "FORBIDDEN"
    r = rep1("""{ cases(first: 5, filter: {tag: "seminar"}) { totalCount } }""")
    assert r.errors == [] and r.data["cases"]["totalCount"] == 1


def test_demo_cases(as_):
    assert sorted(_titles(as_("rep2"))[0]) == ["Iberia Logistics tender", "Spring customer seminar"]
    assert _titles(as_("director"))[1] == 2
    # rep1's tender is restricted to rep2: the assistant (serving rep1) sees it, the
    # back office (structural) too
    assert "Iberia Logistics tender" in _titles(as_("assistant"))[0]


def test_statements_do_not_grow_with_the_page(as_, sql_log):
    rep1 = as_("rep1")
    users = _users(as_("admin"))
    contacts = _contacts(rep1)
    for i in range(6):
        case = _create(
            rep1,
            title=f"Case {i}",
            participantIds=[contacts["Fernández"], contacts["Rossi"]],
            tags=[f"t{i}", "common"],
            restrictedTo=[users["rep2"]] if i % 2 else [],
        )
        rep1(
            TASK,
            {"i": {"title": f"T{i}", "deadline": "2026-06-01T09:00:00Z", "caseId": case["id"]}},
        )
        rep1(ATTACH, {"id": case["id"], "f": _upload(rep1)})
    query = f"""query($n: Int) {{ cases(first: $n) {{ totalCount edges {{ node {{
      {CASE_FIELDS} updatedAt createdAt }} }} }} }}"""
    assert rep1(query, {"n": 1}).errors == []  # warm: the plan probe is remembered a minute
    counts = []
    for n in (2, 8):
        with sql_log:
            r = rep1(query, {"n": n})
        assert r.errors == [], r.errors
        assert len(r.data["cases"]["edges"]) == n
        counts.append(list(sql_log.statements))
    assert len(counts[0]) == len(counts[1]), counts


def test_cases_stay_in_their_tenant(as_):
    case = _create(as_("rep1"), title="Ours")
    acme = as_("admin@acme.test")
    assert _titles(acme) == ([], 0)
    assert acme(ONE, {"id": case["id"]}).data["case"] is None
    assert acme(NODE, {"id": case["id"]}).data["node"] is None
    r = acme(UPDATE, {"id": case["id"], "i": {"title": "Theirs"}})
    assert r.data["updateCase"]["errors"][0]["code"] == "NOT_FOUND"
    assert acme("{ caseTags { name } }").data["caseTags"] == []


def test_restricting_later_notifies_the_newly_chosen_and_keeps_the_restrictor(as_):
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    users = _users(admin)
    case = _create(rep1, title="Board dinner")  # open to all
    # rep2 (not the owner) restricts it to the manager: rep2 stays among the chosen
    r = rep2(UPDATE, {"id": case["id"], "i": {"restrictedTo": [users["manager"]]}})
    got = r.data["updateCase"]["case"]
    assert got["restricted"] is True
    assert sorted(u["email"] for u in got["restrictedTo"]) == [
        "manager@demo.test",
        "rep2@demo.test",
    ]
    assert rep2(NODE, {"id": case["id"]}).data["node"] == {
        "id": case["id"],
        "title": "Board dinner",
    }
    kinds = [n["kind"] for n in as_("manager")(NOTES).data["notifications"]]
    assert kinds.count("access.shared") == 1
    assert all(n["kind"] != "access.shared" for n in rep2(NOTES).data["notifications"])
    # the same restriction again notifies nobody twice
    rep1(UPDATE, {"id": case["id"], "i": {"restrictedTo": [users["manager"], users["rep2"]]}})
    kinds = [n["kind"] for n in as_("manager")(NOTES).data["notifications"]]
    assert kinds.count("access.shared") == 1
    # the owner restricting it to nobody else keeps it private
    r = rep1(UPDATE, {"id": case["id"], "i": {"restrictedTo": [users["rep1"]]}})
    assert r.data["updateCase"]["case"]["access"] == "PRIVATE"
    assert r.data["updateCase"]["case"]["restrictedTo"] == []
    assert rep2(ONE, {"id": case["id"]}).data["case"] is None


def test_merged_contacts_keep_their_cases(as_):
    admin = as_("admin")
    contacts = _contacts(admin)
    both = _create(admin, title="Both", participantIds=[contacts["Rossi"], contacts["Fernández"]])
    only = _create(admin, title="Only", participantIds=[contacts["Rossi"]])
    merge = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) {
      errors { code } } }"""
    r = admin(merge, {"k": contacts["Fernández"], "m": contacts["Rossi"]})
    assert r.data["mergeContacts"]["errors"] == []
    one = """query($id: ID!) { case(id: $id) { participants { id } } }"""
    for case in (both, only):
        got = admin(one, {"id": case["id"]}).data["case"]["participants"]
        assert got == [{"id": contacts["Fernández"]}], case


def test_case_permissions_are_in_the_catalogue(as_):
    codes = {
        p["code"]
        for p in as_("admin")("{ permissionCatalogue { code } }").data["permissionCatalogue"]
    }
    assert {f"calendar.case.{a}" for a in ("create", "read", "update", "delete")} <= codes


CONTACT_CASES = """query($id: ID!, $n: Int, $s: CaseStatus) { contact(id: $id) {
  cases(first: $n, status: $s) { title } } }"""


def test_contact_cases_show_only_visible_cases(as_, sql_log):
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    users = _users(admin)
    rossi = _contacts(rep1)["Rossi"]
    _create(rep2, title="Rob's secret", participantIds=[rossi], restrictedTo=[users["manager"]])
    closed = _create(rep1, title="Rita's closed", participantIds=[rossi])
    rep1(CLOSE, {"id": closed["id"]})

    def titles(client, **args):
        r = client(CONTACT_CASES, {"id": rossi, **args})
        assert r.errors == [], r.errors
        return [c["title"] for c in r.data["contact"]["cases"]]

    assert titles(rep1) == ["Rita's closed", "Spring customer seminar"]
    assert titles(rep1, s="OPEN") == ["Spring customer seminar"]
    assert titles(rep1, n=1) == ["Rita's closed"]
    assert titles(rep2) == ["Rita's closed", "Rob's secret", "Spring customer seminar"]
    assert "Rob's secret" in titles(as_("manager"))
    r = rep1(CONTACT_CASES, {"id": rossi, "n": 101})
    assert r.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"

    # a page of contacts with their cases: the same statements for 2 or 6 contacts
    made = """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
    for n in range(6):
        contact = rep1(made, {"i": {"kind": "COMPANY", "companyName": f"Pagedcase {n}"}})
        contact_id = contact.data["createContact"]["contact"]["id"]
        case = _create(rep1, title=f"Paged {n}", participantIds=[contact_id], tags=["p"])
        rep1(
            TASK,
            {"i": {"title": f"T{n}", "deadline": "2026-06-01T09:00:00Z", "caseId": case["id"]}},
        )
    page = """query($n: Int) { contacts(first: $n, search: "Pagedcase") { edges { node { id
      cases { title tags { name } participants { id } tasks { title } } } } } }"""
    assert rep1(page, {"n": 1}).errors == []  # the narrowing probes' first-list cost
    costs = []
    for n in (2, 6):
        with sql_log:
            r = rep1(page, {"n": n})
        assert r.errors == [], r.errors
        edges = r.data["contacts"]["edges"]
        assert len(edges) == n and all(len(e["node"]["cases"]) == 1 for e in edges)
        costs.append(len(sql_log.statements))
    assert costs[0] == costs[1], costs


def test_case_tasks_are_windowed(as_):
    rep1 = as_("rep1")
    case = _create(rep1, title="Big plan")
    for day in (3, 1, 2):
        rep1(
            TASK,
            {
                "i": {
                    "title": f"Day {day}",
                    "deadline": f"2026-06-0{day}T09:00:00Z",
                    "caseId": case["id"],
                }
            },
        )
    done = rep1(TASKS, {"f": {"caseId": case["id"]}}).data["tasks"]["edges"][0]["node"]["id"]
    rep1("""mutation($id: ID!) { completeTask(id: $id) { errors { code } } }""", {"id": done})
    nested = """query($id: ID!, $n: Int, $c: Boolean) { case(id: $id) {
      tasks(first: $n, includeCompleted: $c) { title } } }"""

    def titles(**args):
        r = rep1(nested, {"id": case["id"], **args})
        assert r.errors == [], r.errors
        return [t["title"] for t in r.data["case"]["tasks"]]

    assert titles() == ["Day 1", "Day 2", "Day 3"]
    # a task moves out of the case and back with updateTask
    move = """mutation($id: ID!, $c: ID) { updateTask(id: $id, input: {caseId: $c}) {
      task { caseId } errors { code field } } }"""
    out = rep1(move, {"id": done, "c": None}).data["updateTask"]
    assert out == {"task": {"caseId": None}, "errors": []}
    assert titles() == ["Day 2", "Day 3"]
    back = rep1(move, {"id": done, "c": case["id"]}).data["updateTask"]
    assert back == {"task": {"caseId": case["id"]}, "errors": []}
    assert titles(c=False) == ["Day 2", "Day 3"]
    assert titles(n=2) == ["Day 1", "Day 2"]
    assert rep1(nested, {"id": case["id"], "n": -1}).errors[0]["extensions"]["code"] == (
        "BAD_USER_INPUT"
    )


def test_cases_are_absent_where_the_calendar_module_is_off(as_):
    admin = as_("admin")
    fields = '{ __type(name: "Contact") { fields { name } } }'
    assert "cases" in {f["name"] for f in admin(fields).data["__type"]["fields"]}
    r = admin('mutation { setModuleEnabled(name: "calendar", enabled: false) { errors { code } } }')
    assert r.data["setModuleEnabled"]["errors"] == []
    assert "cases" not in {f["name"] for f in admin(fields).data["__type"]["fields"]}
    r = admin("{ cases(first: 1) { totalCount } }")
    assert r.errors[0]["extensions"]["code"] == "MODULE_DISABLED"
