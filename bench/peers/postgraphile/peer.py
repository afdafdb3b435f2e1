"""The PostGraphile peer from Python: where it is installed, its policies, its extra callers,
its server process and its list query (the gateway's Q1 shape, as PostGraphile names it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import make_url

from bench.generate import PASSWORD
from gateway.access.models import RecordShare
from gateway.access.services import grant
from gateway.db import Database
from gateway.identity import services as identity
from gateway.identity.models import AssistantLink, Profile, ProfileKind, User
from gateway.tenancy.models import ManagingCompany
from plugins.contacts.models import Contact, ContactAssignment

SOURCE = Path(__file__).resolve().parent
REPO = SOURCE.parents[2]
DEFAULT_DIR = REPO / "bench" / ".data" / "postgraphile"
#: Files the server needs next to its node_modules (ES modules resolve packages from there).
SERVER_FILES = ("server.mjs", "graphile.config.mjs")

#: The list of the gateway's benchmark (Q1: ``bench.queries.LIST_NODE``), with a cursor to
#: walk pages. Differences, all PostGraphile's naming: integer ``rowId`` instead of the
#: gateway's global ``id``, ``tagsList`` (aliased ``tags``), an explicit ``orderBy`` (the
#: gateway's default order, sort name then id) and opaque cursors of another format.
PEER_LIST = """query PeerList($first: Int!, $after: Cursor) {
  contacts(first: $first, after: $after, orderBy: [SORT_NAME_ASC, ROW_ID_ASC]) {%s
    edges { node { rowId displayName email access owner { rowId email displayName }
                   tags: tagsList { name } } }
    pageInfo { hasNextPage endCursor } } }"""

#: The gateway's Q1 with a cursor (``bench.queries.Q1`` has none).
GATEWAY_LIST = """query GatewayList($first: Int!, $after: String) {
  contacts(first: $first, after: $after) {%s
    edges { node { id displayName email access owner { id email displayName } tags { name } } }
    pageInfo { hasNextPage endCursor } } }"""


def list_query(*, peer: bool, total: bool = False) -> str:
    """The list document of one side; ``total`` adds ``totalCount`` (the whole visible set,
    which the row-equality check compares besides the pages)."""
    return (PEER_LIST if peer else GATEWAY_LIST) % (" totalCount" if total else "")


def peer_dir() -> Path:
    return Path(os.environ.get("PEER_DIR", DEFAULT_DIR))


def node_binary(directory: Path | None = None) -> Path:
    return (directory or peer_dir()) / "node_modules" / ".bin" / "node"


def installed(directory: Path | None = None) -> bool:
    directory = directory or peer_dir()
    return (
        node_binary(directory).exists() and (directory / "node_modules" / "postgraphile").is_dir()
    )


def install(directory: Path | None = None) -> None:
    """``install.sh``: ``npm ci`` of the pinned versions (downloads from the npm registry)."""
    subprocess.run(["bash", str(SOURCE / "install.sh"), str(directory or peer_dir())], check=True)


def prepare(directory: Path | None = None) -> Path:
    """Copy the server and preset next to the installed packages (they may have changed)."""
    directory = directory or peer_dir()
    if not installed(directory):
        raise SystemExit(
            f"PostGraphile is not installed in {directory}: "
            "python -m bench.peers.postgraphile install"
        )
    for name in SERVER_FILES:
        shutil.copyfile(SOURCE / name, directory / name)
    return directory


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as node-postgres takes it (no driver suffix)."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise SystemExit("the PostGraphile peer needs the PostgreSQL benchmark database")
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def policies_sql() -> str:
    return (SOURCE / "rls.sql").read_text()


def apply_policies(engine: Engine, script: str | None = None) -> None:
    """Run ``rls.sql`` (idempotent: it recreates the peer's schemas and policies), or another
    version of it (``script``: the tests break a clause to see the check fail)."""
    script = policies_sql() if script is None else script
    with engine.connect() as conn:
        conn.exec_driver_sql("SET client_min_messages = warning")
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(script)  # psycopg runs a parameterless multi-statement script as is
        conn.commit()


# -- callers ------------------------------------------------------------------------------------

STRUCTURAL = "structural@bench.test"
ASSISTANT = "assistant@bench.test"
ASSIGNED = "assigned@bench.test"


@dataclass(frozen=True)
class Caller:
    email: str
    why: str


#: Who the row-equality check signs in as: one per clause of the read rule, and another tenant.
CALLERS = (
    Caller("admin@bench.test", "administrator (PROFILE_KIND)"),
    Caller(STRUCTURAL, "structural profile (PROFILE_KIND)"),
    Caller("director@bench.test", "hierarchical, top of the closure (HIERARCHY)"),
    Caller("manager01@bench.test", "hierarchical manager with 5 shares (HIERARCHY, SHARE)"),
    Caller("rep001@bench.test", "rep with 3 shares and a sharing rule (SHARE, SHARING_RULE)"),
    Caller(ASSISTANT, "assistant serving rep002 and the assigned user (ASSISTANT, ASSIGNMENT)"),
    Caller(ASSIGNED, "owns nothing, 3 contacts assigned (ASSIGNMENT, PUBLIC_LEVEL)"),
    Caller("few@sparse.test", "another tenant: 20 owned, 3 shared, 10 public"),
)


def ensure_callers(url: str) -> None:
    """Add the callers the dataset lacks (idempotent): a structural user, an assistant and a
    user with assignments (a managing company, 3 private contacts of the fifth team assigned
    to them). They have no manager and own nothing, so no benchmark case's rows change."""
    db = Database(url)
    try:
        with db.transaction() as session:
            if session.scalar(select(User.id).where(User.email == STRUCTURAL)) is not None:
                return
            tenant_id = session.scalar(
                select(User.tenant_id).where(User.email == "director@bench.test")
            )
            if tenant_id is None:
                raise SystemExit("no benchmark dataset in this database (python -m bench.generate)")

            def profile(name: str, kind: ProfileKind) -> Profile:
                p = Profile(tenant_id=tenant_id, name=name, kind=kind)
                session.add(p)
                session.flush()
                grant(session, p, ["contacts.contact.read"])
                return p

            def user(email: str, name: str, p: Profile) -> User:
                return identity.create_user(
                    session,
                    tenant_id=tenant_id,
                    email=email,
                    password=PASSWORD,
                    display_name=name,
                    profile=p,
                    hash_profile="fast",
                )

            user(STRUCTURAL, "Sam Structural", profile("Peer back office", ProfileKind.STRUCTURAL))
            assigned = user(
                ASSIGNED, "Ada Assigned", profile("Peer assigned", ProfileKind.HIERARCHICAL)
            )
            assistant = user(
                ASSISTANT, "Asa Assistant", profile("Peer assistant", ProfileKind.ASSISTANT)
            )
            rep002 = session.scalar(select(User.id).where(User.email == "rep002@bench.test"))
            session.add_all(
                [
                    AssistantLink(assistant_id=assistant.id, served_user_id=rep002),
                    AssistantLink(assistant_id=assistant.id, served_user_id=assigned.id),
                ]
            )
            company = ManagingCompany(tenant_id=tenant_id, name="Peer Iberia SL", fiscal_id="")
            session.add(company)
            session.flush()
            others = select(User.id).where(
                User.email.in_(["rep005@bench.test", "rep012@bench.test"])
            )
            shared = select(RecordShare.record_id).where(RecordShare.tenant_id == tenant_id)
            targets = session.scalars(
                select(Contact.id)
                .where(
                    Contact.tenant_id == tenant_id,
                    Contact.owner_id.in_(others),
                    Contact.access == "PRIVATE",
                    Contact.id.not_in(shared),
                )
                .order_by(Contact.id.desc())
                .limit(3)
            ).all()
            now = datetime(2026, 1, 1, tzinfo=UTC)
            session.execute(
                insert(ContactAssignment),
                [
                    {
                        "tenant_id": tenant_id,
                        "contact_id": cid,
                        "company_id": company.id,
                        "user_id": assigned.id,
                        "assigned_at": now,
                    }
                    for cid in targets
                ],
            )
    finally:
        db.dispose()


def caller_ids(engine: Engine, email: str) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(select(User.id, User.tenant_id).where(User.email == email)).one()
    return int(row.id), int(row.tenant_id)


# -- tokens and the server ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str, user_id: int, tenant_id: int) -> str:
    """An HS256 JWT as PostGraphile's lazy-JWT preset verifies it: its claims become
    ``role`` and ``jwt.claims.*`` settings of the request's transaction."""
    claims = {
        "aud": "postgraphile",
        "role": "crm_peer_reader",
        "user_id": user_id,
        "tenant_id": tenant_id,
    }
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def server_argv(directory: Path) -> list[str]:
    return [str(node_binary(directory)), str(directory / "server.mjs")]


def server_env(url: str, secret: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PEER_DATABASE_URL": libpq_url(url),
        "PEER_JWT_SECRET": secret,
        "PEER_PORT": str(port),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }


# -- answers in one comparable shape ------------------------------------------------------------


def _decoded(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


def gateway_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The gateway's page as plain rows (integer ids, tags sorted)."""
    rows = []
    for edge in data["contacts"]["edges"]:
        n = edge["node"]
        owner = n["owner"]
        rows.append(
            {
                "id": _decoded(n["id"]),
                "displayName": n["displayName"],
                "email": n["email"],
                "access": n["access"],
                "owner": None
                if owner is None
                else (_decoded(owner["id"]), owner["email"], owner["displayName"]),
                "tags": sorted(t["name"] for t in n["tags"]),
            }
        )
    return rows


def peer_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """PostGraphile's page in the shape of :func:`gateway_rows`."""
    rows = []
    for edge in data["contacts"]["edges"]:
        n = edge["node"]
        owner = n["owner"]
        rows.append(
            {
                "id": n["rowId"],
                "displayName": n["displayName"],
                "email": n["email"],
                "access": n["access"],
                "owner": None
                if owner is None
                else (owner["rowId"], owner["email"], owner["displayName"]),
                "tags": sorted(t["name"] for t in n["tags"]),
            }
        )
    return rows
