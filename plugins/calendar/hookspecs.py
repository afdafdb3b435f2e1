"""Hooks the calendar module declares for the modules that report to it
(``crm_add_hookspecs``).

Documented in ``docs/modules/calendar.md``; checked by ``tests/test_hookspecs.py`` like the
kernel's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gateway.sdk import hookspec

if TYPE_CHECKING:
    from gateway.sdk import CallerContext
    from plugins.calendar.history.window import TimelineEvent, TimelineWindow


@hookspec
def crm_timeline_events(context: CallerContext, window: TimelineWindow) -> Sequence[TimelineEvent]:
    """Report the events of your records about some contacts, for their timeline.

    The calendar module calls it once per timeline page (``contactTimeline``, or
    ``Contact.timeline`` for a whole page of contacts at once) and merges every enabled
    module's answer with the contacts' interactions and tasks, newest first. Only modules
    enabled for the tenant answer. Report only events of records the caller may see: run
    your statement through ``context.session`` (the caller's record visibility then applies
    to it) and skip a kind whose date or detail comes from a field the caller's rules hide
    (``unreadable_fields``). Read only: write nothing. Implement it with
    ``@hookimpl(optionalhook=True)`` unless your module requires the calendar module, so
    that a registry without calendar still starts.

    :param context: The caller's context (a request's, or a job's).
    :param window: What is asked: ``window.contact_ids`` (all visible to the caller),
        ``window.kinds`` (``None``: all; test with ``window.wants(kind)``), at most
        ``window.limit`` events per contact, older than the page's cursor
        (``window.after``). ``window.collect(context, kind, base, contact=…, at=…, id=…,
        subject_type=…, subject_id=…, detail=…)`` runs one source in one statement with
        all of that applied and returns its events.
    :returns: :class:`~plugins.calendar.history.window.TimelineEvent` objects (``kind``
        namespaced by your module, e.g. ``"invoice.issued"``; the subject a ``Node`` type of
        yours). Any number; the calendar keeps the newest ``limit`` per contact.

    Example::

        @hookimpl(optionalhook=True)
        def crm_timeline_events(context, window):
            if unreadable_fields(context, "Invoice", ["issuedAt"]):
                return []
            return window.collect(
                context, "invoice.issued", select().select_from(Invoice),
                contact=Invoice.contact_id, at=Invoice.issued_at, id=Invoice.id,
                subject_type="Invoice",
            )
    """
