"""Liveness and Prometheus metrics (DESIGN §9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response, request
from sqlalchemy import text

from api.context import services
from api.metrics import exposition
from api.smorest import Blueprint

blp = Blueprint("health", __name__, description="Liveness and metrics")

_METRICS_EXAMPLE = (
    "# HELP credbank_log_tree_size Entries in the transparency log.\n"
    "# TYPE credbank_log_tree_size gauge\n"
    "credbank_log_tree_size 42.0\n"
)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"enum": ["ok"]})


@blp.route("/healthz")
@blp.response(
    200,
    HealthSchema,
    description="The service and its database answer",
    example={"status": "ok"},
)
@blp.problems(503)
def healthz() -> dict[str, Any]:
    """Answer 200 when the database answers (503 problem otherwise)."""
    with services().database.transaction() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}


@blp.route("/metrics")
@blp.doc(
    responses={
        200: {
            "description": "Prometheus text format 0.0.4 (1.0.0 or OpenMetrics "
            "when the Accept header asks): requests, latencies, issuance, the "
            "log's size and its newest checkpoint's age",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": _METRICS_EXAMPLE,
                }
            },
        }
    }
)
def metrics() -> Response:
    """Every worker's counters, summed, and the log read from the database."""
    body, media_type = exposition(
        services().database, datetime.now(UTC), request.headers.get("Accept", "")
    )
    return Response(body, content_type=media_type)
