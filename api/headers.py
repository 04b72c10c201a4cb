"""Security headers on every response, and CORS on what a browser verifier reads.

One after_request hook. Every answer forbids sniffing, framing and referrers; a
JSON or text answer may load nothing (`default-src 'none'`), an HTML page only its
own images and inline styles, never a script. A view that sets its own
Content-Security-Policy keeps it. CORS (WHATWG Fetch §3.2, the CORS protocol) is
open to any origin, without credentials, on the VC-API verification endpoints and
the public documents they rest on, and on nothing that takes a token.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.datastructures import Headers

from api.config import Config

__all__ = ["CORS_VIEWS", "DOCUMENT_CSP", "PAGE_CSP", "install_headers"]

# No script may run, nothing may load from elsewhere, forms post only here, and no
# other site may frame the page (a verdict drawn over someone else's content).
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A JSON or text document is never rendered as a page of its own.
DOCUMENT_CSP = "default-src 'none'; frame-ancestors 'none'"

# Views (module.function) a page on another origin may call or read. The log,
# status lists, DID documents, the trust list, achievements and units are what
# checking a credential in the browser needs; the credential is what it checks.
CORS_VIEWS = frozenset(
    {
        "api.routes.verification.verify_credential_route",
        "api.routes.verification.verify_presentation_route",
        "api.routes.credentials.show_credential",
        "api.routes.credentials.status_list",
        "api.routes.issuers.list_issuers",
        "api.routes.issuers.show_issuer",
        "api.routes.issuers.did_json",
        "api.routes.issuers.jwks_json",
        "api.routes.credit_bank.service_did_document",
        "api.routes.achievements.show",
        "api.routes.units.show_unit",
    }
)
CORS_MODULES = ("api.routes.log.",)
# Images another site may embed with <img> (a certificate on a portfolio).
EMBEDDABLE_VIEWS = frozenset(
    {"api.routes.credentials.qr_code_svg", "api.routes.credentials.qr_code_png"}
)

# Browsers keep a preflight at most this long (Firefox 24 h; Chromium caps at 2 h).
PREFLIGHT_MAX_AGE = "86400"
# RFC 6797 §6.1.1: one year, this host only (other hosts of the domain may not
# serve HTTPS at all).
HSTS = "max-age=31536000"


class _Route:
    """What the headers of one endpoint's answers depend on, worked out once."""

    __slots__ = ("cors_methods", "resource_policy")

    def __init__(self, cors_methods: str | None, resource_policy: str) -> None:
        self.cors_methods = cors_methods
        self.resource_policy = resource_policy


_UNROUTED = _Route(None, "same-origin")


def install_headers(app: Flask, config: Config) -> None:
    """Register the one hook that adds security and CORS headers to every answer."""
    hsts = config.base_url.startswith("https://")
    routes: dict[str, _Route] = {}

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        page = response.mimetype == "text/html"
        policy = PAGE_CSP if page else DOCUMENT_CSP
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        if page:
            # A page opened from elsewhere gets no handle on this window.
            headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS

        endpoint = request.endpoint
        route = _UNROUTED if endpoint is None else routes.get(endpoint)
        if route is None:
            assert endpoint is not None
            route = routes[endpoint] = _route_of(app, endpoint)
        headers["Cross-Origin-Resource-Policy"] = route.resource_policy
        if route.cors_methods is not None:
            _add_cors(headers, route.cors_methods)
        return response


def _add_cors(headers: Headers, methods: str) -> None:
    # No Access-Control-Allow-Credentials: with "*" a browser sends no cookies
    # and no Authorization it holds, and nothing here needs them.
    headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in (
        request.headers
    ):
        # A preflight: a POST of JSON is not a "simple" request, so the browser
        # asks first which methods and headers it may send.
        headers["Access-Control-Allow-Methods"] = methods
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    else:
        headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"


def _route_of(app: Flask, endpoint: str) -> _Route:
    view = app.view_functions.get(endpoint)
    if view is None:
        return _UNROUTED
    name = f"{view.__module__}.{view.__name__}"
    rule = request.url_rule
    # A view that takes a token is never shared, whatever the lists say.
    public = not hasattr(view, "__credbank_roles__")
    shared = public and (name in CORS_VIEWS or name.startswith(CORS_MODULES))
    if shared and rule is not None and rule.methods:
        methods = ", ".join(sorted(rule.methods))
        return _Route(methods, "cross-origin")
    if name in EMBEDDABLE_VIEWS:
        return _Route(None, "cross-origin")
    return _UNROUTED
