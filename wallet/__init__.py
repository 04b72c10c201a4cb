"""wallet: the learner's portable wallet (DESIGN §8): export, offline verification,
the holder's did:key and presentation, claim links, and the CLR 2.0 export.
docs/wallet-format.md is the format's specification."""

from wallet.claim_links import (
    CLAIM_LINK_TTL,
    ClaimLink,
    batch_claim_urls,
    claim_url,
    create_claim_link,
    create_claim_links,
    redeem_claim_link,
)
from wallet.clr import CLR_CONTEXTS, CLR_TYPE, clr_credential
from wallet.export import export_wallet, presented_form
from wallet.format import FORMAT, WalletFormatError, check_wallet, is_wallet
from wallet.holder_did import (
    CHALLENGE_TTL,
    DIDChallenge,
    DIDRegistration,
    issue_did_challenge,
    register_holder_did,
)
from wallet.offline import (
    ItemResult,
    WalletCheck,
    WalletFacts,
    WalletResult,
    status_age_words,
    verify_wallet,
)
from wallet.presentation import (
    HolderKeyError,
    did_key_of,
    load_holder_key,
    sign_presentation,
)

__all__ = [
    "CHALLENGE_TTL",
    "CLAIM_LINK_TTL",
    "CLR_CONTEXTS",
    "CLR_TYPE",
    "FORMAT",
    "ClaimLink",
    "DIDChallenge",
    "DIDRegistration",
    "HolderKeyError",
    "ItemResult",
    "WalletCheck",
    "WalletFacts",
    "WalletFormatError",
    "WalletResult",
    "batch_claim_urls",
    "check_wallet",
    "claim_url",
    "clr_credential",
    "create_claim_link",
    "create_claim_links",
    "did_key_of",
    "export_wallet",
    "is_wallet",
    "issue_did_challenge",
    "load_holder_key",
    "presented_form",
    "redeem_claim_link",
    "register_holder_did",
    "sign_presentation",
    "status_age_words",
    "verify_wallet",
]
