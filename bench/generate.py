"""Seeded, deterministic benchmark data: ``python -m bench.generate --contacts 10000 --users 50``.

Creates the schema with the project's migrations, then three tenants:

``bench`` (the one the queries run against)
    A three-level sales hierarchy: one director, ``(users - 1) // 7`` managers and the rest
    reps (50 users: 1 + 7 + 42; 500 users: 1 + 71 + 428), each rep reporting to a manager
    round-robin, plus ``admin@bench.test``. Every user signs in with ``bench-password``.
    ``--contacts`` contacts owned by the reps, about 20 % ``PUBLIC_READ``; about 20 % are
    companies and half of the persons belong to one. Each has 1-2 emails, a phone, 1-3 of 20
    tags and 2 custom field values. ``manager02`` holds a copy of the manager profile with
    field rules (``Contact.description`` and ``Contact.fiscalId`` hidden,
    ``Contact.discount`` read-only). A few records are shared, and one sharing rule opens
    the subtree of the last manager to ``rep001``.
``sparse`` (for Q5: a user who sees few rows of a large table)
    As many contacts again, all private except exactly 10 public ones; ``few@sparse.test``
    owns exactly 20 of them and has 3 shared with it, so it sees 33 rows whatever the size.
``other``
    30 public persons whose names sort first and match the searches: they must never
    appear in the other tenants' results.

Rows are inserted in batches of 5000 contacts with SQLAlchemy Core ``insert()`` (``COPY`` on
PostgreSQL), contact ids chosen here so persons can point to companies inserted earlier;
the search columns and ``sort_name`` are computed exactly as
:func:`plugins.contacts.services.refresh_search` does (checked on a sample afterwards).
10k contacts take ~4 s, 100k ~35 s (SQLite) / ~50 s (PostgreSQL), 1M ~7 min (SQLite): the
``sparse`` tenant doubles the count.
"""

from __future__ import annotations

import argparse
import random
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text
from sqlalchemy.orm import Session, selectinload, undefer

from gateway import migrate
from gateway.access.models import FieldMode, ProfileFieldRule, RecordShare, SharingRule
from gateway.access.services import grant, standard_grants
from gateway.contract import AccessLevel
from gateway.db import Database, normalise_url
from gateway.identity import services as identity
from gateway.identity.models import ADMINISTRATOR_PROFILE, Profile, ProfileKind, User
from gateway.plugins import PluginRegistry, build_registry
from gateway.tenancy.models import Tenant
from plugins.contacts.demo import GRANTS
from plugins.contacts.models import (
    Category,
    ClientKind,
    Contact,
    ContactEmail,
    ContactKind,
    ContactPhone,
    ContactTagLink,
    ContactType,
    CustomField,
    CustomValue,
    FieldType,
    Tag,
)
from plugins.contacts.services import refresh_search
from plugins.contacts.validation import fold

#: ``fold`` of the pooled name parts (names repeat; emails, phones and tags are ASCII
#: lower case already, which ``fold`` leaves unchanged).
_fold = lru_cache(maxsize=4096)(fold)

PASSWORD = "bench-password"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / ".data"
BATCH = 5000
MAIN, SPARSE, OTHER = "bench", "sparse", "other"
SPARSE_OWNED, SPARSE_PUBLIC, SPARSE_SHARED = 20, 10, 3
OTHER_CONTACTS = 30
TAG_COUNT = 20
#: Field rules of the "Sales manager (field rules)" profile (Q6).
FIELD_RULES = [
    ("Contact", "description", FieldMode.HIDDEN),
    ("Contact", "fiscalId", FieldMode.HIDDEN),
    ("Contact", "discount", FieldMode.READ_ONLY),
]
_NAME = re.compile(r"^Bench \(contacts=(\d+) users=(\d+) seed=(\d+)\)$")
_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_ENTITY_ACTIONS = {"read", "create", "update", "delete"}

FIRST = [
    "Lucía", "José", "María", "Marco", "Ana", "Hannah", "Jürgen", "Zoë", "Martín", "Chloé",
    "Noah", "Olivia", "Mateo", "Sofía", "Lukas", "Emma", "Léa", "Hugo", "Marta", "Pablo",
    "Inés", "Björn", "Åsa", "Carmen", "Diego", "Elena", "Javier", "Lorena", "Nuria", "Tomás",
]  # fmt: skip
LAST = [
    "Fernández", "Rossi", "Sousa", "Becker", "García", "Müller", "Martínez", "Dubois", "López",
    "Schmidt", "Núñez", "Bianchi", "Pereira", "Johansson", "Moreau", "Romero", "Weber",
    "Álvarez", "Costa", "Lindqvist", "Marín", "Ortega", "Santos", "Fischer", "Lambert",
]  # fmt: skip
WORD1 = [
    "Iberia", "Nordic", "Atlantic", "Alpine", "Baltic", "Celtic", "Andes", "Sahara", "Danube",
    "Mistral", "Boreal", "Levante", "Cantábrico", "Tajo", "Ebro", "Rhône", "Óder", "Vístula",
]  # fmt: skip
WORD2 = [
    "Logistics", "Foods", "Parts", "Software", "Textiles", "Energy", "Marine", "Pharma",
    "Motors", "Media", "Metals", "Paper", "Glass", "Wines", "Tools", "Retail",
]  # fmt: skip
SUFFIX = ["S.L.", "S.A.", "AB", "GmbH", "Ltd", "SARL", "S.p.A.", "Lda."]
CITIES = [
    ("Madrid", "ES"), ("Barcelona", "ES"), ("A Coruña", "ES"), ("Milano", "IT"),
    ("Lisboa", "PT"), ("Berlin", "DE"), ("Stockholm", "SE"), ("Lyon", "FR"), ("Porto", "PT"),
]  # fmt: skip
INDUSTRIES = ["Logistics", "Food", "Industry", "Services", "Retail"]


def ascii_name(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return re.sub(r"[^a-z]", "", "".join(c for c in decomposed if c.isascii()).lower())


def default_url(data_dir: Path, contacts: int, users: int) -> str:
    """The SQLite file of a dataset size (several sizes coexist under ``data_dir``)."""
    return f"sqlite:///{(data_dir / f'c{contacts}-u{users}' / 'crm.sqlite3').resolve()}"


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    return Path(url.split("///", 1)[1])


def tenant_name(contacts: int, users: int, seed: int) -> str:
    return f"Bench (contacts={contacts} users={users} seed={seed})"


def existing_dataset(engine: Engine) -> tuple[int, int, int] | None:
    """``(contacts, users, seed)`` of the dataset in the database, ``None`` if empty."""
    if not inspect(engine).has_table("tenants"):
        return None
    with engine.connect() as conn:
        name = conn.scalar(select(Tenant.name).where(Tenant.slug == MAIN))
    if name is None:
        return None
    m = _NAME.match(name)
    if m is None:
        raise SystemExit(f"tenant {MAIN!r} exists but was not made by bench.generate: {name!r}")
    return int(m[1]), int(m[2]), int(m[3])


# -- users and profiles -------------------------------------------------------------------------


@dataclass
class Org:
    """One tenant's ids, as the contact generator and the queries need them."""

    tenant_id: int
    director: int
    managers: list[int]
    reps: list[int]
    #: rep id → its manager's id
    manager_of: dict[int, int] = field(default_factory=dict)

    def team(self, manager_index: int) -> list[int]:
        """The reps of the ``manager_index``-th manager (0-based)."""
        manager = self.managers[manager_index]
        return [r for r in self.reps if self.manager_of[r] == manager]


def _codes(actions: list[str]) -> list[str]:
    return [f"contacts.contact.{a}" if a in _ENTITY_ACTIONS else f"contacts.{a}" for a in actions]


def _profile(
    session: Session, tenant_id: int, name: str, grants: list[str], parent: Profile | None = None
) -> Profile:
    profile = Profile(
        tenant_id=tenant_id,
        name=name,
        kind=ProfileKind.HIERARCHICAL,
        parent_id=parent.id if parent else None,
    )
    session.add(profile)
    session.flush()
    grant(session, profile, _codes(grants))
    return profile


def _user(
    session: Session,
    tenant_id: int,
    email: str,
    name: str,
    profile: Profile,
    manager: User | None = None,
) -> User:
    return identity.create_user(
        session,
        tenant_id=tenant_id,
        email=email,
        password=PASSWORD,
        display_name=name,
        profile=profile,
        manager=manager,
        hash_profile="fast",
    )


def create_org(
    session: Session,
    registry: PluginRegistry,
    slug: str,
    name: str,
    domain: str,
    managers: int,
    reps: int,
    *,
    field_rules_manager: int | None = None,
) -> Org:
    """A tenant with an administrator, a director, managers and reps (round-robin teams)."""
    tenant = identity.create_tenant(session, slug, name, standard_grants(registry))
    admin_profile = identity.get_profile(session, tenant.id, ADMINISTRATOR_PROFILE)
    _user(session, tenant.id, f"admin@{domain}", f"{slug} admin", admin_profile)
    director_p = _profile(session, tenant.id, "Director", GRANTS["Director"])
    manager_p = _profile(session, tenant.id, "Sales manager", GRANTS["Sales manager"], director_p)
    rep_p = _profile(session, tenant.id, "Sales rep", GRANTS["Sales rep"], manager_p)
    restricted_p = None
    if field_rules_manager is not None:
        restricted_p = _profile(
            session,
            tenant.id,
            "Sales manager (field rules)",
            GRANTS["Sales manager"],
            director_p,
        )
        session.add_all(
            ProfileFieldRule(profile_id=restricted_p.id, type_name=t, field_name=f, mode=m)
            for t, f, m in FIELD_RULES
        )
    director = _user(session, tenant.id, f"director@{domain}", "Dana Director", director_p)
    manager_users = []
    for m in range(managers):
        profile = restricted_p if m == field_rules_manager and restricted_p else manager_p
        manager_users.append(
            _user(
                session,
                tenant.id,
                f"manager{m + 1:02d}@{domain}",
                f"Manager {m + 1:02d}",
                profile,
                director,
            )
        )
    org = Org(tenant.id, director.id, [u.id for u in manager_users], [])
    for r in range(reps):
        boss = manager_users[r % managers]
        rep = _user(session, tenant.id, f"rep{r + 1:03d}@{domain}", f"Rep {r + 1:03d}", rep_p, boss)
        org.reps.append(rep.id)
        org.manager_of[rep.id] = boss.id
    session.flush()
    return org


# -- contacts -----------------------------------------------------------------------------------


@dataclass
class Catalogue:
    """A tenant's tags, custom fields and contact types (defined once per tenant)."""

    tags: list[tuple[int, str]]
    industry: int
    revenue: int
    types: list[int]


def create_catalogue(session: Session, tenant_id: int) -> Catalogue:
    tags = [Tag(tenant_id=tenant_id, name=f"tag-{i}") for i in range(TAG_COUNT)]
    types = [ContactType(tenant_id=tenant_id, name=n) for n in ("Client", "Partner")]
    industry = CustomField(
        tenant_id=tenant_id,
        key="industry",
        label="Industry",
        type=FieldType.CHOICE,
        choices="\n".join(INDUSTRIES),
        position=1,
    )
    revenue = CustomField(
        tenant_id=tenant_id,
        key="annual_revenue",
        label="Annual revenue (EUR)",
        type=FieldType.NUMBER,
        position=2,
    )
    session.add_all([*tags, *types, industry, revenue])
    session.flush()
    return Catalogue([(t.id, t.name) for t in tags], industry.id, revenue.id, [t.id for t in types])


@dataclass
class Rows:
    contacts: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.contacts)


class ContactFactory:
    """Builds the rows of one tenant's contacts, deterministically from its random stream."""

    def __init__(self, rng: random.Random, tenant_id: int, catalogue: Catalogue) -> None:
        self.rng = rng
        self.tenant_id = tenant_id
        self.catalogue = catalogue
        #: company id → (name, owner id), and owner id → that owner's company ids
        self.companies: dict[int, tuple[str, int]] = {}
        self.companies_of: dict[int, list[int]] = {}
        self.company_ids: list[int] = []

    def add(
        self,
        rows: Rows,
        contact_id: int,
        owner_id: int,
        access: AccessLevel,
        *,
        company: bool | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> None:
        rng = self.rng
        is_company = rng.random() < 0.2 if company is None else company
        first = last = company_name = ""
        company_id = None
        if is_company:
            company_name = f"{rng.choice(WORD1)} {rng.choice(WORD2)} {rng.choice(SUFFIX)}"
            display = company_name
            local = ascii_name(company_name.split()[0])
            addresses = [f"info{contact_id}@{local}.example"]
        else:
            first = first_name or rng.choice(FIRST)
            last = last_name or rng.choice(LAST)
            display = f"{first} {last}"
            addresses = [f"{ascii_name(first)}.{ascii_name(last)}{contact_id}@example.com"]
            if self.company_ids and rng.random() < 0.5:
                own = self.companies_of.get(owner_id)
                pool = own if own and rng.random() < 0.8 else self.company_ids
                company_id = rng.choice(pool)
        if rng.random() < 0.4:
            addresses.append(f"c{contact_id}@home.example")
        number = f"+34 6{rng.randrange(10):d}{rng.randrange(10):d} {rng.randrange(1000):03d} "
        number += f"{rng.randrange(1000):03d}"
        digits = "".join(ch for ch in number if ch.isdigit())
        tags = sorted(rng.sample(self.catalogue.tags, rng.randint(1, 3)))
        city, country = rng.choice(CITIES)
        category = rng.choice(list(Category))
        created = _BASE_TIME + timedelta(minutes=contact_id)
        t = self.tenant_id
        rows.contacts.append(
            {
                "id": contact_id,
                "tenant_id": t,
                "kind": ContactKind.COMPANY if is_company else ContactKind.PERSON,
                "first_name": first,
                "last_name": last,
                "company_name": company_name,
                "company_id": company_id,
                "client_kind": ClientKind.COMPANY
                if is_company
                else rng.choice([ClientKind.INDIVIDUAL, ClientKind.SELF_EMPLOYED]),
                "category": category,
                "contact_type_id": self.catalogue.types[category is Category.AGENT],
                "city": city,
                "country": country,
                "source": rng.choice(["web", "fair", "referral"]),
                "segment": "enterprise" if is_company else "smb",
                "zone": rng.choice(["north", "south", "east", "west"]),
                "description": f"Bench note {contact_id}: prefers calls in the morning.",
                "discount": Decimal(rng.randrange(0, 20)) if rng.random() < 0.3 else None,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "access": access.value,
                "created_at": created,
                "updated_at": created + timedelta(days=rng.randrange(30)),
                # exactly as plugins.contacts.services.refresh_search
                "sort_name": _fold(display)[:300],
                "search_first_name": _fold(first),
                "search_last_name": _fold(last),
                "search_company_name": _fold(company_name),
                "search_emails": _fold(" ".join(addresses)),
                "search_phones": _fold(f"{number} {digits}"),
                "search_fiscal_id": "",
                "search_tags": _fold(" ".join(n for _, n in tags)),
                "search_text": _fold(
                    " ".join(p for p in (first, last, company_name, *addresses) if p)
                    + f" {number} {digits} "
                    + " ".join(n for _, n in tags)
                ),
            }
        )
        for position, address in enumerate(addresses):
            rows.emails.append(
                {
                    "tenant_id": t,
                    "contact_id": contact_id,
                    "kind": "WORK" if position == 0 else "HOME",
                    "address": address,
                    "position": position,
                }
            )
        rows.phones.append(
            {
                "tenant_id": t,
                "contact_id": contact_id,
                "kind": "WORK",
                "number": number,
                "digits": digits,
                "position": 0,
            }
        )
        rows.tags.extend(
            {"contact_id": contact_id, "tag_id": tag_id, "tenant_id": t} for tag_id, _ in tags
        )
        industry = rng.choice(INDUSTRIES)
        revenue = Decimal(rng.randrange(1, 500) * 10000)
        for field_id, text_value, number_value in (
            (self.catalogue.industry, industry, None),
            (self.catalogue.revenue, None, revenue),
        ):
            rows.values.append(
                {
                    "contact_id": contact_id,
                    "field_id": field_id,
                    "tenant_id": t,
                    "value_text": text_value,
                    "value_number": number_value,
                    "value_date": None,
                    "value_bool": None,
                }
            )
        if is_company:
            self.companies[contact_id] = (company_name, owner_id)
            self.companies_of.setdefault(owner_id, []).append(contact_id)
            self.company_ids.append(contact_id)


def _copy(conn: Connection, table: Table, values: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3), with the columns' Python-side
    defaults filled in as ``insert()`` would."""
    given = list(values[0])
    defaults = {
        c.name: c.default.arg
        for c in table.columns
        if c.name not in given and c.default is not None and c.default.is_scalar
    }
    columns = [*given, *defaults]
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in values:
            copy.write_row(
                [v.value if isinstance(v, Enum) else v for v in row.values()]
                + list(defaults.values())
            )


def insert_rows(engine: Engine, rows: Rows) -> None:
    """One batch, in one transaction, in foreign-key order: SQLAlchemy Core ``insert()``
    with a list of dicts (``COPY`` on PostgreSQL, several times faster)."""
    with engine.begin() as conn:
        for table, values in (
            (Contact.__table__, rows.contacts),
            (ContactEmail.__table__, rows.emails),
            (ContactPhone.__table__, rows.phones),
            (ContactTagLink.__table__, rows.tags),
            (CustomValue.__table__, rows.values),
        ):
            if not values:
                continue
            if conn.dialect.name == "postgresql":
                _copy(conn, table, values)  # type: ignore[arg-type]
            else:
                conn.execute(insert(table), values)


def batched(plan: Iterator[tuple[Any, ...]], factory: ContactFactory) -> Iterator[Rows]:
    rows = Rows()
    for contact_id, owner_id, access, extra in plan:
        factory.add(rows, contact_id, owner_id, access, **extra)
        if len(rows) >= BATCH:
            yield rows
            rows = Rows()
    if rows:
        yield rows


# -- the three tenants --------------------------------------------------------------------------


def _main_plan(
    rng: random.Random, first_id: int, count: int, org: Org
) -> Iterator[tuple[Any, ...]]:
    for i in range(count):
        access = AccessLevel.PUBLIC_READ if rng.random() < 0.2 else AccessLevel.PRIVATE
        yield first_id + i, rng.choice(org.reps), access, {}


def _sparse_plan(
    rng: random.Random, first_id: int, count: int, org: Org, few: int
) -> Iterator[tuple[Any, ...]]:
    """Private rows of the other reps, except SPARSE_OWNED of ``few`` and SPARSE_PUBLIC public
    ones, spread evenly over the id (and so creation time) range."""
    others = [r for r in org.reps if r != few]
    step = max(count // (SPARSE_OWNED + SPARSE_PUBLIC), 1)
    # every third special row is public, the others are few's: 20 + 10 interleaved
    special = {n * step + step // 2: n % 3 == 2 for n in range(SPARSE_OWNED + SPARSE_PUBLIC)}
    for i in range(count):
        public = special.get(i)
        if public is None:
            yield first_id + i, rng.choice(others), AccessLevel.PRIVATE, {}
        elif public:
            yield first_id + i, rng.choice(others), AccessLevel.PUBLIC_READ, {}
        else:
            yield first_id + i, few, AccessLevel.PRIVATE, {}


def _other_plan(first_id: int, owner: int) -> Iterator[tuple[Any, ...]]:
    for i in range(OTHER_CONTACTS):
        extra = {"company": False, "first_name": "Aaron", "last_name": "Marquez"}
        yield first_id + i, owner, AccessLevel.PUBLIC_READ, extra


@dataclass
class Report:
    tenants: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _load(engine: Engine, plan: Iterator[tuple[Any, ...]], factory: ContactFactory) -> int:
    total = 0
    for rows in batched(plan, factory):
        insert_rows(engine, rows)
        total += len(rows)
    return total


def _share(
    engine: Engine, tenant_id: int, user_id: int, record_ids: list[int], writable: int
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(RecordShare.__table__),
            [
                {
                    "user_id": user_id,
                    "entity": "contact",
                    "record_id": rid,
                    "tenant_id": tenant_id,
                    "can_write": n < writable,
                    "created_at": _BASE_TIME,
                }
                for n, rid in enumerate(record_ids)
            ],
        )


def _private_of(engine: Engine, owners: list[int], limit: int) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                select(Contact.id)
                .where(Contact.owner_id.in_(owners), Contact.access == AccessLevel.PRIVATE.value)
                .order_by(Contact.id)
                .limit(limit)
            )
        )


def generate(
    db: Database, registry: PluginRegistry, contacts: int, users: int, seed: int
) -> Report:
    engine = db.engine
    migrate.upgrade(engine, registry)
    if existing_dataset(engine) is not None:
        raise SystemExit("the database already holds a benchmark dataset (use --force)")
    managers = max((users - 1) // 7, 1)
    reps = max(users - 1 - managers, 1)
    report = Report()
    with db.transaction() as session:
        main = create_org(
            session,
            registry,
            MAIN,
            tenant_name(contacts, users, seed),
            "bench.test",
            managers,
            reps,
            field_rules_manager=1 if managers > 1 else None,
        )
        main_catalogue = create_catalogue(session, main.tenant_id)
        sparse = create_org(session, registry, SPARSE, "Sparse Ltd", "sparse.test", 2, 8)
        few = _user(
            session,
            sparse.tenant_id,
            "few@sparse.test",
            "Fay Few",
            session.get(User, sparse.reps[0]).profile,  # type: ignore[union-attr]
            session.get(User, sparse.managers[0]),
        )
        sparse.reps.append(few.id)
        sparse.manager_of[few.id] = sparse.managers[0]
        sparse_catalogue = create_catalogue(session, sparse.tenant_id)
        other = create_org(session, registry, OTHER, "Other Org", "other.test", 1, 1)
        other_catalogue = create_catalogue(session, other.tenant_id)
        # The sharing rule: the last manager's subtree is readable by rep001.
        session.add(
            SharingRule(
                tenant_id=main.tenant_id,
                name=f"Team {managers:02d} → rep001",
                entity="contact",
                owner_root_id=main.managers[-1],
                grantee_root_id=main.reps[0],
                can_write=False,
            )
        )
    report.tenants = [
        f"{MAIN}: 1 admin, 1 director, {managers} managers, {reps} reps",
        f"{SPARSE}: 1 admin, 1 director, 2 managers, 9 reps (few@sparse.test owns "
        f"{SPARSE_OWNED}, {SPARSE_PUBLIC} public rows)",
        f"{OTHER}: 1 admin, 1 director, 1 manager, 1 rep ({OTHER_CONTACTS} public contacts)",
    ]
    with engine.connect() as conn:
        next_id = (conn.scalar(select(func.max(Contact.id))) or 0) + 1
    loaded = _load(
        engine,
        _main_plan(random.Random(f"{seed}-{MAIN}"), next_id, contacts, main),
        ContactFactory(random.Random(f"{seed}-{MAIN}-rows"), main.tenant_id, main_catalogue),
    )
    report.counts[MAIN] = loaded
    next_id += loaded
    report.counts[SPARSE] = _load(
        engine,
        _sparse_plan(random.Random(f"{seed}-{SPARSE}"), next_id, contacts, sparse, few.id),
        ContactFactory(random.Random(f"{seed}-{SPARSE}-rows"), sparse.tenant_id, sparse_catalogue),
    )
    next_id += report.counts[SPARSE]
    report.counts[OTHER] = _load(
        engine,
        _other_plan(next_id, other.reps[0]),
        ContactFactory(random.Random(f"{seed}-{OTHER}-rows"), other.tenant_id, other_catalogue),
    )
    # Shares: 5 of the fifth team's private contacts with manager01 (one writable), 3 with
    # rep001; 3 private contacts of other sparse reps with few@sparse.test.
    fifth = main.team(min(4, managers - 1))
    shared = _private_of(engine, fifth, 8)
    _share(engine, main.tenant_id, main.managers[0], shared[:5], writable=1)
    _share(engine, main.tenant_id, main.reps[0], shared[5:8], writable=0)
    sparse_others = [r for r in sparse.reps if r != few.id]
    _share(engine, sparse.tenant_id, few.id, _private_of(engine, sparse_others, SPARSE_SHARED), 0)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('contacts', 'id'), "
                    "(SELECT max(id) FROM contacts))"
                )
            )
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return report


SEARCH_COLUMNS = (
    "search_text",
    "search_first_name",
    "search_last_name",
    "search_company_name",
    "search_emails",
    "search_phones",
    "search_fiscal_id",
    "search_tags",
    "sort_name",
)


def verify_search_text(db: Database, sample: int = 300) -> None:
    """Recompute the search columns and ``sort_name`` of a sample with the module's own
    ``refresh_search`` and fail loudly on any difference."""
    with db.reading() as session:
        stmt = (
            select(Contact)
            .options(
                selectinload(Contact.emails),
                selectinload(Contact.phones),
                selectinload(Contact.tag_links),
                *(undefer(getattr(Contact, name)) for name in SEARCH_COLUMNS),
            )
            .order_by(Contact.id)
            .limit(sample)
        )
        for contact in session.scalars(stmt):
            stored = [getattr(contact, name) for name in SEARCH_COLUMNS]
            refresh_search(contact)
            if [getattr(contact, name) for name in SEARCH_COLUMNS] != stored:
                raise SystemExit(f"contact {contact.id}: {stored} != refresh_search's")
        session.rollback()


def _drop_everything(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


def ensure_dataset(
    url: str, contacts: int, users: int, seed: int, *, force: bool = False, quiet: bool = False
) -> bool:
    """Generate the dataset unless the database already holds exactly this one.

    Returns whether data was generated. A database holding another dataset is an error
    unless ``force`` (which drops everything in it first).
    """
    url = normalise_url(url)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        found = existing_dataset(db.engine)
    finally:
        db.dispose()
    if found == (contacts, users, seed) and not force:
        return False
    if found is not None and not force:
        raise SystemExit(
            f"the database holds another dataset (contacts, users, seed) = {found}; "
            "pass --force to replace it"
        )
    if force:
        _drop_everything(url)
    registry = build_registry(entry_points=False)
    db = Database(url)
    start = time.perf_counter()
    try:
        report = generate(db, registry, contacts, users, seed)
        verify_search_text(db)
    finally:
        db.dispose()
    elapsed = time.perf_counter() - start
    if not quiet:
        print(f"Generated in {elapsed:.1f} s into {db.url}")
        for line in report.tenants:
            print(f"  tenant {line}")
        for slug, count in report.counts.items():
            print(f"  {count:>9} contacts in {slug}")
        print(f"  every user signs in with {PASSWORD!r}")
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: an SQLite file under --data-dir")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--force", action="store_true", help="replace an existing dataset")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.data_dir, args.contacts, args.users)
    if not ensure_dataset(url, args.contacts, args.users, args.seed, force=args.force):
        print(f"{url} already holds this dataset (use --force to regenerate)")


if __name__ == "__main__":
    main()
