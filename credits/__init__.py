"""credits: partner-school rule sets in the `credit-rules/v1` format, the credential
input they are applied to, and the converter that applies them (credit-rules.md).

Pure: no database, no Flask. The evaluation date is an argument, and every number is
an exact fraction from the text it was written as to the output document.
"""

from credits.converter import REASONS, Evaluation, Grant, Refusal, evaluate, json_number
from credits.errors import CreditInputError, CreditsError, RuleSetError
from credits.normalise import (
    NormalisedCredential,
    from_open_badge,
    load_credentials,
    read_credential,
)
from credits.rules import FORMAT, Item, Rule, RuleSet, load_rule_set

__all__ = [
    "FORMAT",
    "REASONS",
    "CreditInputError",
    "CreditsError",
    "Evaluation",
    "Grant",
    "Item",
    "NormalisedCredential",
    "Refusal",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "evaluate",
    "from_open_badge",
    "json_number",
    "load_credentials",
    "load_rule_set",
    "read_credential",
]
