"""RFC 8785 JSON Canonicalization Scheme, with a fast path for plain documents.

The `rfc8785` package is exact but written in Python, and canonicalising is a fifth
of the time it takes to issue a credential. Most documents credbank canonicalises
(log entries, credentials) hold only objects, arrays, strings, small integers,
booleans and null. For those a compact JSON encoder with sorted keys and no ASCII
escaping writes the same bytes as RFC 8785. orjson is that encoder here: it takes a
few microseconds where the standard library's takes tens (tests/ledger/test_jcs.py
holds its output to rfc8785's). Where they agree:

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

from typing import Any

import orjson
import rfc8785

__all__ = ["dumps"]

# ECMAScript's Number.MAX_SAFE_INTEGER; rfc8785 refuses anything larger.
_MAX_SAFE_INT = 2**53 - 1


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical form of `value` as UTF-8 bytes.

    Raises:
        rfc8785.CanonicalizationError, TypeError, ValueError: as `rfc8785.dumps`
            does, for a value JSON cannot carry exactly.
    """
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: let rfc8785 name the error
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """Whether the fast encoder writes `value` exactly as RFC 8785 does."""
    keys: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            keys.extend(item)
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is not int or not -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
            return False
    # The keys are looked at once, together: joining refuses any that is not a
    # string, and one scan finds a code point where the orders part (§3.2.3).
    try:
        joined = "".join(keys)
    except TypeError:
        return False
    return joined.isascii() or max(joined) < "\ud800"
