"""Where the time of one Q1 request goes: ``python -m bench.breakdown [--first 50]``.

A diagnostic next to :mod:`bench.run` (same dataset options): times, one after the other
(not interleaved), the whole in-process request and the parts that can be run on their own,
each as a median over ``--runs``:

* the ASGI request (what ``python -m bench`` reports),
* ``GraphQLEndpoint._identify``: token lookup + module switches (+ their transaction),
* ``GatewaySchema.execute_sync``: parse (cached), validate, execute,
* validation alone (≈ what every request pays while the validation cache misses),
* the access scope alone (its five statements),
* the ORM work of the ``contacts`` resolver alone: the same statements (scope, page,
  tags, emails, owners) through a scoped session, without GraphQL,
* the floor.

The differences are attributed in the printout: "GraphQL execution machinery" is
``execute_sync`` minus validation and the ORM work; "HTTP view" is the request minus
``execute_sync`` and ``_identify``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
from graphql import parse, specified_rules
from sqlalchemy import select
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import validate_document

from bench.generate import DEFAULT_DATA_DIR, PASSWORD, default_url, ensure_dataset
from bench.queries import MANAGER, lookup_viewer, q1_case, run_floor
from gateway.access.enforcement import scope_session
from gateway.access.scope import AccessScope
from gateway.app import Gateway, create_app
from gateway.config import Settings
from gateway.db import Database, normalise_url
from gateway.graphql.context import RequestContext
from gateway.graphql.extensions import root_field_gate
from gateway.graphql.pagination import keyset_page
from gateway.identity.models import User
from gateway.identity.services import Caller
from gateway.plugins import build_registry
from gateway.testing import LOGIN
from plugins.contacts import services
from plugins.contacts.api import loader_options
from plugins.contacts.models import Contact

NODE_FIELDS = {"id", "displayName", "email", "access", "owner", "tags"}


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def scope_for(session: Any, caller: Caller, gateway: Gateway) -> AccessScope:
    return AccessScope(
        tenant_id=caller.tenant_id,
        user_id=caller.user_id,
        profile_id=caller.profile_id,
        kind=caller.profile_kind,
        all_permissions=frozenset(gateway.registry.permissions),
        session=session,
    )


def orm_page(gateway: Gateway, caller: Caller, first: int) -> None:
    """The ``contacts`` resolver's database work, without GraphQL."""
    with gateway.db.session() as session:
        scope_session(session, scope_for(session, caller, gateway), gateway.registry)
        stmt = services.filtered(session, caller.tenant_id, caller.user_id, None, None)
        page = keyset_page(
            session,
            stmt.options(*loader_options(NODE_FIELDS)),
            Contact.sort_name,
            Contact.id,
            first=first,
            after=None,
        )
        owners = sorted({c.owner_id for c in page.rows if c.owner_id is not None})
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(owners)))}
        for c in page.rows:
            _ = (c.emails[0].address if c.emails else None, users.get(c.owner_id))
            _ = [link.tag.name for link in c.tag_links]


def scope_only(gateway: Gateway, caller: Caller) -> None:
    with gateway.db.session() as session:
        scope = scope_for(session, caller, gateway)
        _ = (scope.field_rules, scope.permissions, scope.subordinate_ids, scope.shares)
        _ = scope.rule_grants


async def _request_and_token(
    gateway: Gateway, payload: dict[str, Any], runs: int
) -> tuple[float, str]:
    transport = httpx2.ASGITransport(app=create_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
        r = await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": MANAGER, "p": PASSWORD}}
        )
        token = r.json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        times = []
        for n in range(runs + 3):
            t = time.perf_counter()
            await http.post("/graphql", json=payload, headers=headers)
            if n >= 3:
                times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times), token


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url or default_url(args.data_dir, args.contacts, args.users))
    ensure_dataset(url, args.contacts, args.users, args.seed)
    settings = Settings(data_dir=args.data_dir, database_url=url, password_hash_profile="fast")
    gateway = Gateway(
        settings=settings, db=Database(url), registry=build_registry(entry_points=False)
    )
    case = q1_case(args.first)
    payload = {"query": case.document, "variables": case.variables}
    request_ms, token = asyncio.run(_request_and_token(gateway, payload, args.runs))
    endpoint = create_app(gateway).state.endpoint
    ident = endpoint._identify(f"Bearer {token}")
    caller, modules = ident.caller, ident.modules
    assert caller is not None and modules is not None
    schema = gateway.schemas.for_modules(modules)

    def execute() -> None:
        context = RequestContext(
            gateway=gateway, request_id="bench", caller=caller, enabled_modules=modules
        )
        result = schema.execute_sync(
            case.document, variable_values=case.variables, context_value=context
        )
        assert not result.errors, result.errors

    s = gateway.settings
    rules = (
        *specified_rules,
        depth_rule(s.max_query_depth, None, None),
        alias_rule(s.max_aliases),
        root_field_gate(gateway.registry, modules, False),
    )
    document = parse(case.document)
    viewer = lookup_viewer(gateway.db.engine, MANAGER)
    parts = {
        "identify (token + modules)": median_ms(
            lambda: endpoint._identify(f"Bearer {token}"), args.runs
        ),
        "execute_sync (parse, validate, execute)": median_ms(execute, args.runs),
        "validate alone": median_ms(
            lambda: validate_document(schema._schema, document, rules), args.runs
        ),
        "access scope alone (5 statements)": median_ms(
            lambda: scope_only(gateway, caller), args.runs
        ),
        "ORM work of the resolver (scope + page + relations)": median_ms(
            lambda: orm_page(gateway, caller, args.first), args.runs
        ),
        "floor": median_ms(lambda: run_floor(gateway.db.engine, case, viewer), args.runs),
    }
    gateway.db.dispose()
    execute_ms = parts["execute_sync (parse, validate, execute)"]
    machinery = (
        execute_ms
        - parts["validate alone"]
        - parts["ORM work of the resolver (scope + page + relations)"]
    )
    view = request_ms - execute_ms - parts["identify (token + modules)"]
    print(f"Q1 first:{args.first} as {MANAGER} on {gateway.db.engine.url.render_as_string()}")
    print(f"  {'ASGI request (in process)':55} {request_ms:8.2f} ms")
    for name, value in parts.items():
        print(f"  {name:55} {value:8.2f} ms")
    print("derived:")
    print(f"  {'GraphQL machinery = execute - validate - ORM work':55} {machinery:8.2f} ms")
    print(f"  {'HTTP view, thread hop = request - execute - identify':55} {view:8.2f} ms")


if __name__ == "__main__":
    main()
