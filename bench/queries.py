"""The benchmark queries of issue 6 and their floors.

Each :class:`Case` is a GraphQL document sent to the real app, and a *floor*: the same rows
in the same nested shape, fetched with hand-written SQLAlchemy Core and serialised with
``json.dumps`` in the same process. The floor

* resolves the caller's scope in **one** statement (subordinates, shared records, owners
  opened by sharing rules, the read permission: a ``UNION ALL``), then binds those id sets
  the way the gateway does (``= ANY(:ids)`` on PostgreSQL, an expanding ``IN`` on SQLite),
  so the contacts statement has the same shape and plan as the gateway's and the ratio
  measures the gateway's own overhead rather than a different SQL strategy;
* applies the same visibility: tenant AND read permission AND (owner is the caller OR owner
  below the caller OR shared with the caller OR owner opened by a sharing rule OR public).
  Assistants and structural/administrator profiles are not benchmarked, so their clauses
  are left out;
* fetches the page with its owner (join) and first email (scalar subquery) in one
  statement, then the page's tags in one more (and the total in one more when asked);
  nested shapes (Q3) are one statement of joins; statements are built once per dialect and
  scope shape, with bind parameters, as a hand-written data layer would keep them;
* does **not** authenticate: the caller's ids are looked up once, before timing. The
  gateway's token lookup and module read are part of what the ratio charges to it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from gateway.access.models import ProfilePermission, RecordShare, SharingRule, UserHierarchy
from gateway.identity.models import Profile, User
from plugins.contacts.models import (
    Contact,
    ContactAssignment,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    CustomField,
    CustomValue,
    Tag,
)
from plugins.contacts.search_index import FTS, FTS_NAME, MIN_INDEXED, fts_phrase
from plugins.contacts.validation import fold

CONTACTS = Contact.__table__
USERS = User.__table__
PROFILES = Profile.__table__
EMAILS = ContactEmail.__table__
PHONES = ContactPhone.__table__
TAG_LINKS = ContactTagLink.__table__
TAGS = Tag.__table__
VALUES = CustomValue.__table__
FIELDS = CustomField.__table__
HIERARCHY = UserHierarchy.__table__
SHARES = RecordShare.__table__
RULES = SharingRule.__table__
PERMISSIONS = ProfilePermission.__table__

READ = "contacts.contact.read"
PUBLIC = ["PUBLIC_READ", "PUBLIC_WRITE"]
Json = dict[str, Any]


# -- who is asking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    email: str
    tenant_id: int
    user_id: int
    profile_id: int


def lookup_viewer(engine: Engine, email: str) -> Viewer:
    with engine.connect() as conn:
        row = conn.execute(
            select(USERS.c.tenant_id, USERS.c.id, USERS.c.profile_id).where(USERS.c.email == email)
        ).one()
    return Viewer(email, row.tenant_id, row.id, row.profile_id)


@dataclass
class FloorScope:
    """The caller's visibility, as bind parameters for the floor's statements."""

    viewer: Viewer
    dialect: str
    can_read: bool = False
    subordinates: list[int] = field(default_factory=list)
    shared: list[int] = field(default_factory=list)
    rule_owners: list[int] = field(default_factory=list)

    @property
    def shape(self) -> tuple[str, bool, bool, bool]:
        """Which grant clauses apply (as in the gateway, empty id sets are left out)."""
        return self.dialect, bool(self.subordinates), bool(self.shared), bool(self.rule_owners)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "tenant_id": self.viewer.tenant_id,
            "user_id": self.viewer.user_id,
            "subs": self.subordinates,
            "shared": self.shared,
            "rule_owners": self.rule_owners,
        }


Shape = tuple[str, bool, bool, bool]


@cache
def _scope_stmt() -> Any:
    h, h2, h3 = HIERARCHY.alias("h"), HIERARCHY.alias("h2"), HIERARCHY.alias("h3")
    r, s, p = RULES, SHARES, PERMISSIONS
    user, tenant, profile = bindparam("user_id"), bindparam("tenant_id"), bindparam("profile_id")
    return union_all(
        select(literal_column("'sub'").label("k"), h.c.descendant_id.label("v")).where(
            h.c.ancestor_id == user, h.c.depth > 0
        ),
        select(literal_column("'share'"), s.c.record_id).where(
            s.c.user_id == user, s.c.entity == "contact"
        ),
        select(literal_column("'rule'"), h2.c.descendant_id)
        .select_from(r.join(h2, h2.c.ancestor_id == r.c.owner_root_id))
        .where(
            r.c.tenant_id == tenant,
            or_(r.c.entity.is_(None), r.c.entity == "contact"),
            or_(
                r.c.grantee_profile_id == profile,
                r.c.grantee_root_id.in_(select(h3.c.ancestor_id).where(h3.c.descendant_id == user)),
            ),
        ),
        select(literal_column("'perm'"), p.c.profile_id).where(
            p.c.profile_id == profile, p.c.code == READ
        ),
    )


def floor_scope(conn: Connection, v: Viewer) -> FloorScope:
    """Everything visibility needs, in one statement."""
    scope = FloorScope(v, conn.dialect.name)
    sets: dict[str, set[int]] = {"sub": set(), "share": set(), "rule": set()}
    params = {"user_id": v.user_id, "tenant_id": v.tenant_id, "profile_id": v.profile_id}
    for kind, value in conn.execute(_scope_stmt(), params):
        if kind == "perm":
            scope.can_read = True
        else:
            sets[kind].add(value)
    scope.subordinates = sorted(sets["sub"])
    scope.shared = sorted(sets["share"])
    scope.rule_owners = sorted(sets["rule"])
    return scope


def member(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` in the id set bound as ``name``: one array parameter on PostgreSQL, an
    expanding IN elsewhere (as ``gateway.access.predicates.member_of``)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _grants(c: Any, shape: Shape, *, public: bool) -> list[ColumnElement[bool]]:
    dialect, subs, shared, rules = shape
    alts: list[ColumnElement[bool]] = [c.owner_id == bindparam("user_id")]
    if subs:
        alts.append(member(c.owner_id, "subs", dialect))
    if shared:
        alts.append(member(c.id, "shared", dialect))
    if rules:
        alts.append(member(c.owner_id, "rule_owners", dialect))
    alts.append(_assigned(c, dialect, subs))
    if public:
        alts.append(c.access.in_(PUBLIC))
    return alts


def _assigned(c: Any, dialect: str, subs: bool) -> ColumnElement[bool]:
    """The assignment grant (a client assigned, per managing company, to the caller or to
    someone below them), as the gateway's ``assigned_to``: a correlated EXISTS."""
    a = ContactAssignment.__table__
    who = a.c.user_id == bindparam("user_id")
    if subs:
        who = or_(who, member(a.c.user_id, "subs", dialect))
    return exists(
        select(a.c.contact_id).where(
            a.c.contact_id == c.id, a.c.tenant_id == bindparam("tenant_id"), who
        )
    )


def visible(table: Any, shape: Shape) -> ColumnElement[bool]:
    """Tenant AND any grant (the read permission is checked before any statement runs)."""
    return and_(
        table.c.tenant_id == bindparam("tenant_id"), or_(*_grants(table.c, shape, public=True))
    )


def full_access(table: Any, shape: Shape) -> ColumnElement[bool]:
    """Visible through something else than a public level (``@fullAccess`` fields)."""
    return or_(*_grants(table.c, shape, public=False))


# -- JSON helpers (what the GraphQL types produce) ----------------------------------------------


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def cursor(sort_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["s", sort_name, pk]).encode()).decode()


def display_name(kind: Any, first: str, last: str, company: str) -> str:
    if kind == ContactKind.COMPANY:
        return company
    return " ".join(p for p in (first, last) if p)


def value_text(row: Any) -> str | None:
    for value in (row.value_text, row.value_number, row.value_date, row.value_bool):
        if value is None:
            continue
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return value.isoformat() if isinstance(value, date) else str(value)
    return None


# -- floors -------------------------------------------------------------------------------------
#
# Statements are built once per dialect and shape of the caller's scope, with bind
# parameters, as a hand-written data layer would keep them.


@cache
def _tags_stmt() -> Any:
    link, tag = TAG_LINKS, TAGS
    tenant = bindparam("tenant_id")
    return (
        select(link.c.contact_id, tag.c.name)
        .select_from(link.join(tag, and_(tag.c.id == link.c.tag_id, tag.c.tenant_id == tenant)))
        .where(link.c.contact_id.in_(bindparam("ids", expanding=True)), link.c.tenant_id == tenant)
        .order_by(link.c.contact_id, link.c.tag_id)
    )


def _tags(conn: Connection, tenant_id: int, ids: list[int]) -> dict[int, list[Json]]:
    found: dict[int, list[Json]] = {i: [] for i in ids}
    if ids:
        for contact_id, name in conn.execute(_tags_stmt(), {"tenant_id": tenant_id, "ids": ids}):
            found[contact_id].append({"name": name})
    return found


def like_param(word: str) -> str:
    """``%word%`` with LIKE's wildcards escaped by ``/`` (as ``contains(autoescape=True)``)."""
    return "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _word_matches(c: Any, shape: Shape, i: int, indexed: bool) -> ColumnElement[bool]:
    """Word ``i``: in the contact's own search text (a bench caller's profile hides none of
    its fields), or in the name of its company when the caller sees that company. Looked up
    in the trigram index as the gateway does (``plugins.contacts.search_index``) when the
    word is long enough: FTS5 on SQLite; on PostgreSQL the GIN index serves ``LIKE`` as it
    is, and the companies' ids go in an array, so the ``OR`` is two index scans."""
    word, sqlite = bindparam(f"w{i}"), shape[0] == "sqlite"
    company = CONTACTS.alias("search_company")
    own = c.search_text.like(word, escape="/")
    named = company.c.search_company_name.like(word, escape="/")
    if indexed and sqlite:
        match = FTS.c[FTS_NAME].bool_op("MATCH")(bindparam(f"p{i}"))
        own = and_(c.id.in_(select(FTS.c.rowid).where(match)), own)
        named = and_(company.c.id.in_(select(FTS.c.rowid).where(match)), named)
    elif indexed:
        named = and_(company.c.search_text.like(word, escape="/"), named)
    companies = select(company.c.id).where(visible(company, shape), named)
    if sqlite:
        return or_(own, c.company_id.in_(companies))
    return or_(own, c.company_id == any_(func.array(companies.scalar_subquery())))


def _conditions(shape: Shape, words: tuple[bool, ...], kind: bool, tags: int) -> list[Any]:
    c = CONTACTS.c
    where: list[Any] = [visible(CONTACTS, shape)]
    where += [_word_matches(c, shape, i, indexed) for i, indexed in enumerate(words)]
    if kind:
        where.append(c.kind == bindparam("kind"))
    link, tag = TAG_LINKS, TAGS
    where += [
        exists()
        .where(link.c.contact_id == c.id, link.c.tag_id == tag.c.id)
        .where(tag.c.name == bindparam(f"tag{i}"), tag.c.tenant_id == bindparam("tenant_id"))
        for i in range(tags)
    ]
    return where


@cache
def _list_stmts(shape: Shape, words: tuple[bool, ...], kind: bool, tags: int) -> tuple[Any, Any]:
    """(page statement, count statement); ``words``: whether each word is looked up in the
    trigram index (3 characters or more)."""
    c, u, e = CONTACTS, USERS, EMAILS
    tenant = bindparam("tenant_id")
    email = (
        select(e.c.address)
        .where(e.c.contact_id == c.c.id, e.c.tenant_id == tenant)
        .order_by(e.c.position)
        .limit(1)
        .scalar_subquery()
    )
    where = _conditions(shape, words, kind, tags)
    page = (
        select(
            c.c.id,
            c.c.kind,
            c.c.first_name,
            c.c.last_name,
            c.c.company_name,
            c.c.access,
            c.c.sort_name,
            email.label("email"),
            u.c.id.label("owner_id"),
            u.c.email.label("owner_email"),
            u.c.display_name.label("owner_name"),
        )
        .select_from(c.outerjoin(u, and_(u.c.id == c.c.owner_id, u.c.tenant_id == tenant)))
        .where(*where)
        .order_by(c.c.sort_name, c.c.id)
        .limit(bindparam("limit"))
    )
    count = select(func.count()).select_from(c).where(*where)
    return page, count


def list_floor(
    conn: Connection,
    sc: FloorScope,
    first: int,
    *,
    search: str | None = None,
    kind: str | None = None,
    tags: Sequence[str] = (),
    total: bool = False,
) -> Json:
    """``contacts(first, search, filter) { totalCount? edges { node { LIST_NODE } } pageInfo }``"""
    words = fold(search or "").split()
    result: Json = {}
    rows: list[Any] = []
    if sc.can_read:
        indexed = tuple(len(w) >= MIN_INDEXED for w in words)
        page, count = _list_stmts(sc.shape, indexed, kind is not None, len(tags))
        params = {**sc.params, "limit": first + 1}
        params.update({f"w{i}": like_param(w) for i, w in enumerate(words)})
        params.update({f"p{i}": fts_phrase(w) for i, w in enumerate(words)})
        params.update({f"tag{i}": t for i, t in enumerate(tags)})
        if kind is not None:
            params["kind"] = ContactKind(kind)
        rows = conn.execute(page, params).all()
        if total:
            result["totalCount"] = conn.scalar(count, params)
    elif total:
        result["totalCount"] = 0
    has_next = len(rows) > first
    rows = rows[:first]
    tags_of = _tags(conn, sc.viewer.tenant_id, [r.id for r in rows])
    result["edges"] = [
        {
            "node": {
                "id": gid("Contact", r.id),
                "displayName": display_name(r.kind, r.first_name, r.last_name, r.company_name),
                "email": r.email,
                "access": r.access,
                "owner": None
                if r.owner_id is None
                else {
                    "id": gid("User", r.owner_id),
                    "email": r.owner_email,
                    "displayName": r.owner_name,
                },
                "tags": tags_of[r.id],
            }
        }
        for r in rows
    ]
    result["pageInfo"] = {
        "hasNextPage": has_next,
        "endCursor": cursor(rows[-1].sort_name, rows[-1].id) if rows else None,
    }
    return {"contacts": result}


@cache
def _nested_stmt(shape: Shape, by_owner: bool) -> Any:
    c, tenant = CONTACTS, bindparam("tenant_id")
    co = CONTACTS.alias("co")
    owner, company_owner, profile = USERS.alias("o"), USERS.alias("co_o"), PROFILES
    return (
        select(
            c.c.id,
            c.c.kind,
            c.c.first_name,
            c.c.last_name,
            c.c.company_name,
            owner.c.id.label("owner_id"),
            owner.c.email.label("owner_email"),
            profile.c.name.label("profile_name"),
            co.c.id.label("co_id"),
            co.c.kind.label("co_kind"),
            co.c.first_name.label("co_first"),
            co.c.last_name.label("co_last"),
            co.c.company_name.label("co_name"),
            company_owner.c.id.label("co_owner_id"),
            company_owner.c.email.label("co_owner_email"),
        )
        .select_from(
            c.outerjoin(owner, and_(owner.c.id == c.c.owner_id, owner.c.tenant_id == tenant))
            .outerjoin(
                profile, and_(profile.c.id == owner.c.profile_id, profile.c.tenant_id == tenant)
            )
            .outerjoin(co, and_(co.c.id == c.c.company_id, visible(co, shape)))
            .outerjoin(
                company_owner,
                and_(company_owner.c.id == co.c.owner_id, company_owner.c.tenant_id == tenant),
            )
        )
        .where(visible(c, shape), *([c.c.owner_id == bindparam("owner")] if by_owner else []))
        .order_by(c.c.sort_name, c.c.id)
        .limit(bindparam("limit"))
    )


def nested_floor(conn: Connection, sc: FloorScope, first: int, owner: int | None = None) -> Json:
    """``contacts(filter: {ownerId}?) { edges { node { owner { email profile { name } }
    company { displayName owner { email } } } } }`` — one statement."""
    edges = []
    rows: Any = []
    if sc.can_read:
        stmt = _nested_stmt(sc.shape, owner is not None)
        rows = conn.execute(stmt, {**sc.params, "limit": first, "owner": owner})
    for r in rows:
        company = None
        if r.co_id is not None:
            company = {
                "displayName": display_name(r.co_kind, r.co_first, r.co_last, r.co_name),
                "owner": None if r.co_owner_id is None else {"email": r.co_owner_email},
            }
        node = {
            "id": gid("Contact", r.id),
            "displayName": display_name(r.kind, r.first_name, r.last_name, r.company_name),
            "owner": None
            if r.owner_id is None
            else {"email": r.owner_email, "profile": {"name": r.profile_name}},
            "company": company,
        }
        edges.append({"node": node})
    return {"contacts": {"edges": edges}}


@cache
def _detail_stmts(shape: Shape) -> tuple[Any, Any, Any, Any]:
    """(record with owner, company and full-access flag; emails; phones; custom values)."""
    c, tenant, pk = CONTACTS, bindparam("tenant_id"), bindparam("pk")
    co, owner = CONTACTS.alias("co"), USERS.alias("o")
    record = (
        select(
            c,
            full_access(c, shape).label("full"),
            owner.c.email.label("owner_email"),
            owner.c.display_name.label("owner_name"),
            co.c.id.label("co_id"),
            co.c.kind.label("co_kind"),
            co.c.first_name.label("co_first"),
            co.c.last_name.label("co_last"),
            co.c.company_name.label("co_name"),
        )
        .select_from(
            c.outerjoin(
                owner, and_(owner.c.id == c.c.owner_id, owner.c.tenant_id == tenant)
            ).outerjoin(co, and_(co.c.id == c.c.company_id, visible(co, shape)))
        )
        .where(c.c.id == pk, visible(c, shape))
    )
    emails = (
        select(EMAILS.c.kind, EMAILS.c.address)
        .where(EMAILS.c.contact_id == pk, EMAILS.c.tenant_id == tenant)
        .order_by(EMAILS.c.position)
    )
    phones = (
        select(PHONES.c.kind, PHONES.c.number)
        .where(PHONES.c.contact_id == pk, PHONES.c.tenant_id == tenant)
        .order_by(PHONES.c.position)
    )
    values = (
        select(
            FIELDS.c.key,
            VALUES.c.value_text,
            VALUES.c.value_number,
            VALUES.c.value_date,
            VALUES.c.value_bool,
        )
        .select_from(VALUES.join(FIELDS, FIELDS.c.id == VALUES.c.field_id))
        .where(
            VALUES.c.contact_id == pk, VALUES.c.tenant_id == tenant, FIELDS.c.tenant_id == tenant
        )
        .order_by(FIELDS.c.position)
    )
    return record, emails, phones, values


def detail_floor(conn: Connection, sc: FloorScope, pk: int) -> Json:
    """``contact(id) { DETAIL }``: the record with owner, company and the full-access flag in
    one statement, then its emails, phones, tags and custom values (one statement each)."""
    if not sc.can_read:
        return {"contact": None}
    record, emails_stmt, phones_stmt, values_stmt = _detail_stmts(sc.shape)
    params = {**sc.params, "pk": pk}
    r = conn.execute(record, params).first()
    if r is None:
        return {"contact": None}
    t = sc.viewer.tenant_id
    emails = conn.execute(emails_stmt, params).all()
    phones = conn.execute(phones_stmt, params).all()
    values = conn.execute(values_stmt, params).all()
    node = {
        "id": gid("Contact", r.id),
        "kind": r.kind.value,
        "displayName": display_name(r.kind, r.first_name, r.last_name, r.company_name),
        "firstName": r.first_name,
        "lastName": r.last_name,
        "companyName": r.company_name,
        "emails": [{"kind": k, "address": a} for k, a in emails],
        "phones": [{"kind": k, "number": n} for k, n in phones],
        "address": {
            "street": r.street,
            "city": r.city,
            "region": r.region,
            "postalCode": r.postal_code,
            "country": r.country,
        },
        "access": r.access,
        "description": r.description if r.full else None,
        "owner": None
        if r.owner_id is None
        else {"id": gid("User", r.owner_id), "email": r.owner_email, "displayName": r.owner_name},
        "tags": _tags(conn, t, [pk])[pk],
        "customFields": [{"key": v.key, "value": value_text(v)} for v in values],
        "company": None
        if r.co_id is None
        else {
            "id": gid("Contact", r.co_id),
            "displayName": display_name(r.co_kind, r.co_first, r.co_last, r.co_name),
        },
        "createdAt": r.created_at.isoformat(),
    }
    return {"contact": node}


# -- the cases ----------------------------------------------------------------------------------

LIST_NODE = "id displayName email access owner { id email displayName } tags { name }"
Q1 = f"""query Q1($first: Int!) {{ contacts(first: $first) {{
  edges {{ node {{ {LIST_NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
Q2 = """query Q2($id: ID!) { contact(id: $id) {
  id kind displayName firstName lastName companyName
  emails { kind address } phones { kind number }
  address { street city region postalCode country }
  access description owner { id email displayName } tags { name }
  customFields { key value } company { id displayName } createdAt } }"""
Q3 = """query Q3($first: Int!) { contacts(first: $first) { edges { node {
  id displayName owner { email profile { name } }
  company { displayName owner { email } } } } } }"""
Q3_OWNER = """query Q3b($first: Int!, $owner: ID!) {
  contacts(first: $first, filter: {ownerId: $owner}) { edges { node {
  id displayName owner { email profile { name } }
  company { displayName owner { email } } } } } }"""
Q4 = f"""query Q4($first: Int!, $search: String!, $tag: String!) {{
  contacts(first: $first, search: $search, filter: {{kind: PERSON, tags: [$tag]}}) {{
  totalCount edges {{ node {{ {LIST_NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
Q5 = f"""query Q5($first: Int!) {{ contacts(first: $first) {{
  totalCount edges {{ node {{ {LIST_NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""

MANAGER = "manager01@bench.test"
DIRECTOR = "director@bench.test"
FIELD_RULES_MANAGER = "manager02@bench.test"
REP = "rep001@bench.test"
FEW = "few@sparse.test"
SEARCH, TAG = "mar", "tag-3"

Floor = Callable[[Connection, FloorScope], Json]


@dataclass
class Case:
    key: str
    description: str
    email: str
    document: str
    variables: dict[str, Any]
    floor: Floor
    #: a list query whose statement count should not depend on the page size
    page_sized: bool = False


def q2_ids(engine: Engine) -> tuple[int, int]:
    """(allowed, denied) for rep001: a private person of the subtree the sharing rule opens
    to rep001 (visible only through the rule), and a private contact of manager02's team."""
    c, h = CONTACTS, HIERARCHY
    with engine.connect() as conn:
        rule_root = conn.scalar(select(RULES.c.owner_root_id).order_by(RULES.c.id).limit(1))
        team2 = conn.scalar(select(USERS.c.id).where(USERS.c.email == FIELD_RULES_MANAGER))
        shared = select(SHARES.c.record_id).where(SHARES.c.entity == "contact")

        def first_private(root: int | None, person_with_company: bool) -> int:
            stmt = (
                select(c.c.id)
                .where(
                    c.c.access == "PRIVATE",
                    c.c.owner_id.in_(select(h.c.descendant_id).where(h.c.ancestor_id == root)),
                    c.c.id.not_in(shared),
                )
                .order_by(c.c.id)
                .limit(1)
            )
            if person_with_company:
                stmt = stmt.where(c.c.kind == ContactKind.PERSON, c.c.company_id.is_not(None))
            found = conn.scalar(stmt)
            if found is None:
                raise SystemExit("the dataset has no contact for Q2; is it too small?")
            return found

        return first_private(rule_root, True), first_private(team2, False)


def q1_case(first: int, email: str = MANAGER) -> Case:
    return Case(
        f"Q1 first:{first}",
        f"contacts(first: {first}) with owner and tags, as manager01 (hierarchical)",
        email,
        Q1,
        {"first": first},
        lambda conn, sc: list_floor(conn, sc, first),
        page_sized=True,
    )


def cases(engine: Engine) -> list[Case]:
    allowed, denied = q2_ids(engine)
    rep = lookup_viewer(engine, REP).user_id
    result = [q1_case(n) for n in (10, 50, 500)]
    result += [
        Case(
            "Q2 allowed",
            "contact(id:) detail, as rep001; visible through the sharing rule only",
            REP,
            Q2,
            {"id": gid("Contact", allowed)},
            lambda conn, sc: detail_floor(conn, sc, allowed),
        ),
        Case(
            "Q2 denied",
            "contact(id:) of another team's private contact, as rep001 (null)",
            REP,
            Q2,
            {"id": gid("Contact", denied)},
            lambda conn, sc: detail_floor(conn, sc, denied),
        ),
        Case(
            "Q3 nested",
            "contacts(first: 50) → owner → profile, company → owner, as manager01",
            MANAGER,
            Q3,
            {"first": 50},
            lambda conn, sc: nested_floor(conn, sc, 50),
            page_sized=True,
        ),
        Case(
            "Q3b nested, one owner",
            "Q3 as the director, filtered on rep001's contacts: the companies' owners are "
            "mostly not the page's owner",
            DIRECTOR,
            Q3_OWNER,
            {"first": 50, "owner": gid("User", rep)},
            lambda conn, sc: nested_floor(conn, sc, 50, rep),
            page_sized=True,
        ),
        Case(
            "Q4 filter",
            f'contacts(first: 50, search: "{SEARCH}", filter: {{kind: PERSON, tags: '
            f'["{TAG}"]}}) with totalCount, as manager01',
            MANAGER,
            Q4,
            {"first": 50, "search": SEARCH, "tag": TAG},
            lambda conn, sc: list_floor(
                conn, sc, 50, search=SEARCH, kind="PERSON", tags=[TAG], total=True
            ),
            page_sized=True,
        ),
        Case(
            "Q5 sparse",
            "contacts(first: 50) with totalCount, as few@sparse.test (sees 33 rows of the table)",
            FEW,
            Q5,
            {"first": 50},
            lambda conn, sc: list_floor(conn, sc, 50, total=True),
            page_sized=True,
        ),
        Case(
            "Q6 field rules",
            "Q1 first:50 as manager02, whose profile hides/locks 3 Contact fields",
            FIELD_RULES_MANAGER,
            Q1,
            {"first": 50},
            lambda conn, sc: list_floor(conn, sc, 50),
            page_sized=True,
        ),
    ]
    return result + module_cases()


def module_cases() -> list[Case]:
    """The module lists of issue 19 (``bench.module_queries``), 50 rows as manager01."""
    from bench import module_queries as m

    return [
        Case(
            f"{key} {name}",
            f"{name}(first: 50), newest first, with {what}, as manager01",
            MANAGER,
            document,
            {"first": 50},
            lambda conn, sc, floor=floor: floor(conn, sc, 50),
            page_sized=True,
        )
        for key, name, what, document, floor in (
            ("L1", "leads", "owner", m.LEADS_Q, m.leads_floor),
            (
                "O1",
                "opportunities",
                "budget, stage, responsible",
                m.OPPORTUNITIES_Q,
                m.opportunities_floor,
            ),
            ("I1", "invoices", "owner and client", m.INVOICES_Q, m.invoices_floor),
        )
    ]


def run_floor(engine: Engine, case: Case, viewer: Viewer) -> str:
    """One floor request: scope, rows, JSON (what the ratio divides by). It reads the way the
    gateway does: one transaction on SQLite, no explicit transaction on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        scope = floor_scope(conn, viewer)
        data = case.floor(conn, scope)
    return json.dumps({"data": data})


def normalised(value: Any) -> Any:
    """Tag lists sorted by name: the gateway's tag order is whatever the database returns
    (``Contact.tag_links`` has no ``order_by``), the floor's is by tag id."""
    if isinstance(value, dict):
        return {
            k: sorted(v, key=lambda t: t["name"])
            if k == "tags" and isinstance(v, list)
            else normalised(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value
