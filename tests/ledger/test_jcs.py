"""The JCS fast path writes exactly what the `rfc8785` package writes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import jcs

# Every code point class that matters: ASCII, controls, CJK, the private-use block
# above the surrogates (U+E000..U+FFFF) and astral characters, which sort differently
# by UTF-16 code unit than by code point.
_TEXT = st.text(
    st.one_of(
        st.characters(max_codepoint=0x7F),
        # C1 controls, Latin-1, and the rest of the BMP below the surrogates.
        st.characters(min_codepoint=0x80, max_codepoint=0xD7FF),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E10),
        st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
        st.characters(min_codepoint=0x1F600, max_codepoint=0x1F610),
    ),
    max_size=8,
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_agrees_with_rfc8785_on_any_json(value: Any) -> None:
    assert jcs.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 puts the emoji first
        {"a": 1.5, "b": [1e21, -0.0, 5e-324]},
        {"text": 'tab\t nul\x00 del\x7f line\u2028 quote" back\\ 中文'},
        [2**53 - 1, -(2**53) + 1, True, False, None],
        ("a", "tuple"),
    ],
)
def test_agrees_on_the_cases_where_the_orders_or_forms_could_differ(value: Any) -> None:
    assert jcs.dumps(value) == rfc8785.dumps(value)


def test_utf16_order_is_kept_for_astral_keys() -> None:
    assert jcs.dumps({"\ue000": 1, "\U0001f600": 2}) == (
        '{"\U0001f600":2,"\ue000":1}'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        2**53,
        {"x": [-(2**53)]},
        float("nan"),
        {1: "key"},
        "lone \ud800 surrogate",
        {"set": {1}},
    ],
)
def test_refuses_what_rfc8785_refuses_with_its_error(value: Any) -> None:
    with pytest.raises(Exception) as expected:
        rfc8785.dumps(value)

    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        jcs.dumps(value)
