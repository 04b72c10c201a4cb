"""Whether the tests run in CI, and what a missing prerequisite does there.

Outside CI, a test whose prerequisite is missing (PostgreSQL, Redis, Node.js,
chromium, root for a tmpfs) skips and says why. In CI every test must run, so the
same test fails. `.ci/run` exports CI=true; CI services set CI=true or CI=1.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["running_in_ci", "skip_or_fail"]


def running_in_ci() -> bool:
    """True when the environment says CI (CI=true or CI=1, in any case)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for `reason`; under CI, fail it instead."""
    if running_in_ci():
        pytest.fail(f"{reason} (under CI every test must run)")
    pytest.skip(reason)
