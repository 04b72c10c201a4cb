"""wallet: the learner's portable wallet (DESIGN §8): export, offline verification,
the holder's presentation and the CLR 2.0 export. docs/wallet-format.md is the
format's specification."""

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
    "CLR_TYPE",
    "FORMAT",
    "HolderKeyError",
    "ItemResult",
    "WalletCheck",
    "WalletFacts",
    "WalletFormatError",
    "WalletResult",
    "check_wallet",
    "clr_credential",
    "did_key_of",
    "export_wallet",
    "is_wallet",
    "load_holder_key",
    "presented_form",
    "sign_presentation",
    "verify_wallet",
]
