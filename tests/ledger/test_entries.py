"""Log entries: the envelope, RFC 8785 canonical bytes, and parsing them back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ledger import EntryError, canonical_entry, format_time, make_entry, parse_entry
from ledger.entries import MAX_ENTRY_SIZE
from tests.conftest import NOW


def _entry(**fields: Any) -> dict[str, Any]:
    return make_entry("credential.issued", NOW, **fields)


def test_make_entry_stamps_version_kind_and_time() -> None:
    assert _entry(id="urn:uuid:1") == {
        "v": 1,
        "kind": "credential.issued",
        "at": "2026-12-01T09:30:00.000Z",
        "id": "urn:uuid:1",
    }


def test_make_entry_refuses_to_overwrite_the_version() -> None:
    # `kind` and `at` are parameters already, so Python itself refuses those.
    with pytest.raises(EntryError, match="entry field 'v' is reserved"):
        make_entry("credential.issued", NOW, v=2)


def test_format_time_is_utc_with_milliseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 12, 1, 17, 30, 5, 123999, tzinfo=beijing)

    assert format_time(moment) == "2026-12-01T09:30:05.123Z"


def test_format_time_refuses_naive_time() -> None:
    with pytest.raises(EntryError, match="expected a timezone-aware time"):
        format_time(datetime(2026, 12, 1, 9, 30))


def test_canonical_bytes_sort_keys_and_drop_whitespace() -> None:
    entry = _entry(z={"b": [1, 2], "a": None}, digest="uEiA", count=3)

    assert canonical_entry(entry) == (
        b'{"at":"2026-12-01T09:30:00.000Z","count":3,"digest":"uEiA",'
        b'"kind":"credential.issued","v":1,"z":{"a":null,"b":[1,2]}}'
    )


def test_canonical_key_order_is_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: U+1F600 is the surrogate pair D83D DE00, which sorts before
    # U+FB01 although its code point is larger; "\u00e9" stays unescaped UTF-8.
    entry = _entry(names={"\ufb01": 1, "\U0001f600": 2, "\u00e9": 3, "e": 4})

    data = canonical_entry(entry)

    assert data.endswith('"names":{"e":4,"é":3,"😀":2,"ﬁ":1},"v":1}'.encode())


@pytest.mark.parametrize(
    ("value", "want"),
    [(1.0, b"1"), (-0.0, b"0"), (1e21, b"1e+21"), (0.1, b"0.1"), (1e-7, b"1e-7")],
    ids=["one-point-zero", "minus-zero", "big", "tenth", "tiny"],
)
def test_canonical_numbers_follow_ecmascript(value: float, want: bytes) -> None:
    # RFC 8785 §3.2.2.3: numbers are serialised as ECMAScript's Number.toString.
    data = canonical_entry(_entry(n=value))

    assert b',"n":' + want + b',"v":1}' in data


def test_parse_entry_round_trips_canonical_bytes() -> None:
    entry = _entry(names={"\U0001f600": 2, "\u00e9": [True, False, None]})

    assert parse_entry(canonical_entry(entry)) == entry


NON_CANONICAL = {
    "whitespace": b'{"at": "2026-12-01T09:30:00.000Z", "kind": "key.added", "v": 1}',
    "unsorted-keys": b'{"v":1,"kind":"key.added","at":"2026-12-01T09:30:00.000Z"}',
    "escaped-non-ascii": b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added",'
    b'"note":"caf\\u00e9","v":1}',
    "float-form": b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added","n":1.0,"v":1}',
    "exponent-form": b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added",'
    b'"n":1E2,"v":1}',
    "duplicate-key": b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added",'
    b'"v":1,"v":1}',
    "trailing-newline": b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added","v":1}\n',
}


@pytest.mark.parametrize("data", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_parse_entry_refuses_non_canonical_bytes(data: bytes) -> None:
    # Each is valid JSON for the same entry, so only the canonical check stops it.
    assert json.loads(data)["kind"] == "key.added"

    with pytest.raises(EntryError, match="not in RFC 8785 canonical form"):
        parse_entry(data)
    # ...and its canonical form is accepted.
    assert parse_entry(canonical_entry(json.loads(data))) == json.loads(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "entry bytes are not JSON"),
        (b'{"v":1', "entry bytes are not JSON"),
        (b"[1,2]", "expected an entry to be a JSON object"),
        (b'"key.added"', "expected an entry to be a JSON object"),
    ],
    ids=["not-utf8", "truncated", "array", "string"],
)
def test_parse_entry_refuses_what_is_not_an_object(data: bytes, message: str) -> None:
    with pytest.raises(EntryError, match=message):
        parse_entry(data)


_MISSING = object()

BAD_ENVELOPES = {
    "version-2": ({"v": 2}, "expected entry version 1, got 2"),
    "version-missing": ({"v": _MISSING}, "expected entry version 1, got None"),
    "version-string": ({"v": "1"}, "expected entry version 1, got '1'"),
    "version-true": ({"v": True}, "expected entry version 1, got True"),
    "version-float": ({"v": 1.0}, "expected entry version 1, got 1.0"),
    "kind-capitals": ({"kind": "Key.Added"}, "expected an entry kind like"),
    "kind-one-word": ({"kind": "key"}, "expected an entry kind like"),
    "kind-space": ({"kind": "key added"}, "expected an entry kind like"),
    "kind-newline": ({"kind": "key.added\n"}, "expected an entry kind like"),
    "kind-number": ({"kind": 7}, "expected an entry kind like"),
    "at-number": ({"at": 1764581400}, "expected an RFC 3339 'at' string"),
    "at-missing": ({"at": _MISSING}, "expected an RFC 3339 'at' string"),
}


@pytest.mark.parametrize(
    ("change", "message"), BAD_ENVELOPES.values(), ids=BAD_ENVELOPES.keys()
)
def test_bad_envelope_is_refused(change: dict[str, Any], message: str) -> None:
    base = {"v": 1, "kind": "key.added", "at": "2026-12-01T09:30:00.000Z"}
    entry = {
        name: value
        for name, value in {**base, **change}.items()
        if value is not _MISSING
    }

    with pytest.raises(EntryError, match=message):
        canonical_entry(entry)


def test_version_true_in_logged_bytes_is_refused() -> None:
    # True == 1 in Python; the bytes must still say the number 1.
    data = b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added","v":true}'

    with pytest.raises(EntryError, match="expected entry version 1, got True"):
        parse_entry(data)


def test_kind_ending_in_newline_in_logged_bytes_is_refused() -> None:
    data = b'{"at":"2026-12-01T09:30:00.000Z","kind":"key.added\\n","v":1}'

    with pytest.raises(EntryError, match="expected an entry kind like"):
        parse_entry(data)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), 2**64, {1: "int key"}, b"bytes"],
    ids=["nan", "infinity", "too-big-integer", "non-string-key", "bytes"],
)
def test_value_json_cannot_hold_is_refused(value: object) -> None:
    with pytest.raises(EntryError, match="cannot be canonicalised"):
        canonical_entry(_entry(value=value))


def test_oversized_entry_is_refused() -> None:
    canonical_entry(_entry(blob="x" * (MAX_ENTRY_SIZE - 200)))

    with pytest.raises(EntryError, match=f"at most {MAX_ENTRY_SIZE} bytes, got"):
        canonical_entry(_entry(blob="x" * MAX_ENTRY_SIZE))


def test_canonical_entry_does_not_depend_on_insertion_order() -> None:
    first = {"v": 1, "kind": "key.added", "at": "t", "a": 1, "b": 2}
    second = {"b": 2, "a": 1, "at": "t", "kind": "key.added", "v": 1}

    assert canonical_entry(first) == canonical_entry(second)
    assert canonical_entry(first) == b'{"a":1,"at":"t","b":2,"kind":"key.added","v":1}'
