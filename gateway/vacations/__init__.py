"""Vacation requests and their approval up the reporting hierarchy (MISSION A12)."""
