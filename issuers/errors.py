"""Errors of the registry: who may do what, and what the admission standard refuses."""

from __future__ import annotations

from collections.abc import Mapping

from keys.errors import CredbankError

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "RegistryError",
]


class RegistryError(CredbankError):
    """Root of the registry's errors."""


class NotFoundError(RegistryError):
    """No such issuer, achievement, key or reviewer."""


class ForbiddenError(RegistryError):
    """The caller is authenticated but may not do this."""


class ConflictError(RegistryError):
    """The request contradicts the current state (a second vote, a closed review...)."""


class InvalidInputError(RegistryError):
    """Input breaks the admission standard; `errors` names each field."""

    def __init__(self, errors: Mapping[str, str | list[str]]) -> None:
        self.errors = {
            field: [message] if isinstance(message, str) else list(message)
            for field, message in errors.items()
        }
        summary = "; ".join(f"{f}: {m[0]}" for f, m in self.errors.items())
        super().__init__(summary)
