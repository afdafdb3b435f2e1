"""Settings read from the environment, so workers started by uvicorn see the same values."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from gateway.observability.logs import log_format


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def parse_trusted_proxies(raw: str) -> tuple[str, ...]:
    """``CRM_TRUSTED_PROXIES``: comma-separated addresses and networks (CIDR), or ``*``.

    Refused loudly when an entry is neither: a typo must not silently trust nobody (or,
    worse, someone else).
    """
    entries = tuple(item.strip() for item in raw.split(",") if item.strip())
    if entries == ("*",):
        return entries
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"CRM_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "(write e.g. 10.0.0.5, 10.0.0.0/8 or ::1, comma-separated; or * for any)"
            ) from None
    return entries


@dataclass(frozen=True)
class Settings:
    """Everything an operator can tune. Read once per process with :meth:`from_env`."""

    data_dir: Path = field(default_factory=lambda: Path("data"))
    database_url: str | None = None
    token_ttl_seconds: int = 12 * 3600
    max_query_depth: int = 12
    max_aliases: int = 100
    max_tokens: int = 5000
    max_page_size: int = 500
    default_page_size: int = 50
    #: "interactive" for production (argon2id, RFC 9106 low-memory profile); "fast" for tests.
    password_hash_profile: str = "interactive"
    graphiql: bool = True
    #: Extra plugin modules by dotted path (``CRM_PLUGINS=a.b,c.d``), for plugins that are
    #: not packaged with an entry point.
    plugins: tuple[str, ...] = ()
    #: Encrypts TOTP secrets and signs invitation tokens. Several machines must share it;
    #: when unset, a key is generated once into ``data_dir/secret.key``.
    secret_key: str | None = None
    #: Base URL of the frontend, for links in emails (invitations).
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "CRM <no-reply@localhost>"
    #: Failed sign-in attempts allowed per account (and per client address) per window.
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    lockout_seconds: int = 15 * 60
    invitation_ttl_seconds: int = 7 * 24 * 3600
    #: Hot list resolvers answer plain selections as pre-shaped results (gateway.graphql.shaped).
    #: Off only to compare with the general path (tests, benchmarks): ``CRM_SHAPED_RESULTS=0``.
    shaped_results: bool = True
    #: Worker threads executing operations per process (identification included). More
    #: only adds GIL contention on CPU-bound work; raise it when the database is remote.
    execution_threads: int = 4
    #: Lists of callers who see few rows are planned from their grants (see
    #: gateway.access.narrowing). ``None``: "few" decided by cost (the default); 0: never;
    #: a number: fewer than that many rows. ``CRM_NARROWING_CAP``.
    narrowing_cap: int | None = None
    #: Largest request accepted, in bytes: the body of a POST, the query string of a GET.
    #: Larger requests are refused with 413 (414 for a URL) before being read whole. The
    #: default leaves room for a contact photo (1 MiB, base64 in a mutation).
    max_body_bytes: int = 2 * 1024 * 1024
    #: Proxies whose ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed (addresses or
    #: CIDR networks; ``("*",)`` for any). Empty: forwarded headers are ignored and the
    #: client address is the connecting peer's. ``CRM_TRUSTED_PROXIES``.
    trusted_proxies: tuple[str, ...] = ()
    #: Largest file ``POST /files`` accepts, in bytes (refused with 413 while it streams in;
    #: this route only — every other route keeps ``max_body_bytes``). ``CRM_MAX_UPLOAD_BYTES``.
    max_upload_bytes: int = 25 * 1024 * 1024
    #: How long a stored file lives unless its maker says otherwise; ``crm-gateway files
    #: purge`` removes it after. ``CRM_FILE_RETENTION_HOURS``.
    file_retention_hours: int = 72
    #: Lifetime of a signed download link (``GET /files/{id}?…``). ``CRM_FILE_LINK_SECONDS``.
    file_link_seconds: int = 300
    #: SQLite only: run background jobs in a thread of each ``serve`` process
    #: (``CRM_JOBS_IN_PROCESS=0`` to leave them to ``crm-gateway worker``).
    jobs_in_process: bool = True
    #: How often the in-process runner looks for due jobs, in seconds.
    job_poll_seconds: float = 1.0
    #: A running job writes its progress (and checks for cancellation) at most this often.
    job_progress_seconds: float = 0.5
    #: Register the ``crm_gateway`` entry points of installed distributions (third-party
    #: plugins). ``CRM_DISCOVER_PLUGINS=0``: only the built-in modules and ``CRM_PLUGINS``
    #: (a test suite, or leaving out an installed plugin without uninstalling it).
    discover_plugins: bool = True
    #: Google Calendar sync (plugins/calendar/google): the OAuth client of a Google Cloud
    #: project (``CRM_GOOGLE_CLIENT_ID`` / ``CRM_GOOGLE_CLIENT_SECRET``); unset: connecting
    #: is refused. The endpoints default to Google's; tests point them at a local fake.
    google_client_id: str | None = None
    google_client_secret: str | None = None
    #: Where Google sends the browser back (registered with the OAuth client); unset:
    #: ``{CRM_PUBLIC_URL}/calendar/google/callback``. ``CRM_GOOGLE_REDIRECT_URI``.
    google_redirect_uri: str | None = None
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    #: The Calendar API's root plus service path; unset: the discovery document's.
    google_api_endpoint: str | None = None
    #: Prometheus metrics (gateway.observability): unset, nothing is collected and
    #: ``/metrics`` does not exist; set, ``/metrics`` answers scrapers that send it as a
    #: bearer token. ``CRM_METRICS_TOKEN``.
    metrics_token: str | None = None
    #: ``text`` (uvicorn's format) or ``json`` (one object per line, one line per request).
    #: ``CRM_LOG_FORMAT``.
    log_format: str = "text"
    #: OpenTelemetry traces, exported as the ``OTEL_*`` variables say. ``CRM_TRACING=1``.
    tracing: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            data_dir=Path(os.environ.get("CRM_DATA_DIR", "data")),
            database_url=os.environ.get("DATABASE_URL") or None,
            token_ttl_seconds=_int("CRM_TOKEN_TTL_SECONDS", cls.token_ttl_seconds),
            max_query_depth=_int("CRM_MAX_QUERY_DEPTH", cls.max_query_depth),
            max_aliases=_int("CRM_MAX_ALIASES", cls.max_aliases),
            max_tokens=_int("CRM_MAX_TOKENS", cls.max_tokens),
            max_page_size=_int("CRM_MAX_PAGE_SIZE", cls.max_page_size),
            password_hash_profile=os.environ.get("CRM_PASSWORD_HASH_PROFILE", "interactive"),
            graphiql=os.environ.get("CRM_GRAPHIQL", "1") != "0",
            shaped_results=os.environ.get("CRM_SHAPED_RESULTS", "1") != "0",
            execution_threads=_int("CRM_EXECUTION_THREADS", cls.execution_threads),
            narrowing_cap=(
                _int("CRM_NARROWING_CAP", 0) if os.environ.get("CRM_NARROWING_CAP") else None
            ),
            secret_key=os.environ.get("CRM_SECRET_KEY") or None,
            public_url=os.environ.get("CRM_PUBLIC_URL", cls.public_url),
            smtp_host=os.environ.get("CRM_SMTP_HOST") or None,
            smtp_port=_int("CRM_SMTP_PORT", cls.smtp_port),
            smtp_username=os.environ.get("CRM_SMTP_USERNAME") or None,
            smtp_password=os.environ.get("CRM_SMTP_PASSWORD") or None,
            smtp_starttls=os.environ.get("CRM_SMTP_STARTTLS", "0") == "1",
            mail_from=os.environ.get("CRM_MAIL_FROM", cls.mail_from),
            max_failures_per_account=_int(
                "CRM_MAX_FAILURES_PER_ACCOUNT", cls.max_failures_per_account
            ),
            max_failures_per_address=_int(
                "CRM_MAX_FAILURES_PER_ADDRESS", cls.max_failures_per_address
            ),
            lockout_seconds=_int("CRM_LOCKOUT_SECONDS", cls.lockout_seconds),
            plugins=tuple(
                p.strip() for p in os.environ.get("CRM_PLUGINS", "").split(",") if p.strip()
            ),
            max_body_bytes=_int("CRM_MAX_BODY_BYTES", cls.max_body_bytes),
            trusted_proxies=parse_trusted_proxies(os.environ.get("CRM_TRUSTED_PROXIES", "")),
            max_upload_bytes=_int("CRM_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            file_retention_hours=_int("CRM_FILE_RETENTION_HOURS", cls.file_retention_hours),
            file_link_seconds=_int("CRM_FILE_LINK_SECONDS", cls.file_link_seconds),
            jobs_in_process=os.environ.get("CRM_JOBS_IN_PROCESS", "1") != "0",
            job_poll_seconds=_float("CRM_JOB_POLL_SECONDS", cls.job_poll_seconds),
            job_progress_seconds=_float("CRM_JOB_PROGRESS_SECONDS", cls.job_progress_seconds),
            discover_plugins=os.environ.get("CRM_DISCOVER_PLUGINS", "1") != "0",
            google_client_id=os.environ.get("CRM_GOOGLE_CLIENT_ID") or None,
            google_client_secret=os.environ.get("CRM_GOOGLE_CLIENT_SECRET") or None,
            google_redirect_uri=os.environ.get("CRM_GOOGLE_REDIRECT_URI") or None,
            google_auth_uri=os.environ.get("CRM_GOOGLE_AUTH_URI", cls.google_auth_uri),
            google_token_uri=os.environ.get("CRM_GOOGLE_TOKEN_URI", cls.google_token_uri),
            google_revoke_uri=os.environ.get("CRM_GOOGLE_REVOKE_URI", cls.google_revoke_uri),
            google_api_endpoint=os.environ.get("CRM_GOOGLE_API_ENDPOINT") or None,
            metrics_token=os.environ.get("CRM_METRICS_TOKEN") or None,
            log_format=log_format(),
            tracing=os.environ.get("CRM_TRACING", "0") == "1",
        )

    @property
    def resolved_database_url(self) -> str:
        """``DATABASE_URL`` if set, else an SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crm.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
