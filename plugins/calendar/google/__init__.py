"""Two-way Google Calendar sync (MISSION T4): a user connects their Google account (OAuth
2.0 with PKCE), their tasks appear in their Google calendar and Google events become tasks,
by periodic jobs run as the user. ``docs/modules/calendar.md``, "Google Calendar sync"."""

from __future__ import annotations

from plugins.calendar.google.api import MUTATION_FIELDS, QUERY_FIELDS, TYPES
from plugins.calendar.google.callback import ROUTES
from plugins.calendar.google.jobs import KINDS
from plugins.calendar.google.models import GoogleConnection, GoogleEventLink, GoogleOAuthState

MODELS = [GoogleConnection, GoogleOAuthState, GoogleEventLink]

__all__ = ["KINDS", "MODELS", "MUTATION_FIELDS", "QUERY_FIELDS", "ROUTES", "TYPES"]
