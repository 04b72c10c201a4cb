"""Liveness."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from api.context import services
from api.smorest import Blueprint

blp = Blueprint("health", __name__, description="Liveness")


@blp.route("/healthz")
@blp.doc(responses={200: {"description": "The service and its database answer"}})
def healthz() -> dict[str, Any]:
    """Answer 200 when the database answers (503 problem otherwise)."""
    with services().database.transaction() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
