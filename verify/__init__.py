"""verify: QR Codes of verification URLs (DESIGN §2, §9).

The verification procedure and its result (DESIGN §6) join this package later.
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
