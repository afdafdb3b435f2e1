"""The built-in CRM modules. Each sub-package is one pluggy plugin (see docs/plugins.md),
registered through the ``crm_gateway`` entry-point group declared in ``pyproject.toml`` —
the same way a partner's module is found."""
