"""Helpers for the printing tests: sample tickets and stand-ins for devices that cannot exist here."""
