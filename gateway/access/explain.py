"""``explainAccess``: why a user can or cannot read or change a record or one of its fields.

Built from the very clauses that make up the SQL predicate (``grant_clauses``), evaluated for
one record in one statement, so an explanation can never disagree with enforcement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from gateway.access import hierarchy, roles
from gateway.access.fields import FieldPolicy, field_label, scope_effective_rules
from gateway.access.models import FieldMode
from gateway.access.predicates import (
    Clause,
    Mode,
    Reason,
    assignees,
    grant_clauses,
    required_action,
)
from gateway.access.scope import SYSTEM, AccessScope
from gateway.contract import AccessControlledEntity
from gateway.errors import NotFound
from gateway.identity.models import User
from gateway.plugins import PluginRegistry


@dataclass(frozen=True)
class Finding:
    reason: Reason
    granted: bool
    detail: str


@dataclass
class Decision:
    allowed: bool
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Explanation:
    read: Decision
    write: Decision
    field: Decision | None = None


def _names(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(User.id, User.email).where(User.id.in_(ids)).execution_options(**{SYSTEM: True})
    )
    return dict(rows.all())


class _Explainer:
    def __init__(
        self,
        session: Session,
        registry: PluginRegistry,
        scope: AccessScope,
        entity: AccessControlledEntity,
        record_id: int,
    ) -> None:
        self.session = session
        self.registry = registry
        self.scope = scope
        self.entity = entity
        self.dialect = session.get_bind().dialect.name
        model = entity.model
        row = session.execute(
            select(getattr(model, entity.owner_attribute), getattr(model, entity.access_attribute))
            .where(model.id == record_id, model.tenant_id == scope.tenant_id)
            .execution_options(**{SYSTEM: True})
        ).first()
        if row is None:
            raise NotFound(f"no such {entity.entity}", field="recordId")
        self.record_id = record_id
        self.owner_id, self.access_level = row

    def _evaluate(self, clauses: list[Clause]) -> list[bool]:
        if not clauses:
            return []
        model = self.entity.model
        columns = [
            case((c.condition, True), else_=False).label(f"c{i}") for i, c in enumerate(clauses)
        ]
        row = self.session.execute(
            select(*columns).where(model.id == self.record_id).execution_options(**{SYSTEM: True})
        ).one()
        return [bool(v) for v in row]

    def _detail(self, clause: Clause, granted: bool, mode: Mode) -> str:
        s = self.scope
        match clause.reason:
            case Reason.PROFILE_KIND:
                return f"the {s.kind.value} profile kind sees every record of the organisation"
            case Reason.OWNERSHIP:
                return "owns the record" if granted else "does not own the record"
            case Reason.HIERARCHY:
                if not granted or self.owner_id is None:
                    return "the owner does not report to them"
                path = hierarchy.chain(self.session, self.owner_id, s.user_id)
                names = _names(self.session, path)
                return "the owner reports to them: " + " → ".join(names[u] for u in path)
            case Reason.ROLE_HIERARCHY:
                return self._roles(granted)
            case Reason.ASSISTANT:
                return "assists the owner" if granted else "does not assist the owner"
            case Reason.ASSIGNMENT:
                return self._assignments(granted)
            case Reason.SHARE:
                kind = "for writing" if mode is Mode.WRITE else "for reading"
                return f"the record is shared with them {kind}" if granted else "no share"
            case Reason.SHARING_RULE:
                if not granted:
                    return "no sharing rule opens the owner's records"
                rules = [
                    g.name
                    for g in s.rule_grants
                    if g.entity in (None, self.entity.entity)
                    and self.owner_id in g.owner_ids
                    and (g.can_write or mode is not Mode.WRITE)
                ]
                return "sharing rule(s): " + ", ".join(rules)
            case Reason.PUBLIC_LEVEL:
                return f"the record's access level is {self.access_level}"
            case Reason.UNOWNED:
                return "the record has no owner" if granted else "the record has an owner"
            case _:
                return clause.reason.value

    def _roles(self, granted: bool) -> str:
        """ "the owner's role is below theirs: CEO → Manager → Sales rep" (roles tree mode)."""
        if not granted or self.owner_id is None:
            return "the owner's role is not below theirs in the roles tree"
        role_of = dict(
            self.session.execute(
                select(User.id, User.role_id)
                .where(User.id.in_([self.owner_id, self.scope.user_id]))
                .execution_options(**{SYSTEM: True})
            ).all()
        )
        mine, theirs = role_of.get(self.scope.user_id), role_of.get(self.owner_id)
        path = roles.chain(self.session, theirs, mine) if mine and theirs else []
        return "the owner's role is below theirs: " + " → ".join(r.name for r in reversed(path))

    def _permission(self, code: str) -> Finding:
        """The module permission, and whether it comes from the profile or a group (A11)."""
        s = self.scope
        if code in s.profile_permissions:
            return Finding(Reason.MODULE_PERMISSION, True, f"the profile holds {code}")
        groups = sorted(s.group_grants.get(code, ()))
        if groups:
            return Finding(
                Reason.GROUP_GRANT,
                True,
                f"{code} is granted by their group(s): {', '.join(groups)}",
            )
        return Finding(
            Reason.MODULE_PERMISSION,
            False,
            f"neither the profile nor any of their groups holds {code}",
        )

    def _assignments(self, granted: bool) -> str:
        """Which assignments grant access: "assigned to you via managing company X",
        "assigned to your subordinate Y via X", "assigned to Y, whom you assist, via X"."""
        if not granted:
            return "not assigned to them, anyone below them or anyone they assist"
        grant = self.entity.assignments
        assert grant is not None
        rows_model = grant.model
        user_of = getattr(rows_model, grant.user_attribute)
        rows = self.session.scalars(
            select(rows_model)
            .where(
                getattr(rows_model, grant.record_attribute) == self.record_id,
                user_of.in_(sorted(assignees(self.scope))),
            )
            .execution_options(**{SYSTEM: True})
        ).all()
        users = [getattr(r, grant.user_attribute) for r in rows]
        names = _names(self.session, users)
        parts = []
        for row, user in zip(rows, users, strict=True):
            via = f" via {grant.describe(row)}" if grant.describe is not None else ""
            if user == self.scope.user_id:
                parts.append(f"assigned to you{via}")
            elif user in self.scope.subordinate_ids:
                parts.append(f"assigned to your subordinate {names.get(user, user)}{via}")
            else:
                parts.append(f"assigned to {names.get(user, user)}, whom you assist,{via}")
        return "; ".join(parts)

    def decide(self, mode: Mode) -> Decision:
        code = self.registry.permission_for(self.entity.entity, required_action(mode))
        holds = self.scope.has(code)
        findings = [self._permission(code)]
        clauses = grant_clauses(self.scope, self.entity, mode, self.dialect)
        results = self._evaluate(clauses)
        findings += [
            Finding(c.reason, ok, self._detail(c, ok, mode))
            for c, ok in zip(clauses, results, strict=True)
        ]
        return Decision(allowed=holds and any(results), findings=findings)


def explain(
    session: Session,
    registry: PluginRegistry,
    scope: AccessScope,
    entity: AccessControlledEntity,
    record_id: int,
    field_name: str | None = None,
    type_name: str | None = None,
    policy: FieldPolicy | None = None,
) -> Explanation:
    """Explain read and write access of ``scope``'s user to one record (and one field)."""
    explainer = _Explainer(session, registry, scope, entity, record_id)
    read = explainer.decide(Mode.READ)
    result = Explanation(read=read, write=explainer.decide(Mode.WRITE))
    if field_name is None:
        return result
    findings: list[Finding] = []
    allowed = read.allowed
    key = (type_name or "", field_name)
    rules = scope_effective_rules(scope, registry)  # derivations followed, as enforced
    causes = sorted(field_label(c) for c in rules.causes.get(key, ()) if c != key)
    rule = rules.get(key) if causes else scope.field_rules.get(key)
    if rule is None:
        detail = "no field rule for this field"
    elif causes:
        detail = f"{rule.value}: derived from (or tied to) {', '.join(causes)}"
    else:
        detail = f"the profile's field rule: {rule.value}"
    findings.append(Finding(Reason.FIELD_RULE, rule is not FieldMode.HIDDEN, detail))
    allowed = allowed and rule is not FieldMode.HIDDEN
    if policy is not None and policy.permission:
        holds = scope.has(policy.permission)
        findings.append(
            Finding(
                Reason.MODULE_PERMISSION,
                holds,
                f"the field needs {policy.permission}, which the profile "
                f"{'holds' if holds else 'lacks'}",
            )
        )
        allowed = allowed and holds
    if policy is not None and policy.full_access:
        full = explainer.decide(Mode.FULL)
        granting = [f for f in full.findings[1:] if f.granted]
        findings.append(
            Finding(
                granting[0].reason if granting else Reason.PUBLIC_LEVEL,
                full.allowed,
                "the field needs full access: "
                + (granting[0].detail if granting else "the record is visible only as public"),
            )
        )
        allowed = allowed and full.allowed
    result.field = Decision(allowed=allowed, findings=findings)
    return result
