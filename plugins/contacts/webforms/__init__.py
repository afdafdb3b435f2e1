"""Web contact forms (MISSION C7): administrators create forms; a public endpoint accepts
their submissions and creates contacts automatically.

::

    admin (GraphQL, contacts.manage_settings)   webForms, createWebForm, updateWebForm,
                                                deleteWebForm → WebForm {endpoint htmlSnippet}
    visitor's browser or server                 POST /forms/{publicKey}  (JSON or form-encoded)
                                                OPTIONS /forms/{publicKey}  (CORS preflight)

The endpoint is public, so it defends itself: the form's key names the tenant (unknown
keys, disabled forms and tenants with the contacts module off all answer 404), browsers'
``Origin`` must be one of the form's allowed origins (CORS), bodies are capped at 16 KiB,
a hidden honeypot field (``website_url``) that only bots fill makes the submission be
answered like a success and dropped, and each client address may submit a form at most
:data:`RATE_LIMIT` times per :data:`RATE_WINDOW` (counted in the database, so the limit
holds across worker processes). A valid submission creates a private contact managed by
the form's owner, tagged with the form's tags, through the contacts service helpers
(validation, search text, record events), and notifies the owner. A form whose target is
``LEAD`` hands the checked fields to the module answering ``crm_web_form_submission``
instead (the leads module: an unmanaged lead), or creates a contact if that module is off.
"""

from plugins.contacts.webforms.endpoint import ROUTES
from plugins.contacts.webforms.graphql import MUTATION_FIELDS, QUERY_FIELDS
from plugins.contacts.webforms.models import WebForm, WebFormTarget

__all__ = ["MUTATION_FIELDS", "QUERY_FIELDS", "ROUTES", "WebForm", "WebFormTarget"]
