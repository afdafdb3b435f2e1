"""The caller's access scope: everything record and field checks need, loaded once per
operation (a handful of indexed reads) so no check ever runs per row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Result, Select, or_, select
from sqlalchemy.orm import Session

from gateway.access.models import (
    FieldMode,
    ProfileFieldRule,
    ProfilePermission,
    RecordShare,
    SharingRule,
    UserHierarchy,
)
from gateway.identity.models import AssistantLink, ProfileKind

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
class AccessScope:
    """Who is asking, and what follows from it. Each part is read at most once."""

    tenant_id: int
    user_id: int
    profile_id: int
    kind: ProfileKind
    all_permissions: frozenset[str]
    session: Session = field(repr=False)

    def _query(self, stmt: Select[Any]) -> Result[Any]:
        return self.session.execute(stmt.execution_options(**{SYSTEM: True}))

    @property
    def sees_everything(self) -> bool:
        """Administrators and structural profiles see every record of the tenant."""
        return self.kind in (ProfileKind.ADMINISTRATOR, ProfileKind.STRUCTURAL)

    @cached_property
    def permissions(self) -> frozenset[str]:
        if self.kind is ProfileKind.ADMINISTRATOR:
            return self.all_permissions
        stmt = select(ProfilePermission.code).where(ProfilePermission.profile_id == self.profile_id)
        return frozenset(self._query(stmt).scalars())

    def has(self, code: str) -> bool:
        return code in self.permissions

    @cached_property
    def field_rules(self) -> dict[tuple[str, str], FieldMode]:
        if self.kind is ProfileKind.ADMINISTRATOR:
            return {}
        stmt = select(
            ProfileFieldRule.type_name, ProfileFieldRule.field_name, ProfileFieldRule.mode
        ).where(ProfileFieldRule.profile_id == self.profile_id)
        return {(t, f): mode for t, f, mode in self._query(stmt)}

    @cached_property
    def subordinate_ids(self) -> frozenset[int]:
        """Everyone below the caller in the reporting hierarchy (not the caller)."""
        stmt = select(UserHierarchy.descendant_id).where(
            UserHierarchy.ancestor_id == self.user_id, UserHierarchy.depth > 0
        )
        return frozenset(self._query(stmt).scalars())

    @cached_property
    def served_ids(self) -> frozenset[int]:
        """The users an assistant serves (empty for other kinds)."""
        if self.kind is not ProfileKind.ASSISTANT:
            return frozenset()
        stmt = select(AssistantLink.served_user_id).where(
            AssistantLink.assistant_id == self.user_id
        )
        return frozenset(self._query(stmt).scalars())

    @cached_property
    def shares(self) -> dict[str, dict[int, bool]]:
        """entity → record id → can_write, for records shared with the caller."""
        result: dict[str, dict[int, bool]] = defaultdict(dict)
        stmt = select(RecordShare.entity, RecordShare.record_id, RecordShare.can_write).where(
            RecordShare.user_id == self.user_id
        )
        for entity, record_id, can_write in self._query(stmt):
            result[entity][record_id] = can_write
        return dict(result)

    def shared_ids(self, entity: str, *, write: bool) -> frozenset[int]:
        return frozenset(
            rid for rid, can_write in self.shares.get(entity, {}).items() if can_write or not write
        )

    @cached_property
    def rule_grants(self) -> tuple[RuleGrant, ...]:
        """Sharing rules whose grantee is the caller's profile or a subtree it belongs to."""
        above_or_self = select(UserHierarchy.ancestor_id).where(
            UserHierarchy.descendant_id == self.user_id
        )
        stmt = (
            select(SharingRule)
            .where(
                SharingRule.tenant_id == self.tenant_id,
                or_(
                    SharingRule.grantee_profile_id == self.profile_id,
                    SharingRule.grantee_root_id.in_(above_or_self),
                ),
            )
            .order_by(SharingRule.id)
        )
        rules = self._query(stmt).scalars().all()
        if not rules:
            return ()
        owners: dict[int, set[int]] = defaultdict(set)
        subtree = select(UserHierarchy.ancestor_id, UserHierarchy.descendant_id).where(
            UserHierarchy.ancestor_id.in_({r.owner_root_id for r in rules})
        )
        for ancestor, descendant in self._query(subtree):
            owners[ancestor].add(descendant)
        return tuple(
            RuleGrant(r.id, r.name, r.entity, r.can_write, frozenset(owners[r.owner_root_id]))
            for r in rules
        )

    def rule_owner_ids(self, entity: str, *, write: bool) -> frozenset[int]:
        ids: set[int] = set()
        for grant in self.rule_grants:
            if grant.entity in (None, entity) and (grant.can_write or not write):
                ids |= grant.owner_ids
        return frozenset(ids)
