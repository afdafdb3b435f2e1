"""Managing companies and branches over HTTP: everyone signed in lists them, administrators
(``core.organization.manage``) change them, nothing crosses organisations, and a company
or branch that assignments use cannot be deleted."""

from __future__ import annotations

LIST = "{ managingCompanies { id name fiscalId branches { id name companyId } } }"
CREATE = """mutation($input: ManagingCompanyInput!) { createManagingCompany(input: $input) {
  company { id name fiscalId branches { name } } errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: ManagingCompanyInput!) {
  updateManagingCompany(id: $id, input: $input) { company { name fiscalId } errors { code field } } }"""
DELETE = """mutation($id: ID!) { deleteManagingCompany(id: $id) { deletedId errors { code } } }"""
BRANCH = """mutation($c: ID!, $n: String!) { createCompanyBranch(companyId: $c, name: $n) {
  branch { id name companyId } errors { code message field } } }"""
RENAME = """mutation($id: ID!, $n: String!) { renameCompanyBranch(id: $id, name: $n) {
  branch { name } errors { code } } }"""
DELETE_BRANCH = (
    """mutation($id: ID!) { deleteCompanyBranch(id: $id) { deletedId errors { code } } }"""
)


def companies(client) -> dict[str, dict]:
    r = client(LIST)
    assert r.errors == [], r.errors
    return {c["name"]: c for c in r.data["managingCompanies"]}


def test_everyone_signed_in_lists_the_demo_companies_with_branches(as_, gql):
    listed = companies(as_("rep1"))
    assert set(listed) == {"Demo Trading Iberia S.L.", "Demo Trading Portugal Lda."}
    iberia = listed["Demo Trading Iberia S.L."]
    assert [b["name"] for b in iberia["branches"]] == ["Barcelona", "Madrid"]
    assert {b["companyId"] for b in iberia["branches"]} == {iberia["id"]}
    assert companies(as_("admin@acme.test")) == {}
    assert gql(LIST).codes == ["UNAUTHENTICATED"]


def test_administrators_manage_companies_and_branches(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    refused = rep1(CREATE, {"input": {"name": "Rogue S.L."}})
    assert refused.codes == ["FORBIDDEN"]
    made = admin(CREATE, {"input": {"name": "  Demo Trading France SAS ", "fiscalId": "fr123"}})
    payload = made.data["createManagingCompany"]
    assert payload["errors"] == []
    assert payload["company"] == {
        "id": payload["company"]["id"],
        "name": "Demo Trading France SAS",
        "fiscalId": "FR123",
        "branches": [],
    }
    company = payload["company"]["id"]
    again = admin(CREATE, {"input": {"name": "Demo Trading France SAS"}})
    assert again.data["createManagingCompany"]["errors"][0]["code"] == "CONFLICT"
    blank = admin(CREATE, {"input": {"name": "  "}})
    assert blank.data["createManagingCompany"]["errors"][0]["field"] == "name"
    branch = admin(BRANCH, {"c": company, "n": "Paris"}).data["createCompanyBranch"]
    assert branch["errors"] == [] and branch["branch"]["companyId"] == company
    twice = admin(BRANCH, {"c": company, "n": "Paris"}).data["createCompanyBranch"]
    assert twice["errors"][0]["code"] == "CONFLICT"
    renamed = admin(RENAME, {"id": branch["branch"]["id"], "n": "Lyon"})
    assert renamed.data["renameCompanyBranch"] == {"branch": {"name": "Lyon"}, "errors": []}
    changed = admin(UPDATE, {"id": company, "input": {"name": "Demo Trading Francia"}})
    assert changed.data["updateManagingCompany"] == {
        "company": {"name": "Demo Trading Francia", "fiscalId": "FR123"},
        "errors": [],
    }
    assert [b["name"] for b in companies(rep1)["Demo Trading Francia"]["branches"]] == ["Lyon"]
    gone = admin(DELETE, {"id": company}).data["deleteManagingCompany"]
    assert gone == {"deletedId": company, "errors": []}
    assert "Demo Trading Francia" not in companies(rep1)


def test_nothing_crosses_organisations(as_):
    demo_company = companies(as_("admin"))["Demo Trading Iberia S.L."]
    acme = as_("admin@acme.test")
    changed = acme(UPDATE, {"id": demo_company["id"], "input": {"name": "Taken over"}})
    assert changed.data["updateManagingCompany"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert (
        acme(BRANCH, {"c": demo_company["id"], "n": "X"}).data["createCompanyBranch"]["errors"][0][
            "code"
        ]
        == "NOT_FOUND"
    )
    branch = demo_company["branches"][0]["id"]
    assert acme(DELETE_BRANCH, {"id": branch}).data["deleteCompanyBranch"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]
    assert acme(DELETE, {"id": demo_company["id"]}).data["deleteManagingCompany"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]


def test_companies_and_branches_in_use_cannot_be_deleted(as_):
    admin = as_("admin")
    listed = companies(admin)
    iberia = listed["Demo Trading Iberia S.L."]
    madrid = next(b for b in iberia["branches"] if b["name"] == "Madrid")
    # the demo assigns clients through Iberia / Madrid
    in_use = admin(DELETE, {"id": iberia["id"]}).data["deleteManagingCompany"]
    assert in_use == {"deletedId": None, "errors": [{"code": "CONFLICT"}]}
    branch = admin(DELETE_BRANCH, {"id": madrid["id"]}).data["deleteCompanyBranch"]
    assert branch == {"deletedId": None, "errors": [{"code": "CONFLICT"}]}
    assert companies(admin)["Demo Trading Iberia S.L."]["branches"] == iberia["branches"]
