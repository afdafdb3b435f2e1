"""Activity history (issue 15 item 4): history event categories (R5), interactions logged on
contacts, and the contact timeline that merges them with tasks and the events other modules
report through ``crm_timeline_events``. Wired in by the calendar plugin's hooks."""

from plugins.calendar.history import demo, service
from plugins.calendar.history.graphql import MUTATION_FIELDS, QUERY_FIELDS
from plugins.calendar.history.models import HistoryCategory, Interaction
from plugins.calendar.history.nested import FIELDS as NESTED_FIELDS
from plugins.calendar.history.permissions import CATALOGUE
from plugins.calendar.history.types import (
    TIMELINE_TYPES,
    HistoryCategoryType,
    InteractionType,
    TimelineEntry,
)
from plugins.calendar.history.window import TimelineEvent, TimelinePosition, TimelineWindow

#: The GraphQL types the plugin publishes (the entries implement ``TimelineEntry``).
GRAPHQL_TYPES = [HistoryCategoryType, InteractionType, TimelineEntry, *TIMELINE_TYPES]
MODELS = [HistoryCategory, Interaction]

__all__ = [
    "CATALOGUE",
    "GRAPHQL_TYPES",
    "MODELS",
    "MUTATION_FIELDS",
    "NESTED_FIELDS",
    "QUERY_FIELDS",
    "TimelineEvent",
    "TimelinePosition",
    "TimelineWindow",
    "demo",
    "service",
]
