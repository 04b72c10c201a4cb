"""The HTTP API, the command line and the start-up of the service.

`create_app` is imported on first use (PEP 562), so that the command line, which
mostly needs no web application, does not pay for loading one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.config import Config

if TYPE_CHECKING:
    from api.app import create_app

__all__ = ["Config", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")
