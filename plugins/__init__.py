"""The built-in CRM modules. Each sub-package is one pluggy plugin (see docs/plugins.md).

``BUILTIN`` lists them in registration order; the gateway registers them before any
third-party plugin discovered through the ``crm_gateway`` entry-point group.
"""

BUILTIN: tuple[str, ...] = ("plugins.contacts", "plugins.leads", "plugins.invoices")
