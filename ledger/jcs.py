"""RFC 8785 JSON Canonicalization Scheme, with a fast path for plain documents.

The `rfc8785` package is exact but written in Python, and canonicalising is a fifth
of the time it takes to issue a credential. Most documents credbank canonicalises
(log entries, credentials) hold only objects, arrays, strings, small integers,
booleans and null. For those the standard library's C encoder, with sorted keys, no
whitespace and no ASCII escaping, writes the same bytes as RFC 8785:

- §3.2.2.2 string escaping: both write `\\b \\t \\n \\f \\r \\" \\\\` as two-character
  escapes, every other code point below U+0020 as `\\u00xx` in lower-case hex, and
  everything else as itself.
- §3.2.2.3 numbers: an integer of magnitude below 2**53 prints the same in ECMAScript
  and in Python. Floats take the exact path: their shortest forms differ.
- §3.2.3 property order: RFC 8785 sorts by UTF-16 code units, Python by code points.
  The two orders agree unless a key holds a code point at or above U+D800 (a
  surrogate pair sorts below U+E000..U+FFFF in UTF-16), so such keys take the exact
  path too.

Anything else (floats, large integers, tuples, non-string keys, lone surrogates) goes
to `rfc8785.dumps`, which also raises the errors.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

__all__ = ["dumps"]

# ECMAScript's Number.MAX_SAFE_INTEGER; rfc8785 refuses anything larger.
_MAX_SAFE_INT = 2**53 - 1
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical form of `value` as UTF-8 bytes.

    Raises:
        rfc8785.CanonicalizationError, TypeError, ValueError: as `rfc8785.dumps`
            does, for a value JSON cannot carry exactly.
    """
    if _plain(value):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 name the error
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """Whether the standard encoder writes `value` exactly as RFC 8785 does."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and max(key) >= "\ud800"):
                    return False
            pending.extend(item.values())
            continue
        if kind is list:
            pending.extend(item)
            continue
        return False
    return True
