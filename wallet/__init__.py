"""wallet: the learner's portable wallet (DESIGN §8): export, offline verification,
the holder's presentation and the CLR 2.0 export. docs/wallet-format.md is the
format's specification."""

from wallet.claim_links import (
    CLAIM_LINK_TTL,
    ClaimLink,
    claim_url,
    create_claim_link,
    redeem_claim_link,
)
from wallet.clr import CLR_TYPE, clr_credential
from wallet.export import export_wallet, presented_form
from wallet.format import FORMAT, WalletFormatError, check_wallet, is_wallet
from wallet.offline import (
    ItemResult,
    WalletCheck,
    WalletFacts,
    WalletResult,
    verify_wallet,
)
from wallet.presentation import (
    HolderKeyError,
    did_key_of,
    load_holder_key,
    sign_presentation,
)

__all__ = [
    "CLAIM_LINK_TTL",
    "CLR_TYPE",
    "FORMAT",
    "ClaimLink",
    "HolderKeyError",
    "ItemResult",
    "WalletCheck",
    "WalletFacts",
    "WalletFormatError",
    "WalletResult",
    "check_wallet",
    "claim_url",
    "clr_credential",
    "create_claim_link",
    "did_key_of",
    "export_wallet",
    "is_wallet",
    "load_holder_key",
    "presented_form",
    "redeem_claim_link",
    "sign_presentation",
    "verify_wallet",
]
