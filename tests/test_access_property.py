"""Property: for random organisations, the SQL-enforced answers (lists, counts, lookups by id,
nested loads, write checks) equal a plain-Python reference of the access semantics —
ownership, hierarchy (the reporting line or the roles tree, as the organisation chose),
assistants, shares, sharing rules (to a profile, a subtree or a group), public levels,
assignments, and module permissions from profiles and user groups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.access import groups as access_groups
from gateway.access import roles as access_roles
from gateway.access import services as access_services
from gateway.access.enforcement import can, scope_session
from gateway.access.models import RecordShare, SharingRule
from gateway.access.predicates import Mode
from gateway.access.scope import AccessScope
from gateway.contract import AccessLevel
from gateway.errors import Forbidden
from gateway.identity import services as identity
from gateway.identity.models import AssistantLink, Profile, ProfileKind
from gateway.tenancy.models import RecordVisibility, Tenant
from tests.plugins.notes.models import Note, NoteAssignment

KINDS = [
    ProfileKind.HIERARCHICAL,
    ProfileKind.HIERARCHICAL,
    ProfileKind.HIERARCHICAL,
    ProfileKind.STRUCTURAL,
    ProfileKind.ASSISTANT,
    ProfileKind.ADMINISTRATOR,
]
LEVELS = [
    AccessLevel.PRIVATE,
    AccessLevel.PRIVATE,
    AccessLevel.PUBLIC_READ,
    AccessLevel.PUBLIC_WRITE,
]


@dataclass
class World:
    kinds: list[ProfileKind]
    managers: list[int | None]
    can_read: list[bool]
    can_update: list[bool]
    served: dict[int, set[int]]
    records: list[tuple[int | None, AccessLevel, int | None]]  # owner, level, parent
    shares: dict[tuple[int, int], bool] = field(default_factory=dict)  # (record, user) → write
    rules: list[tuple[int, int | None, int | None, bool, bool, int | None]] = field(
        default_factory=list
    )
    # (owner root, grantee profile of user i, grantee root user, can_write, all entities,
    #  grantee group)
    assignments: set[tuple[int, int]] = field(default_factory=set)  # (record, user)
    # roles tree: each role's parent; each user's role; whether visibility follows it
    role_parents: list[int | None] = field(default_factory=list)
    roles: list[int | None] = field(default_factory=list)
    role_tree: bool = False
    # user groups: (members, grants read, grants update) of notes
    groups: list[tuple[set[int], bool, bool]] = field(default_factory=list)

    def above(self, user: int) -> list[int]:
        chain, current = [], self.managers[user]
        while current is not None:
            chain.append(current)
            current = self.managers[current]
        return chain

    def roles_above(self, role: int) -> list[int]:
        chain, current = [], self.role_parents[role]
        while current is not None:
            chain.append(current)
            current = self.role_parents[current]
        return chain

    def line_below(self, user: int) -> set[int]:
        return {u for u in range(len(self.kinds)) if user in self.above(u)}

    def below(self, user: int) -> set[int]:
        """Whose records ``user`` sees as a superior: the reporting line, or the users whose
        role is below theirs when the organisation follows the roles tree."""
        if not self.role_tree:
            return self.line_below(user)
        mine = self.roles[user]
        return {
            u
            for u, role in enumerate(self.roles)
            if mine is not None and role is not None and mine in self.roles_above(role)
        }

    def subtree(self, user: int) -> set[int]:
        """A sharing rule's subtree: always the reporting line."""
        return self.line_below(user) | {user}

    def perm(self, u: int, write: bool) -> bool:
        if self.kinds[u] is ProfileKind.ADMINISTRATOR:
            return True
        if any(u in members and (w if write else r) for members, r, w in self.groups):
            return True
        return self.can_update[u] if write else self.can_read[u]

    def rule_grants(self, u: int, owner: int, write: bool) -> bool:
        for root, grantee_profile_user, grantee_root, rule_write, _all, group in self.rules:
            grantee = (
                (grantee_profile_user is not None and grantee_profile_user == u)
                or (grantee_root is not None and u in self.subtree(grantee_root))
                or (group is not None and u in self.groups[group][0])
            )
            if grantee and owner in self.subtree(root) and (rule_write or not write):
                return True
        return False

    def allowed(self, u: int, r: int, write: bool) -> bool:
        owner, level, _ = self.records[r]
        if not self.perm(u, write):
            return False
        if self.kinds[u] in (ProfileKind.ADMINISTRATOR, ProfileKind.STRUCTURAL):
            return True
        if level is AccessLevel.PUBLIC_WRITE or (level is AccessLevel.PUBLIC_READ and not write):
            return True
        share = self.shares.get((r, u))
        if share is not None and (share or not write):
            return True
        for record, assignee in self.assignments:  # like ownership, for every assignee
            if record == r and self.manages(u, assignee):
                return True
        if owner is None:
            return False
        return self.manages(u, owner) or self.rule_grants(u, owner, write)

    def manages(self, u: int, owner: int) -> bool:
        """``u`` has an owner's access to what ``owner`` owns or is assigned."""
        if owner == u or owner in self.below(u):
            return True
        return self.kinds[u] is ProfileKind.ASSISTANT and owner in self.served.get(u, set())


@st.composite
def worlds(draw) -> World:
    n = draw(st.integers(2, 7))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(n)]
    if ProfileKind.ADMINISTRATOR not in kinds:
        kinds[0] = ProfileKind.ADMINISTRATOR  # a tenant always has one
    managers = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    owners = [i for i in range(n) if kinds[i] is not ProfileKind.ASSISTANT]
    served = {
        i: set(draw(st.lists(st.sampled_from(owners), max_size=2)))
        for i in range(n)
        if kinds[i] is ProfileKind.ASSISTANT
    }
    records: list[tuple[int | None, AccessLevel, int | None]] = []
    for r in range(draw(st.integers(0, 10))):
        owner = draw(st.one_of(st.none(), st.sampled_from(owners)))
        parent = draw(st.one_of(st.none(), st.integers(0, r - 1))) if r else None
        records.append((owner, draw(st.sampled_from(LEVELS)), parent))
    world = World(
        kinds=kinds,
        managers=managers,
        can_read=[draw(st.booleans()) or draw(st.booleans()) for _ in range(n)],
        can_update=[draw(st.booleans()) for _ in range(n)],
        served=served,
        records=records,
    )
    if records:
        for _ in range(draw(st.integers(0, 4))):
            world.shares[(draw(st.integers(0, len(records) - 1)), draw(st.integers(0, n - 1)))] = (
                draw(st.booleans())
            )
    if records:
        for _ in range(draw(st.integers(0, 5))):
            record = draw(st.integers(0, len(records) - 1))
            world.assignments.add((record, draw(st.sampled_from(owners))))
    n_roles = draw(st.integers(0, 4))
    world.role_parents = [
        draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(n_roles)
    ]
    world.roles = [
        draw(st.one_of(st.none(), st.integers(0, n_roles - 1))) if n_roles else None
        for _ in range(n)
    ]
    world.role_tree = draw(st.booleans())
    world.groups = [
        (set(draw(st.lists(st.integers(0, n - 1), max_size=3))), draw(st.booleans()), False)
        if draw(st.booleans())
        else (set(draw(st.lists(st.integers(0, n - 1), max_size=3))), False, True)
        for _ in range(draw(st.integers(0, 2)))
    ]
    for _ in range(draw(st.integers(0, 2))):
        grantee = draw(
            st.sampled_from(["profile", "root", "group"] if world.groups else ["profile", "root"])
        )
        world.rules.append(
            (
                draw(st.integers(0, n - 1)),
                draw(st.integers(0, n - 1)) if grantee == "profile" else None,
                draw(st.integers(0, n - 1)) if grantee == "root" else None,
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.integers(0, len(world.groups) - 1)) if grantee == "group" else None,
            )
        )
    return world


def build(gateway, world: World):
    """The world in the database, through the kernel's services; returns ids."""
    tag = uuid.uuid4().hex[:10]
    with gateway.db.transaction() as s:
        tenant = identity.create_tenant(s, f"t{tag}", "Property")
        users, profiles = [], []
        for i, kind in enumerate(world.kinds):
            codes = ([] if not world.can_read[i] else ["notes.note.read"]) + (
                ["notes.note.update"] if world.can_update[i] else []
            )
            profile = Profile(tenant_id=tenant.id, name=f"p{i}", kind=kind)
            s.add(profile)
            s.flush()
            access_services.grant(s, profile, codes)
            profiles.append(profile)
            manager = users[world.managers[i]] if world.managers[i] is not None else None
            users.append(
                identity.create_user(
                    s,
                    tenant_id=tenant.id,
                    email=f"u{i}-{tag}@prop.test",
                    password="password-x",
                    display_name=f"u{i}",
                    profile=profile,
                    manager=manager,
                    hash_profile="fast",
                )
            )
        for a, served in world.served.items():
            s.add_all(
                AssistantLink(assistant_id=users[a].id, served_user_id=users[x].id) for x in served
            )
        notes = []
        for owner, level, parent in world.records:
            note = Note(
                tenant_id=tenant.id,
                owner_id=users[owner].id if owner is not None else None,
                access=level.value,
                title="n",
                parent=notes[parent] if parent is not None else None,
            )
            s.add(note)
            notes.append(note)
        s.flush()
        for (r, u), write in world.shares.items():
            s.add(
                RecordShare(
                    user_id=users[u].id,
                    entity="note",
                    record_id=notes[r].id,
                    tenant_id=tenant.id,
                    can_write=write,
                )
            )
        # roles and user groups, through their services
        roles = []
        for r, parent in enumerate(world.role_parents):
            parent_id = roles[parent].id if parent is not None else None
            roles.append(access_roles.create_role(s, tenant.id, f"role{r}", parent_id))
        for user, role in zip(users, world.roles, strict=True):
            access_roles.set_user_role(s, user, roles[role] if role is not None else None)
        if world.role_tree:
            s.get_one(Tenant, tenant.id).record_visibility = RecordVisibility.ROLE_TREE
        groups = [
            access_groups.create_group(
                s,
                gateway.registry,
                tenant.id,
                access_groups.GroupChanges(
                    name=f"g{g}",
                    member_ids=[users[m].id for m in members],
                    permissions=(["notes.note.read"] if read else [])
                    + (["notes.note.update"] if write else []),
                ),
            )
            for g, (members, read, write) in enumerate(world.groups)
        ]
        for root, gp, gr, write, all_entities, group in world.rules:
            s.add(
                SharingRule(
                    tenant_id=tenant.id,
                    name="r",
                    owner_root_id=users[root].id,
                    grantee_profile_id=profiles[gp].id if gp is not None else None,
                    grantee_root_id=users[gr].id if gr is not None else None,
                    grantee_group_id=groups[group].id if group is not None else None,
                    can_write=write,
                    entity=None if all_entities else "note",
                )
            )
        for slot, (r, u) in enumerate(sorted(world.assignments)):
            s.add(
                NoteAssignment(
                    tenant_id=tenant.id, note_id=notes[r].id, user_id=users[u].id, slot=f"s{slot}"
                )
            )
        # a second tenant whose notes nobody in the first may ever see
        other = identity.create_tenant(s, f"o{tag}", "Other")
        s.add(
            Note(
                tenant_id=other.id, owner_id=None, access=AccessLevel.PUBLIC_WRITE.value, title="x"
            )
        )
        return (
            tenant.id,
            [(u.id, u.profile_id, u.profile.kind) for u in users],
            [n.id for n in notes],
        )


@pytest.mark.parametrize("_", [None])  # keeps the fixtures function-scoped per run
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds())
def test_sql_enforcement_equals_reference(gateway, registry, world, _):
    tenant_id, users, note_ids = build(gateway, world)
    index = {nid: i for i, nid in enumerate(note_ids)}
    for u, (user_id, profile_id, kind) in enumerate(users):
        expected_read = {
            note_ids[r] for r in range(len(note_ids)) if world.allowed(u, r, write=False)
        }
        expected_write = {
            note_ids[r] for r in range(len(note_ids)) if world.allowed(u, r, write=True)
        }
        with gateway.db.session(write=True) as s:
            scope_session(
                s,
                AccessScope(
                    tenant_id, user_id, profile_id, kind, frozenset(registry.permissions), s
                ),
                registry,
            )
            listed = set(s.scalars(select(Note.id)))
            assert listed == expected_read, (u, world)
            assert s.scalar(select(func.count()).select_from(Note)) == len(expected_read)
            assert s.scalar(select(func.count(Note.id))) == len(expected_read)
            s.expunge_all()
            for nid in note_ids:
                assert (s.get(Note, nid) is not None) == (nid in expected_read), (u, nid)
            for note in s.scalars(select(Note)):
                parent = world.records[index[note.id]][2]
                if parent is not None:
                    seen = note.parent
                    assert (seen is not None) == (note_ids[parent] in expected_read)
                kids = {c.id for c in note.children}
                assert kids == {
                    note_ids[i]
                    for i, rec in enumerate(world.records)
                    if rec[2] == index[note.id] and note_ids[i] in expected_read
                }
                assert can(s, note, Mode.WRITE) == (note.id in expected_write), (u, note.id)
            writable = [n for n in s.scalars(select(Note))]
            for note in writable:
                note.title = "changed"
                try:
                    s.flush()
                    assert note.id in expected_write
                except Forbidden:
                    assert note.id not in expected_write
                    s.rollback()
                    break
            s.rollback()
            # assigning a note is changing it: allowed exactly where the note is writable
            assignee = next(i for i, k in enumerate(world.kinds) if k is not ProfileKind.ASSISTANT)
            for nid in sorted(expected_read)[:3]:
                s.add(
                    NoteAssignment(
                        tenant_id=tenant_id, note_id=nid, user_id=users[assignee][0], slot="new"
                    )
                )
                try:
                    s.flush()
                    assert nid in expected_write, (u, nid)
                except Forbidden:
                    assert nid not in expected_write, (u, nid)
                s.rollback()
