"""Batch issuance: thousands of awards from a JSON list or a CSV file.

Every row is validated first; the valid ones are then issued in chunks, each chunk
one write transaction and one log append (so one checkpoint). Each row has an
idempotency key (its own, or a digest of its content), so a batch sent again issues
nothing twice. A bad row is answered with its error and stops nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import marshmallow as ma

from issuers.awards import AwardSchema, to_award
from issuers.errors import InvalidInputError
from issuers.issuance import Award, Issuance, IssueResult
from keys import CredbankError, Database

__all__ = [
    "CHUNK_SIZE",
    "CSV_COLUMNS",
    "MAX_ROWS",
    "RowOutcome",
    "issue_batch",
    "rows_from_csv",
]

# One transaction per chunk: large enough to amortise the commit and the checkpoint,
# small enough that the write lock is never held for long (about a second).
CHUNK_SIZE = 200
MAX_ROWS = 10_000

CSV_COLUMNS = (
    "achievement",
    "learner_did",
    "learner_email",
    "learner_name",
    "score",
    "credits_earned",
    "awarded_date",
    "evidence_url",
    "formats",
    "idempotency_key",
)


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row: its credential, or the reason it was refused."""

    row: int
    result: IssueResult | None
    error: CredbankError | None


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    """Award dictionaries from CSV text with a header of CSV_COLUMNS (a subset)."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "achievement" not in header:
        raise InvalidInputError(
            {
                "csv": "expected a header with 'achievement' and only "
                f"{', '.join(CSV_COLUMNS)}; got {', '.join(header) or 'none'}"
            }
        )
    rows = []
    for line in reader:
        if None in line:
            raise InvalidInputError(
                {"csv": f"line {reader.line_num} has more fields than the header"}
            )
        rows.append(_award_from_csv(line))
        if len(rows) > MAX_ROWS:
            break
    return rows


def issue_batch(
    database: Database,
    issuance: Issuance,
    slug: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[RowOutcome]:
    """Validate every row, then issue the valid ones chunk by chunk."""
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(
            {"rows": f"expected at most {MAX_ROWS} rows, got {len(rows)}"}
        )
    outcomes: dict[int, RowOutcome] = {}
    valid: list[tuple[int, Award]] = []
    schema = AwardSchema()
    for number, row in enumerate(rows):
        try:
            award = _validated(schema, row)
        except InvalidInputError as exc:
            outcomes[number] = RowOutcome(number, None, exc)
            continue
        valid.append((number, award))
    if progress is not None and outcomes:
        # Rows refused here are done with too: progress counts every row.
        progress(len(outcomes))

    for chunk in _chunks(valid, CHUNK_SIZE):
        try:
            with database.transaction(write=True) as session:
                results = issuance.award_many(
                    session, slug, [award for _, award in chunk], now=now
                )
        except CredbankError as exc:  # the issuer itself is refused
            results = [exc] * len(chunk)
        for (number, _), result in zip(chunk, results, strict=True):
            if isinstance(result, CredbankError):
                outcomes[number] = RowOutcome(number, None, result)
            else:
                outcomes[number] = RowOutcome(number, result, None)
        if progress is not None:
            progress(len(chunk))
    return [outcomes[number] for number in range(len(rows))]


def _validated(schema: AwardSchema, row: Mapping[str, Any]) -> Award:
    if not isinstance(row, Mapping):
        raise InvalidInputError({"row": "expected a JSON object"})
    try:
        data = schema.load(row)
    except ma.ValidationError as exc:
        raise InvalidInputError(_flatten(exc.messages)) from exc
    raw = dict(row)
    award = to_award(data, raw)
    if "idempotencyKey" not in raw:
        # NOTE: a row without a key is keyed by its content, so sending the same row
        # twice can never issue two credentials. Without a key, the request digest
        # is already the digest of the whole row.
        award = replace(award, idempotency_key="row:" + award.request_digest)
    return award


def _award_from_csv(line: Mapping[str, str | None]) -> dict[str, Any]:
    value = {k: (v or "").strip() for k, v in line.items() if k is not None}
    award: dict[str, Any] = {"achievement": value.get("achievement", "")}
    learner = {
        field: value[column]
        for field, column in (
            ("did", "learner_did"),
            ("email", "learner_email"),
            ("name", "learner_name"),
        )
        if value.get(column)
    }
    award["learner"] = learner
    if value.get("score"):
        award["score"] = value["score"]
    if value.get("credits_earned"):
        award["creditsEarned"] = value["credits_earned"]
    if value.get("awarded_date"):
        award["awardedDate"] = value["awarded_date"]
    if value.get("evidence_url"):
        award["evidence"] = [{"id": value["evidence_url"]}]
    if value.get("formats"):
        award["formats"] = [f.strip() for f in value["formats"].split(";")]
    if value.get("idempotency_key"):
        award["idempotencyKey"] = value["idempotency_key"]
    return award


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping):
                flat.update(_flatten(value, name))
            else:
                flat[name] = (
                    [str(m) for m in value] if isinstance(value, list) else [str(value)]
                )
    return flat


def _chunks(
    items: Sequence[tuple[int, Award]], size: int
) -> Iterable[Sequence[tuple[int, Award]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
