"""The result's own vocabulary: the check names the verdict leans on, and a code
for each finding (verify/result.py, verify/messages.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from tests.verify.test_other_issuers import ISSUER_DID, NOW, new_issuer
from verify import procedure, resolver
from verify.facts import NO_FACTS
from verify.messages import MESSAGES
from verify.procedure import verify_credential
from verify.resolver import Resolver
from verify.result import ESSENTIAL

CHECKS = [
    "format",
    "method",
    "signature",
    "data-model",
    "validity",
    "status",
    "issuer",
    "achievement",
    "key-state",
    "log",
]


def test_every_essential_name_is_a_real_check() -> None:
    issuer = new_issuer()

    result = verify_credential(
        issuer.credential(), resolver=Resolver(), facts=NO_FACTS, now=NOW
    )

    names = [c.check for c in result.checks]
    assert names == CHECKS
    assert set(names) >= ESSENTIAL, ESSENTIAL - set(names)


def test_an_unresolved_key_leaves_its_state_unchecked_under_its_own_code() -> None:
    issuer = new_issuer(ISSUER_DID)

    result = verify_credential(
        issuer.credential(), resolver=Resolver(), facts=NO_FACTS, now=NOW
    )

    codes = {c.check: (c.outcome, c.code) for c in result.checks}
    assert codes["method"] == ("cannot-check", "method.not-allowed")
    assert codes["signature"] == ("cannot-check", "signature.not-checked")
    assert codes["key-state"] == ("cannot-check", "key-state.not-checked")
    key_state = next(c for c in result.checks if c.check == "key-state")
    assert "state could not be checked" in key_state.message("en")
    assert "泄露" in key_state.message("zh")
    assert result.verdict == "invalid"


def test_an_unchecked_method_alone_makes_the_verdict_invalid() -> None:
    # The method line is essential: without its key nothing else means anything,
    # even were every other line to pass.
    issuer = new_issuer()
    result = verify_credential(
        issuer.credential(), resolver=Resolver(), facts=NO_FACTS, now=NOW
    )
    unresolved = tuple(
        replace(c, outcome="cannot-check") if c.check == "method" else c
        for c in result.checks
    )

    assert result.verdict == "valid"
    assert replace(result, checks=unresolved).verdict == "invalid"


def test_every_code_the_procedure_writes_has_words_in_both_languages() -> None:
    written = {
        code
        for module in (procedure, resolver)
        for code in re.findall(
            r'"([a-z-]+\.[a-z-]+)"', Path(module.__file__).read_text(encoding="utf-8")
        )
    }
    codes = {code for code in written if code.split(".")[0] in CHECKS}

    assert "key-state.not-checked" in codes
    assert codes <= MESSAGES.keys(), codes - MESSAGES.keys()
    for code in codes:
        assert MESSAGES[code]["zh"] and MESSAGES[code]["en"], code
