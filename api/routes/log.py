"""The log's public documents (DESIGN §9): checkpoint, key, entries, proofs."""

from __future__ import annotations

import base64
import json
from typing import Any

import marshmallow as ma
from flask import Response

from api.context import services
from api.smorest import TEXT, Blueprint
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
    index = ma.fields.Integer(required=True)
    data = ma.fields.String(
        required=True, metadata={"description": "base64 of the logged bytes"}
    )
    entry = ma.fields.Dict(required=True, metadata={"description": "the entry, parsed"})


class EntriesSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema), required=True)


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
    from_ = ma.fields.Integer(data_key="from", required=True)
    to = ma.fields.Integer(required=True)
    proof = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "base64"}
    )


# What the documents look like (the hashes and signatures are made up).
_CHECKPOINT_EXAMPLE = (
    "credbank.test/log\n"
    "42\n"
    "qKpVTcpvn2aJ3ZP7WcOA8ooCZBOrLc5pDPfmNtCAn1U=\n"
    "\n"
    "\u2014 credbank.test/log 3d7kqQ1h9a1FVYRyKsoLRyJHTg3UTVaBZ6Ed/PvH2sF4mWbY"
    "V8NjChS8X5XjLbBbN0vhHrPZ5Hn4p0aQ9vMz0tqUAIo=\n"
)
_KEY_EXAMPLE = (
    "credbank.test/log+dd1e7a91+AWY4Wq0OiJ6fWbz8x4o9kGyC1nBLdJ7Y3xj8yU3cfhq0\n"
)
_PROOF_EXAMPLE = (
    "c2sp.org/tlog-proof@v1\n"
    "index 7\n"
    "VGhlIGZpcnN0IGhhc2ggb2YgdGhlIGluY2x1c2lvbiBwcm9vZi4=\n"
    "\n" + _CHECKPOINT_EXAMPLE
)
_ENTRY_EXAMPLE = {
    "v": 1,
    "kind": "issuer.accredited",
    "at": "2026-12-01T09:30:00Z",
    "issuer": "demo-college",
}
_ENTRIES_EXAMPLE = {
    "entries": [
        {
            "index": 3,
            "data": "eyJhdCI6IjIwMjYtMTItMDFUMDk6MzA6MDBaIiwiLi4uIjoiLi4uIn0=",
            "entry": _ENTRY_EXAMPLE,
        }
    ]
}
_CONSISTENCY_EXAMPLE = {
    "from": 3,
    "to": 7,
    "proof": [
        "2D2Z0bTbqAQq8FqKzaVqk3DHJz2q3M3kfvXcGXwE3nM=",
        "YpD4o5ZcUbu8D+G3R3LpXrGRk5Vv8VJcZ9a0P6yqH2Q=",
    ],
}


def _text(body: str, cache: str) -> Response:
    return Response(body, content_type=_TEXT, headers={"Cache-Control": cache})


@blp.route("/checkpoint")
@blp.response(
    200,
    TEXT,
    content_type="text/plain",
    description="The latest checkpoint, a C2SP signed note",
    example=_CHECKPOINT_EXAMPLE,
)
@blp.problems(503)
def checkpoint() -> Response:
    """The latest checkpoint, a C2SP tlog-checkpoint signed note."""
    app = services()
    with app.database.transaction() as session:
        note = app.log.latest_checkpoint(session).note
    return _text(note, _LATEST)


@blp.route("/key")
@blp.response(
    200,
    TEXT,
    content_type="text/plain",
    description="The log's signed-note verifier key",
    example=_KEY_EXAMPLE,
)
def key() -> Response:
    """The verifier key (`name+hex8+base64`) that checks the checkpoints."""
    return _text(services().log.verifier_key + "\n", _LATEST)


@blp.route("/entries")
@blp.arguments(EntriesQuery, location="query")
@blp.response(200, EntriesSchema, example=_ENTRIES_EXAMPLE)
@blp.problems(404, 503)
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
@blp.response(
    200,
    TEXT,
    content_type="text/plain",
    description="A c2sp.org/tlog-proof@v1 text",
    example=_PROOF_EXAMPLE,
)
@blp.problems(404, 503)
def proof(query: dict[str, int], index: int) -> Response:
    """A tlog-proof of entry `index` under the latest (or `size`) checkpoint."""
    app = services()
    size = query.get("size")
    with app.database.transaction() as session:
        found = app.log.tlog_proof(session, index, size)
    return _text(found.to_text(), _LATEST if size is None else _IMMUTABLE)


@blp.route("/consistency")
@blp.arguments(ConsistencyQuery, location="query")
@blp.response(200, ConsistencySchema, example=_CONSISTENCY_EXAMPLE)
@blp.problems(404, 503)
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
