"""Access to the per-process services from inside a request."""

from __future__ import annotations

from flask import current_app

from api.services import Services

__all__ = ["services"]


def services() -> Services:
    found: Services = current_app.extensions["credbank"]
    return found
