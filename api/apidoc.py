"""What a view adds to its own OpenAPI operation (OpenAPI 3.1 §4.8.10).

flask-smorest builds each operation from the `_apidoc` mapping its decorators leave
on the view function. The decorators here add to it too: the RFC 9457 problem
responses a view may answer, and the bearer security requirement with its roles.
Nothing here imports the rest of the app, so `api.auth` can use it.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["BEARER_SCHEME", "add_problem_responses", "add_security", "problem_ref"]

# The name of the security scheme in the OpenAPI document.
BEARER_SCHEME = "bearerAuth"

F = TypeVar("F", bound=Callable[..., Any])


def problem_ref(status: int) -> str:
    """The name of the shared response component for a problem of `status`
    (flask-smorest names one per HTTP status, such as NOT_FOUND)."""
    return http.HTTPStatus(status).name


def add_problem_responses(view: F, statuses: Iterable[int]) -> F:
    """Document that `view` may answer a problem with each of `statuses`."""
    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    for status in statuses:
        refs = responses.setdefault(status, [])
        if problem_ref(status) not in refs:
            refs.append(problem_ref(status))
    view._apidoc = apidoc  # type: ignore[attr-defined]
    return view


def add_security(view: F, roles: Iterable[str]) -> F:
    """Require the bearer scheme on `view`'s operation, naming the roles that may
    call it: OpenAPI 3.1 §4.8.30 lets a non-OAuth requirement list role names."""
    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["security"] = [{BEARER_SCHEME: list(roles)}]
    view._apidoc = apidoc  # type: ignore[attr-defined]
    return view
