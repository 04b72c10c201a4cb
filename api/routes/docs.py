"""The API's own documentation: `/docs`, and the problem types at `/problems`.

`/docs` renders the OpenAPI document that `/openapi.json` serves into one plain
HTML page on the server: no JavaScript, nothing loaded from elsewhere, every value
escaped by Jinja's autoescaping (and forbidden to run by the page's CSP).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, render_template

from api.problems import PROBLEM_TYPES
from api.smorest import HTML_PAGE, Blueprint, html_example

__all__ = ["blp"]

blp = Blueprint("docs", __name__, description="This API's documentation")

_METHODS = ("get", "put", "post", "delete", "patch")
_COMPONENT = "#/components/"
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


# GET /problems: problem code -> its status and title.
_PROBLEM_TYPES_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["status", "title"],
        "properties": {"status": {"type": "integer"}, "title": {"type": "string"}},
    },
}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: str
    description: str


@dataclass(frozen=True)
class Body:
    """A request or response body in one media type."""

    media_type: str
    schema: str
    schema_name: str
    example: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    bodies: tuple[Body, ...]


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    roles: tuple[str, ...] | None
    parameters: tuple[Parameter, ...]
    request: tuple[Body, ...]
    answers: tuple[Answer, ...]


@blp.route("/docs")
@blp.response(200, HTML_PAGE, content_type="text/html", example=html_example("API"))
def api_docs() -> Response:
    """This page: every operation of /openapi.json, its parameters, bodies,
    answers and examples, and every schema."""
    document = _api_document()
    html = render_template(
        "api_docs.html",
        lang="en",
        other="zh",
        info=document.get("info", {}),
        groups=_groups(document),
        schemas={
            name: _pretty(schema)
            for name, schema in document.get("components", {})
            .get("schemas", {})
            .items()
        },
    )
    return Response(html, mimetype="text/html")


@blp.route("/problems")
@blp.response(
    200,
    _PROBLEM_TYPES_SCHEMA,
    example={"not-found": {"status": 404, "title": PROBLEM_TYPES["not-found"][1]}},
)
def problem_types() -> Response:
    """The problem types this service answers with (RFC 9457 §3.1.1): the
    fragment of each problem's `type` URI, its status and title."""
    body = {
        code: {"status": status, "title": title}
        for code, (status, title) in PROBLEM_TYPES.items()
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _api_document() -> dict[str, Any]:
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    document: dict[str, Any] = api.spec.to_dict()
    return document


def _groups(document: Mapping[str, Any]) -> list[tuple[str, str, list[Operation]]]:
    """Operations by tag, in the document's order of tags."""
    described = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    grouped: dict[str, list[Operation]] = {name: [] for name in described}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method in item:
                operation = _operation(document, path, method, item[method], shared)
                tag = (item[method].get("tags") or ["other"])[0]
                grouped.setdefault(tag, []).append(operation)
    return [
        (tag, described.get(tag, ""), operations)
        for tag, operations in grouped.items()
        if operations
    ]


def _operation(
    document: Mapping[str, Any],
    path: str,
    method: str,
    raw: Mapping[str, Any],
    shared: list[Mapping[str, Any]],
) -> Operation:
    roles = None
    for requirement in raw.get("security", []):
        roles = tuple(role for names in requirement.values() for role in names)
    parameters = tuple(
        Parameter(
            name=p["name"],
            location=p["in"],
            required=bool(p.get("required")),
            schema=_brief(p.get("schema", {})),
            description=p.get("description", ""),
        )
        for p in (*shared, *raw.get("parameters", []))
    )
    request = raw.get("requestBody", {}).get("content", {})
    answers = tuple(
        Answer(str(status), answer.get("description", ""), _bodies(answer))
        for status, answer in (
            (status, _resolve(document, answer))
            for status, answer in raw.get("responses", {}).items()
        )
    )
    return Operation(
        anchor=_ANCHOR_UNSAFE.sub("-", f"{method}{path}").strip("-"),
        method=method.upper(),
        path=path,
        summary=raw.get("summary", ""),
        description=raw.get("description", ""),
        roles=roles,
        parameters=parameters,
        request=_bodies({"content": request}),
        answers=answers,
    )


def _bodies(holder: Mapping[str, Any]) -> tuple[Body, ...]:
    bodies = []
    for media_type, content in holder.get("content", {}).items():
        schema = content.get("schema", {})
        example = content.get("example")
        if example is None and content.get("examples"):
            example = next(iter(content["examples"].values())).get("value")
        bodies.append(
            Body(
                media_type=media_type,
                schema=_brief(schema),
                schema_name=_ref_name(schema),
                example=_pretty(example) if example is not None else "",
            )
        )
    return tuple(bodies)


def _resolve(document: Mapping[str, Any], value: Mapping[str, Any]) -> Any:
    """Follow a `$ref` to a component (OpenAPI 3.1 §4.8.23)."""
    ref = value.get("$ref")
    if not isinstance(ref, str) or not ref.startswith(_COMPONENT):
        return value
    found: Any = document.get("components", {})
    for part in ref.removeprefix(_COMPONENT).split("/"):
        found = found.get(part, {})
    return found


def _ref_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENT + "schemas/"):
        return ref.rsplit("/", 1)[1]
    items = schema.get("items")
    return _ref_name(items) if isinstance(items, Mapping) else ""


def _brief(schema: Mapping[str, Any]) -> str:
    """A schema in a few words: its component name, or its type and limits."""
    name = _ref_name(schema)
    if name:
        return f"array of {name}" if schema.get("type") == "array" else name
    words = [str(schema.get("type", "any"))]
    if "enum" in schema:
        words.append("one of " + ", ".join(map(str, schema["enum"])))
    for key in ("format", "minimum", "maximum", "minLength", "maxLength", "pattern"):
        if key in schema:
            words.append(f"{key} {schema[key]}")
    return ", ".join(words)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)
