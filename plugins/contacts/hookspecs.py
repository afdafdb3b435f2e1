"""Hooks the contacts module declares for the modules built on it (``crm_add_hookspecs``).

Documented in ``docs/modules/contacts.md``; checked by ``tests/test_hookspecs.py`` like the
kernel's.
"""

from __future__ import annotations

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
