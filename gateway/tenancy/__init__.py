"""Tenants and the modules each tenant has switched on (MISSION G4, G7)."""
