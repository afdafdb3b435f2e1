"""Cases (MISSION T5): a matter organised with a group of contacts — an event, a seminar, a
meeting — with participants, tags, tasks, custom fields and attached documents, open to all
by default or restricted to chosen users. ``docs/modules/calendar.md`` ("Cases") describes
it; the calendar module's ``__init__`` publishes it."""
