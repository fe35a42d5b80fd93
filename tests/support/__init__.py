"""Shared test helpers: live server processes, tokens, browsers, axe-core."""
