"""The `credbank-wallet/v1` file: its constants and a check of its shape.

docs/wallet-format.md is the specification; `check_wallet` enforces the shape it
describes (members, types, sizes) before anything is verified, so that a file that
is no wallet is refused with one error naming the member, never half-verified.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from keys.errors import CredbankError

__all__ = [
    "DATA_INTEGRITY_FORMS",
    "FORMAT",
    "FORMS",
    "MAX_ITEMS",
    "MAX_WALLET_BYTES",
    "WalletFormatError",
    "check_wallet",
    "is_wallet",
]

FORMAT = "credbank-wallet/v1"

RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
JWT = "vc+jwt"
DATA_INTEGRITY_FORMS = (RDFC, JCS)
FORMS = (RDFC, JCS, JWT)

# A learner with a long career holds a few hundred credentials; a presentation
# verifier (verify/presentation.py) takes at most 100 at a time, and a wallet is
# a presentation plus what it needs, so a thousand items is a generous ceiling.
MAX_ITEMS = 1000
# Each item's three forms weigh about 12 kB; a thousand of them, their proofs and
# the presentation's copies stay far below this.
MAX_WALLET_BYTES = 32 * 1024 * 1024

_TOP = {
    "format",
    "exportedAt",
    "statusAsOf",
    "subset",
    "holder",
    "log",
    "credentials",
    "statements",
    "didDocuments",
    "statusLists",
    "presentation",
}
_ITEM = {"id", "digest", "secured", "logEntry", "tlogProof"}
# RFC 3339 §5.6 date-time in UTC, to the second, as the exporter writes it.
_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class WalletFormatError(CredbankError):
    """The file is not a `credbank-wallet/v1` wallet; `path` names the member."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


def is_wallet(value: Any) -> bool:
    """Whether `value` says it is a wallet (its shape is checked separately)."""
    return isinstance(value, Mapping) and value.get("format") == FORMAT


def check_wallet(wallet: Any) -> None:
    """Raise `WalletFormatError` unless `wallet` has the shape of
    docs/wallet-format.md §2. Signatures and proofs are not looked at here."""
    if not isinstance(wallet, Mapping):
        raise WalletFormatError("", f"expected a JSON object, got {_kind(wallet)}")
    if wallet.get("format") != FORMAT:
        raise WalletFormatError("format", f"expected {FORMAT!r}")
    _members(wallet, "", required=_TOP, allowed=_TOP)
    for name in ("exportedAt", "statusAsOf"):
        if not _UTC_TIME.fullmatch(_string(wallet[name], name)):
            raise WalletFormatError(name, "expected a UTC time YYYY-MM-DDThh:mm:ssZ")
    if not isinstance(wallet["subset"], bool):
        raise WalletFormatError(
            "subset", f"expected true or false, got {_kind(wallet['subset'])}"
        )
    holder = wallet["holder"]
    if holder is not None and not (
        isinstance(holder, str) and holder.startswith("did:key:")
    ):
        raise WalletFormatError("holder", "expected a did:key or null")

    log = _object(wallet["log"], "log")
    _members(log, "log", required={"verifierKey", "checkpoint"}, allowed=None)
    _string(log["verifierKey"], "log.verifierKey")
    _string(log["checkpoint"], "log.checkpoint")

    seen: set[str] = set()
    for group in ("credentials", "statements"):
        items = wallet[group]
        if not isinstance(items, list):
            raise WalletFormatError(group, f"expected a list, got {_kind(items)}")
        if len(items) > MAX_ITEMS:
            raise WalletFormatError(
                group, f"expected at most {MAX_ITEMS} items, got {len(items)}"
            )
        for number, item in enumerate(items):
            _check_item(item, f"{group}[{number}]", seen)

    documents = _object(wallet["didDocuments"], "didDocuments")
    for did, document in documents.items():
        path = f"didDocuments[{did!r}]"
        if not did.startswith("did:"):
            raise WalletFormatError(path, "expected a DID as the key")
        if _object(document, path).get("id") != did:
            raise WalletFormatError(f"{path}.id", "expected the DID it is filed under")

    lists = _object(wallet["statusLists"], "statusLists")
    for url, credential in lists.items():
        path = f"statusLists[{url!r}]"
        if _object(credential, path).get("id") != url:
            raise WalletFormatError(f"{path}.id", "expected the URL it is filed under")

    presentation = _object(wallet["presentation"], "presentation")
    if not isinstance(presentation.get("verifiableCredential"), list):
        raise WalletFormatError(
            "presentation.verifiableCredential", "expected a list of credentials"
        )


def _check_item(item: Any, path: str, seen: set[str]) -> None:
    _object(item, path)
    _members(item, path, required=_ITEM, allowed=_ITEM)
    item_id = _string(item["id"], f"{path}.id")
    if item_id in seen:
        raise WalletFormatError(f"{path}.id", f"{item_id!r} appears twice")
    seen.add(item_id)
    _string(item["digest"], f"{path}.digest")
    _string(item["tlogProof"], f"{path}.tlogProof")
    try:
        base64.b64decode(_string(item["logEntry"], f"{path}.logEntry"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise WalletFormatError(f"{path}.logEntry", "expected base64") from exc
    secured = _object(item["secured"], f"{path}.secured")
    if not secured:
        raise WalletFormatError(f"{path}.secured", "expected at least one form")
    for form, value in secured.items():
        where = f"{path}.secured[{form!r}]"
        if form not in FORMS:
            raise WalletFormatError(where, f"expected one of {', '.join(FORMS)}")
        if form == JWT:
            _string(value, where)
        else:
            _object(value, where)


def _members(
    value: Mapping[str, Any],
    path: str,
    *,
    required: set[str],
    allowed: set[str] | None,
) -> None:
    missing = sorted(required - set(value))
    if missing:
        where = f"{path}.{missing[0]}" if path else missing[0]
        raise WalletFormatError(where, "required, missing")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            where = f"{path}.{unknown[0]}" if path else unknown[0]
            raise WalletFormatError(where, "unknown member")


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WalletFormatError(path, f"expected an object, got {_kind(value)}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise WalletFormatError(
            path, f"expected a non-empty string, got {_kind(value)}"
        )
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, (int, float)) else type(value).__name__
