"""Log lines and request ids: what an operator reads, and what ties it together.

Every request gets an id: the caller's `X-Request-ID` when it is short and made of
safe characters, a fresh one otherwise. It is echoed in the response header, put in
every log line written while the request runs, and in 5xx problem details.
`CREDBANK_LOG_FORMAT=json` writes one JSON object per line (time, level, logger,
message, requestId); `text` (the default) writes one plain line. Each request ends
with one access line (logger `api.access`, INFO) naming its URL rule, never the raw
path: a path may hold a claim code.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

__all__ = [
    "REQUEST_ID_HEADER",
    "JSONFormatter",
    "RequestIdFilter",
    "ResponseObserver",
    "configure_logging",
    "install_request_log",
    "logging_config",
    "request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"

# Long enough for a UUID, a trace id or a load balancer's id such as
# "Root=1-67891233-abcdef012345678912345678"; short and plain enough that a
# client cannot break a log line or fill it.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(requestId)s] %(message)s"

_G_ID = "credbank_request_id"
_G_STARTED = "credbank_started"

# Told of every response: its URL rule, method, status and seconds taken (None
# when the request started before the clock did).
ResponseObserver = Callable[[str, str, int, float | None], None]

access_logger = logging.getLogger("api.access")


def request_id() -> str:
    """This request's id, chosen on first use (taken from the header, or new)."""
    found: str | None = g.get(_G_ID)
    if found is None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        valid = _VALID_REQUEST_ID.fullmatch(offered)
        found = offered if valid else uuid.uuid4().hex
        setattr(g, _G_ID, found)
    return found


def install_request_log(app: Flask, *, observe: ResponseObserver | None = None) -> None:
    """Time each request, echo its id (`X-Request-ID`), tell `observe` (the
    metrics) and write the access line: one hook before, one after.

    Call before any other `before_request` is registered: a hook that answers
    early (a rate limit) stops the ones after it.
    """

    @app.before_request
    def start_request() -> None:
        setattr(g, _G_STARTED, time.perf_counter())

    @app.after_request
    def finish_request(response: Response) -> Response:
        started: float | None = g.get(_G_STARTED)
        seconds = None if started is None else time.perf_counter() - started
        # The URL rule (bounded), never the raw path; a 404 or 405 matched none.
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        method, status = request.method, response.status_code
        response.headers[REQUEST_ID_HEADER] = request_id()
        if observe is not None:
            observe(route, method, status, seconds)
        if access_logger.isEnabledFor(logging.INFO):
            millis = round(seconds * 1000, 1) if seconds is not None else None
            access_logger.info(
                "%s %s %d %s ms",
                method,
                route,
                status,
                millis,
                extra={
                    "http": {
                        "method": method,
                        "route": route,
                        "status": status,
                        "durationMs": millis,
                    }
                },
            )
        return response


class RequestIdFilter(logging.Filter):
    """Gives every record a `requestId`: the request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.requestId = request_id() if has_request_context() else "-"
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line; fields given as `extra={"http": {...}}` join it."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": getattr(record, "requestId", "-"),
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            line["http"] = http
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        if record.stack_info:
            line["stack"] = record.stack_info
        # json.dumps escapes newlines and control characters: one line each.
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the service, gunicorn's loggers included.

    Everything goes to stderr through one handler. gunicorn's access log is off:
    the app writes its own access line, which names the URL rule rather than the
    raw path (a path may hold a claim code) and carries the request id.
    """
    if log_format == "json":
        formatter: dict[str, Any] = {"()": JSONFormatter}
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"credbank": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "credbank",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {
                "level": level,
                "handlers": ["stderr"],
                "propagate": False,
            },
            "gunicorn.access": {"handlers": [], "propagate": False},
            # Each worker checks the schema revision at start: not news.
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: str, level: str) -> None:
    """Apply `logging_config` to this process (the development server)."""
    logging.config.dictConfig(logging_config(log_format, level))
