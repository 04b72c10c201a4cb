"""The log's public documents (DESIGN §9): checkpoint, key, entries, proofs."""

from __future__ import annotations

import base64
import json
from typing import Any

import marshmallow as ma
from flask import Response

from api.context import services
from api.smorest import Blueprint
from ledger import MAX_PAGE

blp = Blueprint("log", __name__, url_prefix="/log", description="Transparency log")

# Sizes and indexes are 64-bit in the database (and in RFC 9162).
_MAX_INT = 2**63 - 1

# Documents about a fixed tree size never change; the latest ones do.
_IMMUTABLE = "public, max-age=31536000, immutable"
_LATEST = "public, max-age=5"

_TEXT = "text/plain; charset=utf-8"


class EntriesQuery(ma.Schema):
    start = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=_MAX_INT)
    )
    end = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=_MAX_INT)
    )

    @ma.validates_schema
    def _end_after_start(self, data: dict[str, int], **_: Any) -> None:
        if data["end"] <= data["start"]:
            raise ma.ValidationError(
                f"expected end > start {data['start']}, got {data['end']}", "end"
            )


class EntrySchema(ma.Schema):
    index = ma.fields.Integer()
    data = ma.fields.String(metadata={"description": "base64 of the logged bytes"})
    entry = ma.fields.Dict(metadata={"description": "the entry, parsed"})


class EntriesSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))


class ProofQuery(ma.Schema):
    size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=_MAX_INT))


class ConsistencyQuery(ma.Schema):
    from_ = ma.fields.Integer(
        data_key="from", required=True, validate=ma.validate.Range(min=1, max=_MAX_INT)
    )
    to = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=_MAX_INT)
    )

    @ma.validates_schema
    def _ordered(self, data: dict[str, int], **_: Any) -> None:
        if data["from_"] > data["to"]:
            raise ma.ValidationError(
                f"expected to >= from {data['from_']}, got {data['to']}", "to"
            )


class ConsistencySchema(ma.Schema):
    from_ = ma.fields.Integer(data_key="from")
    to = ma.fields.Integer()
    proof = ma.fields.List(ma.fields.String(), metadata={"description": "base64"})


def _text(body: str, cache: str) -> Response:
    return Response(body, content_type=_TEXT, headers={"Cache-Control": cache})


@blp.route("/checkpoint")
@blp.doc(responses={200: {"description": "The latest signed checkpoint note"}})
def checkpoint() -> Response:
    """The latest checkpoint, a C2SP tlog-checkpoint signed note."""
    app = services()
    with app.database.transaction() as session:
        note = app.log.latest_checkpoint(session).note
    return _text(note, _LATEST)


@blp.route("/key")
@blp.doc(responses={200: {"description": "The log's signed-note verifier key"}})
def key() -> Response:
    """The verifier key (`name+hex8+base64`) that checks the checkpoints."""
    return _text(services().log.verifier_key + "\n", _LATEST)


@blp.route("/entries")
@blp.arguments(EntriesQuery, location="query")
@blp.response(200, EntriesSchema)
def entries(query: dict[str, int]) -> Response:
    """Entries with start <= index < end, at most a bounded page of them."""
    app = services()
    with app.database.transaction() as session:
        rows = app.log.read_entries(session, query["start"], query["end"])
    body = {
        "entries": [
            {
                "index": row.idx,
                "data": base64.b64encode(row.data).decode(),
                "entry": json.loads(row.data),
            }
            for row in rows
        ]
    }
    complete = len(rows) == min(query["end"] - query["start"], MAX_PAGE)
    return Response(
        json.dumps(body, ensure_ascii=False),
        mimetype="application/json",
        headers={"Cache-Control": _IMMUTABLE if complete else _LATEST},
    )


@blp.route("/proof/<int:index>")
@blp.arguments(ProofQuery, location="query")
@blp.doc(responses={200: {"description": "A c2sp.org/tlog-proof@v1 text"}})
def proof(query: dict[str, int], index: int) -> Response:
    """A tlog-proof of entry `index` under the latest (or `size`) checkpoint."""
    app = services()
    size = query.get("size")
    with app.database.transaction() as session:
        found = app.log.tlog_proof(session, index, size)
    return _text(found.to_text(), _LATEST if size is None else _IMMUTABLE)


@blp.route("/consistency")
@blp.arguments(ConsistencyQuery, location="query")
@blp.response(200, ConsistencySchema)
def consistency(query: dict[str, int]) -> Response:
    """An RFC 9162 consistency proof between two tree sizes."""
    app = services()
    old, new = query["from_"], query["to"]
    with app.database.transaction() as session:
        hashes = app.log.consistency_proof(session, old, new)
    body = {
        "from": old,
        "to": new,
        "proof": [base64.b64encode(h).decode() for h in hashes],
    }
    return Response(
        json.dumps(body),
        mimetype="application/json",
        headers={"Cache-Control": _IMMUTABLE},
    )
