"""The public REST API, v1 (see ../shared/CONTRACT.md and /openapi.json)."""

from api.routes import bp

__all__ = ["bp"]
