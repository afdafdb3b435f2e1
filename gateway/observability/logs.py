"""Structured logs (``CRM_LOG_FORMAT=json``): every record one JSON object on one line, and
one ``gateway.requests`` record per HTTP request.

A request's line carries its request id, route, method, status, GraphQL operation and
outcome, tenant id, duration and SQL statement count; records logged while a request runs
(errors, warnings) carry its request id too. Never a body, a header's value, a query
string, variables or field values: passwords and tokens travel only there.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
from datetime import UTC, datetime
from typing import Any

from gateway.observability.observation import CURRENT

FORMATS = ("text", "json")
#: The logger of the one-line-per-request records.
REQUESTS = logging.getLogger("gateway.requests")
#: Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the ``extra`` fields,
    the running request's id, and the traceback (``exc``) if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if "request_id" not in entry:
            observation = CURRENT.get()
            if observation is not None and observation.request_id:
                entry["request_id"] = observation.request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_format() -> str:
    """``CRM_LOG_FORMAT``: ``text`` (the default) or ``json``; refused when neither."""
    value = os.environ.get("CRM_LOG_FORMAT", "text").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"CRM_LOG_FORMAT: {value!r} is neither 'text' nor 'json'")
    return value


def uvicorn_config(level: str) -> dict[str, Any]:
    """A ``logging.config`` dict for uvicorn (``log_config=``, applied in every worker):
    uvicorn's own records and the gateway's as JSON on stderr. uvicorn's access log is
    left out: the ``gateway.requests`` line replaces it."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "gateway.observability.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"level": level.upper(), "propagate": True},
            "uvicorn.error": {"level": level.upper(), "propagate": True},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }


def configure_json(level: str) -> None:
    """Log every record of this process as JSON (for ``worker``, and uvicorn run by hand)."""
    logging.config.dictConfig(uvicorn_config(level))


def request_line(**fields: Any) -> None:
    """The request's one line (``gateway.requests``, level info)."""
    REQUESTS.info("request", extra=fields)
