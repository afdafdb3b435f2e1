"""Hooks the contacts module declares for the modules built on it (``crm_add_hookspecs``).

Documented in ``docs/modules/contacts.md``; checked by ``tests/test_hookspecs.py`` like the
kernel's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.sdk import (
    hookspec,
)

if TYPE_CHECKING:
    from gateway.sdk import CallerContext


@hookspec(firstresult=True)
def crm_web_form_submission(
    context: CallerContext, target: str, form_name: str, owner_id: int, values: dict[str, str]
) -> Any | None:
    """Create the record a web contact form asks for when its target is not a contact.

    The contacts module calls it for a valid submission to a form whose ``target`` is not
    ``CONTACT`` (the leads module answers ``LEAD``), inside the submission's transaction. The
    session is a system session: restrict everything to ``context.tenant_id`` yourself. The
    first non-``None`` answer wins; when none answers (the module owning the target is off
    for the tenant), the contacts module creates a contact as usual. Raise ``BadUserInput``
    naming the field to refuse the submission (the visitor gets a 400).

    :param context: The form's tenant, a system session, no acting user (a visitor).
    :param target: The form's target, e.g. ``"LEAD"``.
    :param form_name: The form's name (use it as the record's source).
    :param owner_id: The user the form's records are for (notify them).
    :param values: The fields the form collects (contact field names such as ``firstName``,
        ``companyName``, ``email``, ``description``), trimmed, length-checked, required ones
        present, empty ones left out.
    :returns: The record you created, or ``None`` if ``target`` is not yours.

    Example::

        @hookimpl
        def crm_web_form_submission(context, target, form_name, owner_id, values):
            if target != "LEAD":
                return None
            return create_lead_from(context, values, source=f"web form: {form_name}")
    """


@hookspec
def crm_reassign_tasks(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    to_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None,
) -> int:
    """Give ``from_user_id``'s tasks to ``to_user_id`` (MISSION M7 "with tasks", M8).

    The contacts module calls it inside a reassignment job's one transaction, as the user who
    started the job: move only tasks that user may change (your session enforces it) and
    raise a ``GatewayError`` to fail the whole job — nothing of it is kept, the clients'
    assignments included. Every enabled module that owns tasks answers; the answers are
    **summed** (calendar tasks, and any other module's, all move). With no module
    answering, nothing moves and the job reports 0. A client reassignment calls it once per
    batch of moved clients (up to 500 ids), so it may be called several times per job.

    :param context: The job's caller context (the starting user's access).
    :param company_id: The managing company the reassignment is for (tasks of its clients,
        or filed under it), or ``None`` for any.
    :param from_user_id: Whose tasks move (a user of the tenant, possibly inactive).
    :param to_user_id: Who gets them (an active user of the tenant, not an assistant).
    :param contact_ids: Only tasks of these clients (visible to the caller), or ``None``
        for tasks of any client or of none.
    :param starts_after: Only tasks starting at or after this instant (UTC), or ``None``.
    :param starts_before: Only tasks starting before this instant (UTC), or ``None``.
    :param task_ids: A multi-select of tasks (ids of global ``Task`` IDs), or ``None`` for
        every task the other arguments select. Given, move only those (still filtered by
        the other arguments), raise ``NotFound`` (``field="taskIds"``) for an id the
        caller may not see and ``Forbidden`` for one they may not change; a module whose
        tasks are not ``Task`` records moves none of its own. Implementations written
        before it existed may leave it out of their signature (pluggy passes only the
        arguments they name): they then ignore the selection.
    :returns: How many tasks you moved (0 or ``None`` if none).

    Example::

        @hookimpl
        def crm_reassign_tasks(context, company_id, from_user_id, to_user_id, contact_ids,
                               starts_after, starts_before):
            tasks = context.session.scalars(tasks_of(from_user_id, contact_ids, ...)).all()
            for task in tasks:
                task.assignee_id = to_user_id
            return len(tasks)
    """


@hookspec
def crm_count_tasks_to_reassign(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None,
) -> int:
    """Count the tasks :func:`crm_reassign_tasks` would move with the same arguments: the
    confirmation count shown before a reassignment runs (``reassignTasksPreview``, and
    ``reassignClientsPreview`` with ``withTasks``). Answers are summed, like the move's;
    count exactly what your move would move, with the same SQL, and only what the caller
    may see and change. Read only: write nothing.

    :param context: The caller's context (a request's, or a job's).
    :param company_id: As for ``crm_reassign_tasks``.
    :param from_user_id: As for ``crm_reassign_tasks``.
    :param contact_ids: As for ``crm_reassign_tasks``.
    :param starts_after: As for ``crm_reassign_tasks``.
    :param starts_before: As for ``crm_reassign_tasks``.
    :param task_ids: As for ``crm_reassign_tasks`` (the same typed errors).
    :returns: How many tasks would move (0 or ``None`` if none).

    Example::

        @hookimpl
        def crm_count_tasks_to_reassign(context, company_id, from_user_id, contact_ids,
                                        starts_after, starts_before):
            return context.session.scalar(count_of(tasks_of(from_user_id, contact_ids, ...)))
    """
