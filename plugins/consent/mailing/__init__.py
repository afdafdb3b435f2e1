"""Mass email (MISSION R3, K5): one composed email with ``[field]`` placeholders to up to
100 clients or leads, sent over SMTP by a job that skips and reports every recipient a
module refuses (``crm_email_refusals``), never twice to one recipient. Part of the consent
module; ``hooks.py`` lists what it contributes. See ``docs/modules/consent.md`` ("Mass email")."""
