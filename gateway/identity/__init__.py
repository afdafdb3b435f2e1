"""Users, profiles, sign-in sessions (MISSION I1, I4)."""
