"""The errors of the `credits` package: a rule set or an input that breaks
credit-rules.md. Each names the offending field by its path, as in
`rules[2].all_of[0].min_score`, and says what was expected and what was found.
"""

from __future__ import annotations

from keys.errors import CredbankError

__all__ = ["CreditInputError", "CreditsError", "RuleSetError"]


class CreditsError(CredbankError):
    """Root of the `credits` package's errors; `field` is a path, `message` the fault.

    An empty `field` stands for the document as a whole (it is not JSON or YAML).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class RuleSetError(CreditsError):
    """A `credit-rules/v1` rule set is malformed (credit-rules.md "The rule set")."""


class CreditInputError(CreditsError):
    """A credential given to the converter is malformed (credit-rules.md "Input")."""
