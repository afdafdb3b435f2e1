"""The cases list on the kernel's fast path (:mod:`gateway.shaping`): the case's plain
columns, its owner (joined) and its tags (a JSON aggregate in the page statement).
Participants, shares, tasks, documents and custom fields take the general path.
tests/test_shaped_lists.py compares the shaped answers with the general path's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.sdk import AccessLevel, shaping
from plugins.calendar.cases.models import Case, CaseTag, CaseTagLink

USER = shaping.USER


def _tags(access: Any) -> Any:
    """The case's tag links and tags (both follow the tenant only)."""
    return (
        select()
        .select_from(CaseTagLink)
        .join(CaseTag, (CaseTag.id == CaseTagLink.tag_id) & access.read_criteria(CaseTag))
        .where(CaseTagLink.case_id == Case.id, access.read_criteria(CaseTagLink))
    )


CASE = shaping.Entity(
    "Case",
    Case,
    {
        "id": shaping.node_id("Case", Case.id),
        "title": shaping.column(Case.title),
        "description": shaping.column(Case.description),
        "status": shaping.column(Case.status),
        "closedAt": shaping.column(Case.closed_at),
        "access": shaping.access_level(Case.access),
        "restricted": shaping.typed((Case.access,), lambda v: v[0] == AccessLevel.PRIVATE.value),
        "createdAt": shaping.column(Case.created_at),
        "updatedAt": shaping.column(Case.updated_at),
    },
    {
        "owner": shaping.ToOne(USER, lambda case, user: user.id == case.owner_id),
        "tags": shaping.ToMany(
            "CaseTag",
            {
                "id": shaping.node_id("CaseTag", CaseTag.id),
                "name": shaping.column(CaseTag.name),
            },
            _tags,
            order=(CaseTag.id,),
        ),
    },
)
