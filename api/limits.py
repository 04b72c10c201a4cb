"""Rate limits on the public endpoints and caps on request bodies (DESIGN §9, §10).

Every public endpoint draws on one budget per client address (`CREDBANK_RATE_LIMIT`,
flask-limiter's fixed window), counted in Redis when `CREDBANK_REDIS_URL` is set so
that every worker and machine shares it, and in each process's memory otherwise.
Invariants: an authenticated endpoint is never counted; the client's address is the
socket's peer unless `CREDBANK_PROXIES` trusted proxies stand in front; a body
larger than its endpoint's cap is refused (413) before anything reads it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from api.config import Config

__all__ = [
    "BODY_CAPS",
    "DEFAULT_BODY_BYTES",
    "UNLIMITED_PATHS",
    "install_limits",
    "is_counted",
]

# The body of an award is about 1 kB, a credential sent to the VC-API or deposited
# a few kB, a rule set a few tens of kB; even a badge image embedded as a data: URI
# (the OB 3.0 Image class allows one) leaves them far below this.
DEFAULT_BODY_BYTES = 1024 * 1024

# Endpoints whose bodies may be larger than the default: a 10,000-row batch of
# awards is about 3 MB of CSV and more as JSON (api/app.py's MAX_CONTENT_LENGTH is
# the ceiling). None: the view caps its body itself, and answers with its own page.
BODY_CAPS: dict[str, int | None] = {
    "credentials.batch": 16 * 1024 * 1024,
    "verification_page.verify_submission": None,
}

# Load balancers and Prometheus poll these; a limit would only make them flap.
UNLIMITED_PATHS = frozenset({"/healthz", "/metrics"})

logger = logging.getLogger(__name__)


def install_limits(app: Flask, config: Config) -> Limiter | None:
    """Cap request bodies, trust the configured proxies, and rate-limit the public
    endpoints unless `config.rate_limit` is None (off)."""
    app.before_request(_cap_body)
    if config.proxies:
        # Werkzeug's ProxyFix takes the address the n-th proxy from the end of
        # X-Forwarded-For saw; anything a client put before it is ignored.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxies, x_proto=0, x_host=0, x_port=0
        )
    if config.rate_limit is None:
        return None

    rate = config.rate_limit
    limiter = Limiter(
        get_remote_address,
        application_limits=[
            ApplicationLimit(rate, error_message=lambda: _exceeded(rate))
        ],
        storage_uri=config.redis_url or "memory://",
        strategy="fixed-window",
        # The log origin names this deployment: two of them sharing one Redis
        # keep their counts apart, while all workers of one share theirs.
        key_prefix=f"credbank:{config.log_origin}",
        # If Redis stops answering, each process counts in memory until it is
        # back (flask-limiter checks again with growing intervals).
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=False,
    )
    limiter.request_filter(_ExemptFilter(app))
    limiter.init_app(app)
    # NOTE: flask-limiter logs each refusal at INFO with the client's address,
    # which is personal data; its warnings (storage down) still come through.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)

    @app.after_request
    def add_retry_after(response: Response) -> Response:
        # RFC 9110 §10.2.3 (Retry-After) on a 429, RFC 6585 §4: the seconds until
        # the window that was exceeded starts again.
        if response.status_code == 429:
            current = limiter.current_limit
            if current is not None and current.breached:
                wait = math.ceil(current.window.reset_time - time.time())
                response.headers["Retry-After"] = str(max(1, wait))
        return response

    return limiter


def is_counted(rule: str, view: Callable[..., Any] | None) -> bool:
    """Whether the limiter counts requests to the route `rule` served by `view`:
    every route but those that take a bearer token (api/auth.py marks their
    views) and those machines poll (UNLIMITED_PATHS). The OpenAPI document
    (api/smorest.py) names its 429 answers by this same rule."""
    if rule in UNLIMITED_PATHS:
        return False
    return not hasattr(view, "__credbank_roles__")


def _cap_body() -> None:
    """Lower the app-wide body cap to the endpoint's own (Flask 3.1 lets a request
    carry its own `max_content_length`)."""
    endpoint = request.endpoint or ""
    cap = BODY_CAPS.get(endpoint, DEFAULT_BODY_BYTES)
    if cap is None:
        return
    length = request.content_length
    if length is not None and length > cap:
        raise RequestEntityTooLarge(f"expected at most {cap} bytes, got {length}")
    if length is None and "HTTP_TRANSFER_ENCODING" in request.environ:
        # A chunked body has no length to check first, and Werkzeug's stream
        # would end quietly at the cap: read one byte past it to tell.
        request.max_content_length = cap + 1
        if len(request.get_data(cache=True)) > cap:
            raise RequestEntityTooLarge(f"expected at most {cap} bytes")
    request.max_content_length = cap


class _ExemptFilter:
    """Whether this request escapes the limit: its route needs a bearer token
    (api/auth.py marks those views), or is polled by machines (UNLIMITED_PATHS).

    Authenticated callers hold a token an admin issued and can revoke, and their
    traffic (a batch, a school's export) is legitimately heavy; a request there
    without a valid token costs one indexed look-up before its 401.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._known: dict[str, bool] = {}

    def __call__(self) -> bool:
        endpoint = request.endpoint
        if endpoint is None:
            return True
        exempt = self._known.get(endpoint)
        if exempt is None:
            exempt = self._known[endpoint] = self._decide(endpoint)
        return exempt

    def _decide(self, endpoint: str) -> bool:
        view = self._app.view_functions.get(endpoint)
        rule = request.url_rule
        return not is_counted(rule.rule if rule is not None else "", view)


def _exceeded(rate: str) -> str:
    return (
        f"expected at most {rate} requests from one address; "
        "retry after the seconds in Retry-After"
    )
