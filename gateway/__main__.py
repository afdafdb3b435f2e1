"""``python -m gateway`` is the ``crm-gateway`` command."""

from gateway.cli import main

main()
