"""Settings read from the environment, so workers started by uvicorn see the same values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


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
            plugins=tuple(
                p.strip() for p in os.environ.get("CRM_PLUGINS", "").split(",") if p.strip()
            ),
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
