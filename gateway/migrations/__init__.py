"""Alembic environment shared by every plugin; each plugin keeps its own version branch."""
