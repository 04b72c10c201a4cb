"""verify: the verification procedure and its result (DESIGN §6), and QR Codes of
verification URLs (DESIGN §9).

The procedure is verify/procedure.py, fed by a resolver (verify/resolver.py) and a
source of facts (verify/facts.py, verify/local.py); ADR 0004 explains the split.
This package's own surface is the QR Codes; callers import the procedure's modules.
"""

from verify.errors import QRCodeTooLargeError
from verify.qr import (
    ERROR_CORRECTION,
    MAX_VERSION,
    QRMatrix,
    qr_matrix,
    qr_png,
    qr_svg,
    verification_path,
    verification_url,
)

__all__ = [
    "ERROR_CORRECTION",
    "MAX_VERSION",
    "QRCodeTooLargeError",
    "QRMatrix",
    "qr_matrix",
    "qr_png",
    "qr_svg",
    "verification_path",
    "verification_url",
]
