"""Reading JSON and YAML documents field by field, with exact numbers.

Shared by the rule set and the credential readers. Every number becomes a
`fractions.Fraction` without passing through a binary float when its text is at
hand (credit-rules.md "Evaluation": "never as a binary float"), and every fault is
reported with the path of the field it concerns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, NoReturn

import yaml

from credits.errors import CreditsError

__all__ = [
    "Fail",
    "Fields",
    "boolean",
    "day",
    "exact",
    "integer",
    "items",
    "load_json",
    "load_yaml_or_json",
    "shown",
    "text",
]

Fail = Callable[[str, str], CreditsError]

# Exact numbers written as text: "2", "0.5", "1/45". Thirty digits a part is far
# beyond any credit figure and keeps int() clear of its 4,300-digit guard.
_NUMBER_TEXT = re.compile(r"\d{1,30}(?:\.\d{1,30})?|\d{1,30}/\d{1,30}")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
# Adjusted exponents a credit figure may have: 10^-30 to 10^30. Fraction(Decimal)
# of 1e999999999 would build a billion-digit integer.
_EXPONENT_LIMIT = 30
_SHOWN_LIMIT = 40


def shown(value: object) -> str:
    """A short, one-line rendering of a found value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | date):
        text_form = str(value)
    elif isinstance(value, Mapping):
        return "an object"
    elif isinstance(value, list | tuple):
        return "a list"
    else:
        text_form = repr(value)
    if len(text_form) > _SHOWN_LIMIT:
        text_form = text_form[: _SHOWN_LIMIT - 3] + "..."
    return text_form


def join(path: str, key: str | int) -> str:
    """The path of a member (`a.b`) or of a list element (`a[2]`)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Fields:
    """The members of one object, each read at most once; `finish` refuses the rest."""

    def __init__(self, value: object, path: str, fail: Fail) -> None:
        if not isinstance(value, Mapping):
            raise fail(path, f"expected an object, got {shown(value)}")
        for key in value:
            if not isinstance(key, str):
                raise fail(path, f"expected text keys, got {shown(key)}")
        self._value: Mapping[str, Any] = value
        self._path = path
        self._fail = fail
        self._read: set[str] = set()

    def path(self, key: str) -> str:
        return join(self._path, key)

    def names(self) -> list[str]:
        return list(self._value)

    def required(self, key: str) -> Any:
        """The member's value; absent or null is an error."""
        self._read.add(key)
        if key not in self._value:
            raise self._fail(self.path(key), "missing field")
        value = self._value[key]
        if value is None:
            raise self._fail(self.path(key), "expected a value, got null")
        return value

    def present(self, key: str) -> Any:
        """The member's value, which may be null but must be written."""
        self._read.add(key)
        if key not in self._value:
            raise self._fail(self.path(key), "missing field")
        return self._value[key]

    def optional(self, key: str) -> Any:
        """The member's value, or None when it is absent or null."""
        self._read.add(key)
        return self._value.get(key)

    def finish(self) -> None:
        """Refuse the first member, in document order, that nothing read."""
        for key in self._value:
            if key not in self._read:
                raise self._fail(self.path(key), "unknown field")


def text(value: object, path: str, fail: Fail) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(path, f"expected a non-empty string, got {shown(value)}")
    return value


def boolean(value: object, path: str, fail: Fail) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, got {shown(value)}")
    return value


def integer(value: object, path: str, fail: Fail, low: int, high: int) -> int:
    """An integer from `low` to `high`; a boolean or a decimal is refused."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not low <= value <= high:  # type: ignore[operator]
        raise fail(path, f"expected an integer {low}-{high}, got {shown(value)}")
    assert isinstance(value, int)
    return value


def exact(
    value: object,
    path: str,
    fail: Fail,
    *,
    expected: str,
    low: Fraction | int = 0,
    high: Fraction | int | None = None,
    above_low: bool = False,
) -> Fraction:
    """An exact number: an integer, a decimal, or a string "2", "0.5" or "1/45".

    It must lie in [low, high] (or (low, high] with `above_low`); `expected` words
    the message, as in "a number 0-100".
    """
    number = _to_fraction(value)
    if (
        number is None
        or number < low
        or (above_low and number == low)
        or (high is not None and number > high)
    ):
        raise fail(path, f"expected {expected}, got {shown(value)}")
    return number


def day(value: object, path: str, fail: Fail) -> date:
    """A calendar date: a YAML date, or a string YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(path, f"expected a date YYYY-MM-DD, got {shown(value)}")


def items(
    value: object, path: str, fail: Fail, *, empty: bool = False
) -> Sequence[Any]:
    """A list (never a string); empty only when `empty` allows it."""
    if not isinstance(value, list | tuple):
        raise fail(path, f"expected a list, got {shown(value)}")
    if not value and not empty:
        raise fail(path, "expected a non-empty list, got an empty one")
    return value


def load_json(source: str | bytes, fail: Fail) -> Any:
    """Parse JSON with decimals kept exact and duplicate keys refused."""
    try:
        return json.loads(
            source,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_members,
        )
    except _DuplicateKeyError as exc:
        raise fail("", f"duplicate key {shown(exc.key)}") from exc
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError, and int()'s guard against huge numbers, are ValueErrors.
        raise fail("", f"not JSON ({_first_line(exc)})") from exc


def load_yaml_or_json(source: str | bytes, fail: Fail) -> Any:
    """Parse a JSON object, else YAML, with exact decimals and no aliases."""
    if isinstance(source, bytes):
        try:
            source = source.decode()
        except UnicodeDecodeError as exc:
            raise fail("", "not UTF-8 text") from exc
    if source.lstrip().startswith("{"):
        try:
            return load_json(source, fail)
        except CreditsError:
            pass  # A YAML flow mapping may still be read as YAML.
    try:
        # NOTE: yaml.load with a subclass of SafeLoader: it constructs only what
        # safe_load constructs, with floats as exact decimals instead of binary.
        return yaml.load(source, Loader=_ExactLoader)  # noqa: S506
    except _DuplicateKeyError as exc:
        raise fail("", f"duplicate key {shown(exc.key)}") from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise fail("", f"not YAML or JSON ({_first_line(exc)})") from exc


def _to_fraction(value: object) -> Fraction | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        # The shortest decimal text that reads back as this float, never the float's
        # binary expansion: 0.1 is 1/10.
        value = Decimal(repr(value))
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite() or (value and abs(value.adjusted()) > _EXPONENT_LIMIT):
            return None
        return Fraction(value)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        numerator, _, denominator = value.partition("/")
        if denominator:
            if int(denominator) == 0:
                return None
            return Fraction(int(numerator), int(denominator))
        return Fraction(Decimal(value))
    return None


class _DuplicateKeyError(ValueError):
    def __init__(self, key: object) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise _DuplicateKeyError(key)
        members[key] = value
    return members


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (
        " ".join(lines[:1] + [line.strip() for line in lines[1:3]])
        or type(exc).__name__
    )


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader with exact decimals, no duplicate keys and no aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # Anchors and aliases let a short file stand for a huge tree; a rule set
        # has no use for them.
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed", None
            )
        return super().compose_node(parent, index)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    written = str(loader.construct_scalar(node)).replace("_", "").lower()
    if written.lstrip("+-") in (".inf", ".nan"):
        return Decimal("NaN")  # refused wherever a number is expected
    try:
        return Decimal(written)
    except InvalidOperation:
        # YAML 1.1 base-60 floats (1:30.5) have no exact decimal text of their own.
        return Decimal(repr(loader.construct_yaml_float(node)))


def _construct_unique_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    members: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | date | type(None)):
            raise yaml.constructor.ConstructorError(
                None, None, "expected a plain key", key_node.start_mark
            )
        if key in members:
            raise _DuplicateKeyError(key)
        members[key] = loader.construct_object(value_node, deep=True)
    return members


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_ExactLoader.add_constructor("tag:yaml.org,2002:map", _construct_unique_mapping)
