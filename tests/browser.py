"""Debian's chromium under Playwright, for the tests that open the pages as a
person does (tests/*/test_*_browser.py).

Playwright's own browser download is never used. Without chromium or the
playwright package a browser test skips, except in CI (CI=true), where it fails.
Screenshots go to test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ci import running_in_ci

__all__ = ["CHROMIUM", "SCREENSHOTS", "browser", "chromium_or_skip", "screenshot"]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def chromium_or_skip() -> None:
    """Skip the test when chromium or playwright is missing; fail under CI."""
    missing = None
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        missing = f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install '.[test]')"
    if missing is None:
        return
    if running_in_ci():
        pytest.fail(f"browser tests cannot run in CI: {missing}")
    pytest.skip(f"browser tests need chromium and playwright: {missing}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module's tests."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if CHROMIUM.exists() else Path(str(shutil.which("chromium")))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable),
            # Containers run tests as root, where chromium's sandbox cannot start.
            args=["--no-sandbox"],
        )
        yield launched
        launched.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
