"""The caller's access scope: everything record and field checks need, read in ONE
statement per operation (a UNION ALL of indexed lookups), so no check ever runs per row
and the per-request cost does not grow with the number of facts consulted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Result,
    Select,
    String,
    bindparam,
    cast,
    exists,
    literal,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from gateway.access.models import (
    FieldMode,
    ProfileFieldRule,
    ProfilePermission,
    RecordShare,
    SharingRule,
    UserHierarchy,
)
from gateway.access.role_models import GroupMember, GroupPermission, RoleHierarchy, UserGroup
from gateway.db import UTCDateTime
from gateway.identity.models import AssistantLink, ProfileKind, User
from gateway.tenancy.models import RecordVisibility, Tenant

#: Execution option for statements that must run without visibility criteria (the scope's
#: own lookups, made on the caller's session).
SYSTEM = "crm_system"


@dataclass(frozen=True)
class RuleGrant:
    """A sharing rule that applies to the caller, with the record owners it opens up."""

    rule_id: int
    name: str
    entity: str | None
    can_write: bool
    owner_ids: frozenset[int]


@dataclass
class Facts:
    #: The profile's permissions and those granted to the caller's groups.
    permissions: set[str] = field(default_factory=set)
    #: permission code → names of the caller's groups that grant it
    group_grants: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    profile_permissions: set[str] = field(default_factory=set)
    #: The organisation's record visibility follows the roles tree (not the reporting line).
    role_tree: bool = False
    field_rules: dict[tuple[str, str], FieldMode] = field(default_factory=dict)
    subordinates: set[int] = field(default_factory=set)
    served: set[int] = field(default_factory=set)
    shares: dict[str, dict[int, bool]] = field(default_factory=lambda: defaultdict(dict))
    rules: dict[int, tuple[str, str | None, bool, set[int]]] = field(default_factory=dict)


def fact_row(
    kind: str,
    s1: Any = None,
    s2: Any = None,
    s3: Any = None,
    i1: Any = None,
    i2: Any = None,
    b: Any = None,
    *,
    i3: Any = None,
    i4: Any = None,
    b2: Any = None,
    t: Any = None,
) -> list[Any]:
    """One branch of the facts query, every branch with the same typed columns.

    ``i3``, ``i4``, ``b2`` and ``t`` are unused by the facts themselves: they carry the
    token's row when sign-in reads the facts in the same statement (identity.services).
    """

    def typed(value: Any, type_: Any, name: str) -> Any:
        return (cast(null(), type_) if value is None else cast(value, type_)).label(name)

    return [
        literal(kind, String).label("k"),
        typed(s1, String, "s1"),
        typed(s2, String, "s2"),
        typed(s3, String, "s3"),
        typed(i1, Integer, "i1"),
        typed(i2, Integer, "i2"),
        typed(b, Boolean, "b"),
        typed(i3, Integer, "i3"),
        typed(i4, Integer, "i4"),
        typed(b2, Boolean, "b2"),
        # no CAST for the timestamp: SQLite would turn the text into a number
        type_coerce(null() if t is None else t, UTCDateTime).label("t"),
    ]


def fact_branches(
    profile_id: Any, user_id: Any, tenant_id: Any, *, admin: bool, assistant: bool
) -> list[Select[Any]]:
    """The facts' SELECTs for a caller given as SQL expressions: bound parameters, or the
    columns of the token's row when sign-in reads them in its own statement."""
    branches: list[Select[Any]] = []
    if not admin:
        branches.append(
            select(*fact_row("perm", s1=ProfilePermission.code)).where(
                ProfilePermission.profile_id == profile_id
            )
        )
        branches.append(
            select(
                *fact_row(
                    "field",
                    s1=ProfileFieldRule.type_name,
                    s2=ProfileFieldRule.field_name,
                    s3=ProfileFieldRule.mode,
                )
            ).where(ProfileFieldRule.profile_id == profile_id)
        )
        # module permissions granted to the caller's groups (A11), with the group's name
        branches.append(
            select(*fact_row("gperm", s1=GroupPermission.code, s2=UserGroup.name)).where(
                GroupMember.user_id == user_id,
                GroupPermission.group_id == GroupMember.group_id,
                UserGroup.id == GroupMember.group_id,
                UserGroup.tenant_id == tenant_id,
            )
        )

    # "Those below me": the reporting line or the roles tree, as the organisation chose; the
    # tenant's setting is a condition of each branch, so one statement still reads it all.
    def visibility(mode: RecordVisibility) -> ColumnElement[bool]:
        return exists(
            select(Tenant.id).where(Tenant.id == tenant_id, Tenant.record_visibility == mode)
        )

    branches.append(
        select(*fact_row("mode", s1=Tenant.record_visibility)).where(Tenant.id == tenant_id)
    )
    branches.append(
        select(*fact_row("sub", i1=UserHierarchy.descendant_id)).where(
            UserHierarchy.ancestor_id == user_id,
            UserHierarchy.depth > 0,
            visibility(RecordVisibility.REPORTING_LINE),
        )
    )
    me, below = User.__table__.alias("me"), User.__table__.alias("below")
    branches.append(
        select(*fact_row("sub", i1=below.c.id)).where(
            me.c.id == user_id,
            RoleHierarchy.ancestor_id == me.c.role_id,
            RoleHierarchy.depth > 0,
            below.c.role_id == RoleHierarchy.descendant_id,
            below.c.tenant_id == tenant_id,
            visibility(RecordVisibility.ROLE_TREE),
        )
    )
    if assistant:
        branches.append(
            select(*fact_row("served", i1=AssistantLink.served_user_id)).where(
                AssistantLink.assistant_id == user_id
            )
        )
    branches.append(
        select(
            *fact_row(
                "share", s1=RecordShare.entity, i1=RecordShare.record_id, b=RecordShare.can_write
            )
        ).where(RecordShare.user_id == user_id)
    )
    above_or_self = select(UserHierarchy.ancestor_id).where(UserHierarchy.descendant_id == user_id)
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    opened = UserHierarchy.__table__.alias("opened")
    branches.append(
        select(
            *fact_row(
                "rule",
                s1=SharingRule.entity,
                s2=SharingRule.name,
                i1=SharingRule.id,
                i2=opened.c.descendant_id,
                b=SharingRule.can_write,
            )
        )
        .join(opened, opened.c.ancestor_id == SharingRule.owner_root_id)
        .where(
            SharingRule.tenant_id == tenant_id,
            or_(
                SharingRule.grantee_profile_id == profile_id,
                SharingRule.grantee_root_id.in_(above_or_self),
                SharingRule.grantee_group_id.in_(my_groups),
            ),
        )
    )
    return branches


def facts_from_rows(rows: Iterable[Any], kind: ProfileKind) -> Facts:
    """The caller's facts from the rows of :func:`fact_branches` (other kinds ignored).

    Facts that do not apply to the profile's kind are dropped, whatever the statement read:
    sign-in reads every branch (the kind is unknown until the token is), and assistant links
    may outlive the assistant profile — served users count for assistants only, and
    administrators' grants come from their kind, not from rows.
    """
    facts = Facts()
    admin, assistant = kind is ProfileKind.ADMINISTRATOR, kind is ProfileKind.ASSISTANT
    for row in rows:
        k, s1, s2, s3, i1, i2, b = row[:7]
        if (k == "served" and not assistant) or (k in ("perm", "gperm", "field") and admin):
            continue
        match k:
            case "perm":
                facts.permissions.add(s1)
                facts.profile_permissions.add(s1)
            case "gperm":
                facts.permissions.add(s1)
                facts.group_grants[s1].add(s2)
            case "mode":
                facts.role_tree = s1 == RecordVisibility.ROLE_TREE.value
            case "field":
                facts.field_rules[(s1, s2)] = FieldMode(s3)
            case "sub":
                facts.subordinates.add(i1)
            case "served":
                facts.served.add(i1)
            case "share":
                facts.shares[s1][i1] = bool(b)
            case "rule":
                _, _, _, owners = facts.rules.setdefault(i1, (s2, s1, bool(b), set()))
                owners.add(i2)
    return facts


@cache
def _facts_statement(admin: bool, assistant: bool) -> Select[Any]:
    """The facts query for a kind of profile, built once: SQLAlchemy memoises a statement
    object's cache key, so reusing it skips both building and keying it on every request."""
    branches = fact_branches(
        bindparam("profile_id", type_=Integer),
        bindparam("user_id", type_=Integer),
        bindparam("tenant_id", type_=Integer),
        admin=admin,
        assistant=assistant,
    )
    union = branches[0].union_all(*branches[1:])
    return select(union.subquery()).execution_options(**{SYSTEM: True})


@dataclass
class AccessScope:
    """Who is asking, and what follows from it. Read at most once per operation."""

    tenant_id: int
    user_id: int
    profile_id: int
    kind: ProfileKind
    all_permissions: frozenset[str]
    session: Session = field(repr=False)
    #: Facts read at sign-in in the token's own statement (one round trip less); used once,
    #: so a scope invalidated after a change of shares or rules reads them anew.
    prefetched: Facts | None = field(default=None, repr=False)

    def _query(self, stmt: Select[Any]) -> Result[Any]:
        return self.session.execute(stmt.execution_options(**{SYSTEM: True}))

    @property
    def sees_everything(self) -> bool:
        """Administrators and structural profiles see every record of the tenant."""
        return self.kind in (ProfileKind.ADMINISTRATOR, ProfileKind.STRUCTURAL)

    @cached_property
    def _facts(self) -> Facts:
        """Permissions, field rules, subordinates, served users, shares and sharing rules of
        the caller, in one round trip (none when sign-in prefetched them)."""
        if self.prefetched is not None:
            facts, self.prefetched = self.prefetched, None
            return facts
        stmt = _facts_statement(
            self.kind is ProfileKind.ADMINISTRATOR, self.kind is ProfileKind.ASSISTANT
        )
        params = {
            "profile_id": self.profile_id,
            "user_id": self.user_id,
            "tenant_id": self.tenant_id,
        }
        return facts_from_rows(self.session.execute(stmt, params).all(), self.kind)

    @cached_property
    def permissions(self) -> frozenset[str]:
        if self.kind is ProfileKind.ADMINISTRATOR:
            return self.all_permissions
        return frozenset(self._facts.permissions)

    def has(self, code: str) -> bool:
        return code in self.permissions

    @cached_property
    def field_rules(self) -> dict[tuple[str, str], FieldMode]:
        return dict(self._facts.field_rules)

    @cached_property
    def profile_permissions(self) -> frozenset[str]:
        """What the profile alone holds (``permissions`` adds the caller's groups' grants)."""
        if self.kind is ProfileKind.ADMINISTRATOR:
            return self.all_permissions
        return frozenset(self._facts.profile_permissions)

    @cached_property
    def group_grants(self) -> dict[str, frozenset[str]]:
        """permission code → the caller's groups that grant it."""
        return {code: frozenset(names) for code, names in self._facts.group_grants.items()}

    @cached_property
    def role_tree(self) -> bool:
        """Whether ``subordinate_ids`` come from the roles tree (else the reporting line)."""
        return self._facts.role_tree

    @cached_property
    def subordinate_ids(self) -> frozenset[int]:
        """Everyone below the caller (not the caller): in the reporting hierarchy, or — when
        the organisation's visibility follows roles — every user whose role is below theirs."""
        return frozenset(self._facts.subordinates)

    @cached_property
    def served_ids(self) -> frozenset[int]:
        """The users an assistant serves (empty for other kinds)."""
        return frozenset(self._facts.served)

    @cached_property
    def shares(self) -> dict[str, dict[int, bool]]:
        """entity → record id → can_write, for records shared with the caller."""
        return dict(self._facts.shares)

    def shared_ids(self, entity: str, *, write: bool) -> frozenset[int]:
        return frozenset(
            rid for rid, can_write in self.shares.get(entity, {}).items() if can_write or not write
        )

    @cached_property
    def rule_grants(self) -> tuple[RuleGrant, ...]:
        """Sharing rules whose grantee is the caller's profile or a subtree it belongs to."""
        return tuple(
            RuleGrant(rule_id, name, entity, can_write, frozenset(owners))
            for rule_id, (name, entity, can_write, owners) in sorted(self._facts.rules.items())
        )

    def rule_owner_ids(self, entity: str, *, write: bool) -> frozenset[int]:
        ids: set[int] = set()
        for grant in self.rule_grants:
            if grant.entity in (None, entity) and (grant.can_write or not write):
                ids |= grant.owner_ids
        return frozenset(ids)
