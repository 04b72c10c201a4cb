"""Content negotiation and language choice for pages served as JSON or HTML."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

__all__ = ["LANGUAGES", "page_language", "render_page", "wants_html"]

LANGUAGES = ("zh", "en")


def wants_html() -> bool:
    """True when the client prefers HTML to JSON (a browser, not curl)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def page_language() -> str:
    """`?lang=` when given, else Accept-Language; Chinese when nothing says."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    best = request.accept_languages.best_match(LANGUAGES, default="zh")
    return best or "zh"


def render_page(template: str, **context: Any) -> Response:
    lang = page_language()
    html = render_template(
        template, lang=lang, other="en" if lang == "zh" else "zh", **context
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    response.vary.add("Accept-Language")
    response.vary.add("Accept")
    return response
