"""Activity history over HTTP on both engines (issue 15 item 4): history categories (R5),
interactions on contacts (they share the contact's visibility on every path), the contact
timeline merging interactions, tasks and the events invoices and leads report through the
calendar's ``crm_timeline_events`` hook, field rules and statement budgets."""

from __future__ import annotations

import base64
import json

from tests.test_derived_fields import set_rules

CATS = "{ historyCategories { id name colour position kind } }"
CAT_FIELDS = "category { id name colour position kind } errors { code message field }"
CREATE_CAT = f"""mutation($n: String!, $c: String!, $k: HistoryKind!) {{
  createHistoryCategory(name: $n, colour: $c, kind: $k) {{ {CAT_FIELDS} }} }}"""
UPDATE_CAT = f"""mutation($id: ID!, $i: UpdateHistoryCategoryInput!) {{
  updateHistoryCategory(id: $id, input: $i) {{ {CAT_FIELDS} }} }}"""
DELETE_CAT = (
    """mutation($id: ID!) { deleteHistoryCategory(id: $id) { deletedId errors { code } } }"""
)
I_FIELDS = """id text occurredAt canChange category { name kind } author { email }
  contact { id } opportunity { id }"""
LOG = f"""mutation($i: LogInteractionInput!) {{ logInteraction(input: $i) {{
  interaction {{ {I_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($id: ID!, $i: UpdateInteractionInput!) {{ updateInteraction(id: $id, input: $i) {{
  interaction {{ {I_FIELDS} }} errors {{ code message field }} }} }}"""
DELETE = """mutation($id: ID!) { deleteInteraction(id: $id) { deletedId errors { code field } } }"""
LIST = """query($c: ID!, $n: Int, $a: String) { interactions(contactId: $c, first: $n, after: $a) {
  totalCount edges { node { id text author { email } } } pageInfo { hasNextPage endCursor } } }"""
ONE = """query($id: ID!) { interaction(id: $id) { id text } }"""
NODE = """query($id: ID!) { node(id: $id) { id } }"""
TIMELINE = """query($c: ID!, $n: Int, $a: String, $k: [String!]) {
  contactTimeline(contactId: $c, first: $n, after: $a, kinds: $k) {
    edges { cursor node { kind occurredAt
      ... on InteractionTimelineEntry { interaction { id text author { email } category { name } } }
      ... on TaskTimelineEntry { task { id title responsible { email } contact { id } } }
      ... on RecordTimelineEntry { detail subject { id } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
KINDS_ONLY = """query($c: ID!) { contactTimeline(contactId: $c) { edges { node { kind } } } }"""
CONTACTS = "{ contacts(first: 100) { edges { node { id displayName } } } }"
TASK = (
    """mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }"""
)
COMPLETE = """mutation($id: ID!) { completeTask(id: $id) { task { status } errors { code } } }"""


def contact_ids(client):
    edges = client(CONTACTS).data["contacts"]["edges"]
    return {e["node"]["displayName"]: e["node"]["id"] for e in edges}


def log(client, contact, **given):
    r = client(LOG, {"i": {"contactId": contact, **given}})
    assert r.errors == [] and r.data["logInteraction"]["errors"] == [], r.body
    return r.data["logInteraction"]["interaction"]


def timeline(client, contact, **args):
    r = client(TIMELINE, {"c": contact, **args})
    assert r.errors == [], r.body
    return r.data["contactTimeline"]


def kinds_of(page):
    return [e["node"]["kind"] for e in page["edges"]]


# -- categories ---------------------------------------------------------------------------------


def test_history_categories_defaults_and_admin_changes(as_):
    rep1, manager = as_("rep1"), as_("manager")
    cats = rep1(CATS).data["historyCategories"]
    assert [(c["name"], c["kind"], c["position"]) for c in cats] == [
        ("Note", "NOTE", 0),
        ("Call", "CALL", 1),
        ("Meeting", "MEETING", 2),
        ("Email", "EMAIL", 3),
    ]
    # a rep may not manage them: refused before anything runs
    r = rep1(CREATE_CAT, {"n": "Visit", "c": "#123456", "k": "MEETING"})
    assert r.codes == ["FORBIDDEN"] and not r.data
    made = manager(CREATE_CAT, {"n": " Visit ", "c": "#abcdef", "k": "MEETING"}).data[
        "createHistoryCategory"
    ]
    assert made["errors"] == [] and made["category"]["name"] == "Visit"
    assert made["category"]["colour"] == "#ABCDEF" and made["category"]["position"] == 4
    again = manager(CREATE_CAT, {"n": "Visit", "c": "#abcdef", "k": "OTHER"}).data
    assert again["createHistoryCategory"]["errors"][0]["code"] == "CONFLICT"
    bad = manager(CREATE_CAT, {"n": "X", "c": "blue", "k": "OTHER"}).data
    assert bad["createHistoryCategory"]["errors"][0]["field"] == "colour"

    visit = made["category"]["id"]
    moved = manager(UPDATE_CAT, {"id": visit, "i": {"position": 0, "name": "Site visit"}})
    assert moved.data["updateHistoryCategory"]["errors"] == []
    names = [c["name"] for c in rep1(CATS).data["historyCategories"]]
    assert names == ["Site visit", "Note", "Call", "Meeting", "Email"]
    far = manager(UPDATE_CAT, {"id": visit, "i": {"position": 9}}).data["updateHistoryCategory"]
    assert far["errors"][0]["field"] == "position"

    # deleting a category keeps its interactions, uncategorised
    contact = contact_ids(rep1)["Iberia Logistics S.L."]
    logged = log(rep1, contact, categoryId=visit, text="Walked the site")
    assert logged["category"]["name"] == "Site visit"
    gone = manager(DELETE_CAT, {"id": visit}).data["deleteHistoryCategory"]
    assert gone["errors"] == []
    assert rep1(ONE, {"id": logged["id"]}).data["interaction"]["text"] == "Walked the site"
    assert [c["position"] for c in rep1(CATS).data["historyCategories"]] == [0, 1, 2, 3]
    missing = manager(DELETE_CAT, {"id": visit}).data["deleteHistoryCategory"]
    assert missing["errors"][0]["code"] == "NOT_FOUND"


# -- interactions -------------------------------------------------------------------------------


def test_log_change_and_delete_an_interaction(as_):
    rep1, rep2, director = as_("rep1"), as_("rep2"), as_("director")
    cats = {c["name"]: c["id"] for c in rep1(CATS).data["historyCategories"]}
    marco = contact_ids(rep1)["Marco Rossi"]  # rep1's, public read: rep2 sees it
    made = log(
        rep1,
        marco,
        categoryId=cats["Call"],
        text=" Called about prices ",
        occurredAt="2026-05-04T10:00:00+02:00",
    )
    assert made["text"] == "Called about prices" and made["canChange"] is True
    assert made["occurredAt"].startswith("2026-05-04T08:00:00")
    assert made["author"]["email"] == "rep1@demo.test"
    assert made["category"] == {"name": "Call", "kind": "CALL"}
    assert made["contact"]["id"] == marco

    # another rep who sees the contact sees the interaction but may not change it
    seen = rep2(ONE, {"id": made["id"]}).data["interaction"]
    assert seen["text"] == "Called about prices"
    refused = rep2(UPDATE, {"id": made["id"], "i": {"text": "mine now"}}).data["updateInteraction"]
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    refused = rep2(DELETE, {"id": made["id"]}).data["deleteInteraction"]
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    # the author may; so may a history moderator (the director)
    changed = rep1(UPDATE, {"id": made["id"], "i": {"text": "Called twice", "categoryId": None}})
    assert changed.data["updateInteraction"]["interaction"]["category"] is None
    moderated = director(UPDATE, {"id": made["id"], "i": {"text": "Called (moderated)"}})
    assert moderated.data["updateInteraction"]["errors"] == []

    # bad input is a typed error naming the field, nothing written
    for given, field in (
        ({"text": ""}, "text"),
        ({"categoryId": "SGlzdG9yeUNhdGVnb3J5Ojk5OTk5"}, "categoryId"),
        ({"occurredAt": None}, "occurredAt"),
        ({"opportunityId": "T3Bwb3J0dW5pdHk6OTk5OTk="}, "opportunityId"),
    ):
        r = rep1(UPDATE, {"id": made["id"], "i": given}).data["updateInteraction"]
        assert r["errors"][0]["field"] == field, (given, r)
    assert rep1(ONE, {"id": made["id"]}).data["interaction"]["text"] == "Called (moderated)"
    empty = rep1(LOG, {"i": {"contactId": marco}}).data["logInteraction"]
    assert empty["errors"][0]["field"] == "text"

    deleted = rep1(DELETE, {"id": made["id"]}).data["deleteInteraction"]
    assert deleted == {"deletedId": made["id"], "errors": []}
    assert rep1(ONE, {"id": made["id"]}).data["interaction"] is None


def test_interactions_of_a_hidden_contact_are_hidden_on_every_path(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    iberia = contact_ids(rep1)["Iberia Logistics S.L."]  # rep1's, private
    assert iberia not in contact_ids(rep2).values()
    made = log(rep1, iberia, text="Private talk")
    # rep2: not in the list, not by id, not as a node, not in the timeline, not writable
    listed = rep2(LIST, {"c": iberia, "n": 50}).data["interactions"]
    assert listed["edges"] == [] and listed["totalCount"] == 0
    assert rep2(ONE, {"id": made["id"]}).data["interaction"] is None
    assert rep2(NODE, {"id": made["id"]}).data["node"] is None
    assert rep2(TIMELINE, {"c": iberia}).data["contactTimeline"] is None
    for mutation, query, field in (
        ("updateInteraction", UPDATE, {"id": made["id"], "i": {"text": "x"}}),
        ("deleteInteraction", DELETE, {"id": made["id"]}),
    ):
        assert rep2(query, field).data[mutation]["errors"][0]["code"] == "NOT_FOUND"
    logged = rep2(LOG, {"i": {"contactId": iberia, "text": "sneak"}}).data["logInteraction"]
    assert logged["errors"][0] == {
        "code": "NOT_FOUND",
        "message": logged["errors"][0]["message"],
        "field": "contactId",
    }
    # the manager above rep1 sees it (hierarchy), but may not change it (not the author)
    texts = [e["node"]["text"] for e in manager(LIST, {"c": iberia}).data["interactions"]["edges"]]
    assert "Private talk" in texts
    r = manager(UPDATE, {"id": made["id"], "i": {"text": "x"}}).data["updateInteraction"]
    assert r["errors"][0]["code"] == "FORBIDDEN"
    # another organisation never sees it
    acme = as_("admin@acme.test")
    assert acme(ONE, {"id": made["id"]}).data["interaction"] is None
    assert acme(TIMELINE, {"c": iberia}).data["contactTimeline"] is None


def test_logging_an_interaction_is_a_record_change(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    admin('mutation { setModuleEnabled(name: "audit", enabled: true) { errors { code } } }')
    made = log(rep1, contact_ids(rep1)["Lucía Fernández"], text="Hello")
    rep1(UPDATE, {"id": made["id"], "i": {"text": "Hello again"}})
    rep1(DELETE, {"id": made["id"]})
    trail = admin("{ auditTrail { entity kind } }").data["auditTrail"]
    assert [t for t in trail if t["entity"] == "interaction"] == [
        {"entity": "interaction", "kind": "created"},
        {"entity": "interaction", "kind": "updated"},
        {"entity": "interaction", "kind": "deleted"},
    ]


def test_interaction_field_rules(as_):
    rep1 = as_("rep1")
    marco = contact_ids(rep1)["Marco Rossi"]
    made = log(rep1, marco, text="Visible")
    set_rules(as_, [("Interaction", "text", "READ_ONLY")])
    r = rep1(UPDATE, {"id": made["id"], "i": {"text": "changed"}}).data["updateInteraction"]
    assert r["errors"][0]["code"] == "FORBIDDEN"
    r = rep1(LOG, {"i": {"contactId": marco, "text": "new"}}).data["logInteraction"]
    assert r["errors"][0]["code"] == "FORBIDDEN"
    set_rules(as_, [("Interaction", "text", "HIDDEN"), ("Interaction", "occurredAt", "HIDDEN")])
    r = rep1(ONE, {"id": made["id"]})
    assert r.codes == ["FORBIDDEN"] and not r.data
    # the history's order reads occurredAt: the list is refused, the timeline leaves them out
    assert rep1(LIST, {"c": marco}).codes == ["FORBIDDEN"]
    kinds = rep1(KINDS_ONLY, {"c": marco})
    assert kinds.errors == [] and "interaction" not in kinds_of(kinds.data["contactTimeline"])
    assert "interaction" in kinds_of(
        as_("manager")(KINDS_ONLY, {"c": marco}).data["contactTimeline"]
    )


# -- the timeline ---------------------------------------------------------------------------------

INVOICE = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) { invoice { id }
  errors { code message } } }"""
ISSUE = (
    """mutation($id: ID!) { issueInvoice(id: $id) { invoice { id } errors { code message } } }"""
)
PAY = """mutation($id: ID!) { setInvoiceStatus(id: $id, status: PAID) { invoice { paidAt }
  errors { code message } } }"""
OPP = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id } errors { code message } } }"""
MOVE = """mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) {
  opportunity { id } errors { code message } } }"""
STAGES = "{ opportunityStages { id name } }"
ITEMS = "{ invoiceItems { id name } }"


def _invoice(client, contact):
    items = {i["name"]: i["id"] for i in client(ITEMS).data["invoiceItems"]}
    r = client(
        INVOICE,
        {
            "i": {
                "clientId": contact,
                "lines": [{"itemId": items["Support hours"], "quantity": "1"}],
            }
        },
    )
    assert r.errors == [] and r.data["createInvoice"]["errors"] == [], r.body
    invoice = r.data["createInvoice"]["invoice"]["id"]
    assert client(ISSUE, {"id": invoice}).data["issueInvoice"]["errors"] == []
    return invoice


def _opportunity(client, contact):
    r = client(OPP, {"i": {"title": "Cold chain", "contactId": contact, "access": "PRIVATE"}})
    assert r.errors == [] and r.data["createOpportunity"]["errors"] == [], r.body
    opp = r.data["createOpportunity"]["opportunity"]["id"]
    stages = {s["name"]: s["id"] for s in client(STAGES).data["opportunityStages"]}
    target = list(stages.values())[1]
    assert client(MOVE, {"id": opp, "s": target}).data["moveOpportunity"]["errors"] == []
    return opp, next(n for n, i in stages.items() if i == target)


def test_timeline_merges_interactions_tasks_and_module_events(as_):
    rep1 = as_("rep1")
    ana = contact_ids(rep1)["Ana Sousa"]  # rep2's, public read/write
    call = log(rep1, ana, text="First call", occurredAt="2020-01-01T09:00:00Z")
    task = rep1(
        TASK, {"i": {"title": "Send offer", "deadline": "2030-01-01T09:00:00Z", "contactId": ana}}
    ).data["createTask"]["task"]["id"]
    assert rep1(COMPLETE, {"id": task}).data["completeTask"]["errors"] == []
    invoice = _invoice(rep1, ana)
    assert rep1(PAY, {"id": invoice}).data["setInvoiceStatus"]["invoice"]["paidAt"]
    opp, stage = _opportunity(rep1, ana)
    note = log(rep1, ana, text="Latest note")

    page = timeline(rep1, ana, n=50)
    kinds = kinds_of(page)
    assert sorted(kinds) == sorted(
        [
            "interaction",
            "interaction",
            "task.created",
            "task.completed",
            "invoice.issued",
            "invoice.paid",
            "opportunity.created",
            "opportunity.stage_changed",
        ]
    )
    assert page["pageInfo"]["hasNextPage"] is False
    at = [e["node"]["occurredAt"] for e in page["edges"]]
    assert at == sorted(at, reverse=True)  # newest first
    assert kinds[-1] == "interaction"  # the 2020 call is the oldest
    nodes = {e["node"]["kind"]: e["node"] for e in page["edges"]}
    assert nodes["invoice.paid"]["subject"]["id"] == invoice
    assert nodes["opportunity.stage_changed"] == {
        "kind": "opportunity.stage_changed",
        "occurredAt": nodes["opportunity.stage_changed"]["occurredAt"],
        "detail": stage,
        "subject": {"id": opp},
    }
    assert nodes["task.completed"]["task"]["id"] == task
    texts = {
        e["node"]["interaction"]["text"]
        for e in page["edges"]
        if e["node"]["kind"] == "interaction"
    }
    assert texts == {call["text"], note["text"]}

    # kinds filter
    only = kinds_of(timeline(rep1, ana, k=["invoice.issued", "interaction"]))
    assert sorted(only) == ["interaction", "interaction", "invoice.issued"]

    # forward pages of two: every entry once, in the same order
    seen, after = [], None
    while True:
        part = timeline(rep1, ana, n=2, a=after)
        seen += [e["cursor"] for e in part["edges"]]
        assert part["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not part["pageInfo"]["hasNextPage"]:
            break
        after = part["pageInfo"]["endCursor"]
    assert seen == [e["cursor"] for e in page["edges"]]


def test_timeline_shows_only_what_the_caller_may_see(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    ana = contact_ids(rep1)["Ana Sousa"]  # public: both reps see the contact
    _invoice(rep1, ana)  # private invoice of rep1
    _opportunity(rep1, ana)  # private opportunity of rep1
    rep1(
        TASK, {"i": {"title": "Private task", "deadline": "2030-01-01T09:00:00Z", "contactId": ana}}
    )
    log(rep1, ana, text="On a public contact")
    mine = kinds_of(timeline(rep1, ana))
    assert {"invoice.issued", "opportunity.created", "task.created", "interaction"} <= set(mine)
    theirs = kinds_of(timeline(rep2, ana))
    assert theirs == ["interaction"]  # rep1's private records stay hidden from rep2

    # a module switched off reports nothing
    admin = as_("admin")
    off = admin(
        'mutation { setModuleEnabled(name: "invoices", enabled: false) { errors { code } } }'
    )
    assert off.errors == [], off.body
    assert "invoice.issued" not in kinds_of(timeline(rep1, ana))


def test_timeline_bad_arguments_are_typed_errors(as_):
    rep1 = as_("rep1")
    ana = contact_ids(rep1)["Ana Sousa"]
    forged = base64.urlsafe_b64encode(json.dumps(["tl", "2026-01-01T00:00:00", "x", 1]).encode())
    for args, field in (
        ({"a": "nonsense"}, "after"),
        ({"a": forged.decode()}, "after"),  # a naive time
        ({"n": 101}, "first"),
        ({"n": -1}, "first"),
        ({"k": [""]}, "kinds"),
    ):
        r = rep1(TIMELINE, {"c": ana, **args})
        assert r.codes == ["BAD_USER_INPUT"], (args, r.body)
        assert r.errors[0]["extensions"]["field"] == field, r.errors


def test_timeline_field_rules_leave_out_what_they_hide(as_):
    rep1 = as_("rep1")
    ana = contact_ids(rep1)["Ana Sousa"]
    _invoice(rep1, ana)
    rep1(TASK, {"i": {"title": "T", "deadline": "2030-01-01T09:00:00Z", "contactId": ana}})
    before = kinds_of(rep1(KINDS_ONLY, {"c": ana}).data["contactTimeline"])
    assert {"invoice.issued", "task.created"} <= set(before)
    set_rules(as_, [("Invoice", "issuedAt", "HIDDEN"), ("Task", "contact", "HIDDEN")])
    r = rep1(KINDS_ONLY, {"c": ana})
    assert r.errors == [], r.body
    kinds = kinds_of(r.data["contactTimeline"])
    assert "invoice.issued" not in kinds and "task.created" not in kinds


def test_timeline_statements_do_not_grow_with_the_page(as_, sql_log):
    rep1 = as_("rep1")
    ana = contact_ids(rep1)["Ana Sousa"]

    def cost(n):
        with sql_log:
            page = timeline(rep1, ana, n=n)
        return len(sql_log.statements), len(page["edges"])

    for i in range(3):
        log(rep1, ana, text=f"small {i}")
        rep1(TASK, {"i": {"title": f"T{i}", "deadline": "2030-01-01T09:00:00Z", "contactId": ana}})
        _invoice(rep1, ana)
    _opportunity(rep1, ana)
    small, shown_small = cost(100)
    for i in range(12):
        log(rep1, ana, text=f"more {i}")
        rep1(TASK, {"i": {"title": f"U{i}", "deadline": "2030-01-01T09:00:00Z", "contactId": ana}})
        _invoice(rep1, ana)
    large, shown_large = cost(100)
    assert shown_large > 3 * shown_small / 2
    assert large == small, sql_log.statements


# -- nested under Contact -----------------------------------------------------------------------

NESTED = """query($n: Int!) { contacts(first: 100) { edges { node { id displayName
  interactions(first: $n) { text author { email } category { name } }
  timeline(first: $n) { edges { node { kind
    ... on InteractionTimelineEntry { interaction { text } }
    ... on TaskTimelineEntry { task { title } }
    ... on RecordTimelineEntry { subject { id } } } }
    pageInfo { hasNextPage endCursor } } } } } }"""


def _nested(client, n=20):
    r = client(NESTED, {"n": n})
    assert r.errors == [], r.body
    return {e["node"]["displayName"]: e["node"] for e in r.data["contacts"]["edges"]}


def test_contact_interactions_and_timeline_nested(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    ids = contact_ids(rep1)
    for i in range(3):
        log(rep1, ids["Marco Rossi"], text=f"m{i}", occurredAt=f"2026-01-0{i + 1}T09:00:00Z")
    log(rep1, ids["Iberia Logistics S.L."], text="private")
    mine = _nested(rep1, 2)
    assert [i["text"] for i in mine["Marco Rossi"]["interactions"]] == ["m2", "m1"]
    marco = mine["Marco Rossi"]["timeline"]
    assert [e["node"]["interaction"]["text"] for e in marco["edges"]] == ["m2", "m1"]
    assert marco["pageInfo"]["hasNextPage"] is True
    # the nested page continues with contactTimeline(after: endCursor)
    rest = timeline(rep1, ids["Marco Rossi"], a=marco["pageInfo"]["endCursor"], n=10)
    assert [e["node"]["interaction"]["text"] for e in rest["edges"]] == ["m0"]
    assert "private" in [i["text"] for i in mine["Iberia Logistics S.L."]["interactions"]]

    theirs = _nested(rep2)
    assert "Iberia Logistics S.L." not in theirs  # the contact is hidden, and so its history
    assert [i["text"] for i in theirs["Marco Rossi"]["interactions"]] == ["m2", "m1", "m0"]
    bad = rep1(NESTED, {"n": 101})
    assert bad.codes == ["BAD_USER_INPUT"]


def test_nested_history_statements_do_not_grow_with_the_page(as_, sql_log):
    rep1 = as_("rep1")
    ids = contact_ids(rep1)

    def cost():
        with sql_log:
            shown = _nested(rep1, 50)
        return list(sql_log.statements), shown

    for name in list(ids)[:2]:  # every kind of entry is on the small page already
        log(rep1, ids[name], text="one")
        rep1(
            TASK, {"i": {"title": "S", "deadline": "2030-01-01T09:00:00Z", "contactId": ids[name]}}
        )
    small, shown_small = cost()
    for name in ids:
        for i in range(3):
            log(rep1, ids[name], text=f"more {i}")
            rep1(
                TASK,
                {
                    "i": {
                        "title": f"T{i}",
                        "deadline": "2030-01-01T09:00:00Z",
                        "contactId": ids[name],
                    }
                },
            )
    large, shown_large = cost()
    assert sum(len(c["interactions"]) for c in shown_large.values()) > 2 * sum(
        len(c["interactions"]) for c in shown_small.values()
    )
    assert len(large) == len(small), "\n\n".join(s[:300] for s in large)


def test_hook_crm_timeline_events(registry, as_):
    """Calendar declares the hook; invoices and leads answer it (optionally: a registry
    without calendar still starts), and what they answer reaches the timeline."""
    from gateway.plugins import build_registry

    callers = {
        registry.by_object(i.plugin).info.name
        for i in registry.pm.hook.crm_timeline_events.get_hookimpls()
    }
    assert callers == {"invoices", "leads"}
    bare = build_registry(
        builtin=("gateway.core.plugin", "plugins.contacts", "plugins.leads", "plugins.invoices"),
        entry_points=False,
    )
    assert bare.pm.hook.crm_timeline_events.spec is None  # started; nobody declares it

    rep1 = as_("rep1")
    lucia = contact_ids(rep1)["Lucía Fernández"]
    invoice = _invoice(rep1, lucia)
    page = timeline(rep1, lucia, k=["invoice.issued"])
    assert [e["node"]["subject"]["id"] for e in page["edges"]][:1] == [invoice]


MERGE = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) {
  contact { id } errors { code message } } }"""
NEW_CONTACT = (
    """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
)
DELETE_CONTACT = """mutation($id: ID!) { deleteContact(id: $id) { errors { code message } } }"""


def test_history_follows_merged_contacts_and_dies_with_deleted_ones(as_):
    manager = as_("manager")

    def new(name):
        r = manager(NEW_CONTACT, {"i": {"kind": "COMPANY", "companyName": name}})
        return r.data["createContact"]["contact"]["id"]

    kept, merged, doomed = new("Keep SA"), new("Keep S.A."), new("Doomed SL")
    log(manager, kept, text="on kept")
    moved = log(manager, merged, text="on merged")
    gone = log(manager, doomed, text="on doomed")
    r = manager(MERGE, {"k": kept, "m": merged})
    assert r.errors == [] and r.data["mergeContacts"]["errors"] == [], r.body
    texts = [e["node"]["text"] for e in manager(LIST, {"c": kept}).data["interactions"]["edges"]]
    assert sorted(texts) == ["on kept", "on merged"]
    assert manager(ONE, {"id": moved["id"]}).data["interaction"]["text"] == "on merged"

    r = manager(DELETE_CONTACT, {"id": doomed})
    assert r.errors == [] and r.data["deleteContact"]["errors"] == [], r.body
    assert manager(ONE, {"id": gone["id"]}).data["interaction"] is None


def test_demo_history(as_):
    rep2 = as_("rep2")
    nordic = contact_ids(rep2)["Nordic Parts AB"]
    page = timeline(rep2, nordic, k=["interaction"])
    notes = [e["node"]["interaction"] for e in page["edges"]]
    assert [(n["text"], n["author"]["email"], n["category"]["name"]) for n in notes] == [
        ("Prefers email; invoices in SEK.", "rep2@demo.test", "Note")
    ]
