"""crm-gateway: the kernel of a CRM whose modules are plugins (see docs/architecture.md)."""

__version__ = "0.1.0"
