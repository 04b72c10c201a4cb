"""QR Codes of verification URLs (DESIGN §9: `GET /credentials/<id>/qr.svg`, `.png`).

Pure functions: the URL of a credential's verification page, its QR Code matrix at
error correction M in the smallest version that holds it (ISO/IEC 18004:2015), and
that matrix drawn as a standalone SVG document or a 1-bit grayscale PNG.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

from verify.errors import QRCodeTooLargeError

__all__ = [
    "ERROR_CORRECTION",
    "MAX_VERSION",
    "QRMatrix",
    "qr_matrix",
    "qr_png",
    "qr_svg",
    "verification_path",
    "verification_url",
]

# Level M restores about 15% of the codewords (ISO/IEC 18004): enough for a scuffed
# or creased printed certificate, while keeping the symbol small.
ERROR_CORRECTION = "M"

# Version 6 is 41 x 41 modules, 49 with the quiet zone: at 0.5 mm a module, a 25 mm
# square on a printed certificate. At level M it holds 106 bytes in byte mode
# (ISO/IEC 18004:2015 Table 7).
MAX_VERSION = 6

# The quiet zone the standard asks for around the symbol, in modules.
QUIET_ZONE = 4

# The characters RFC 3986 §3.3 allows unescaped in a path (pchar, and "/" between
# segments); everything else in a credential id is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class QRMatrix:
    """A QR Code symbol at error correction M: rows of modules, True for dark.

    The quiet zone is not included; `size` is 17 + 4 * `version` modules (ISO/IEC
    18004).
    """

    version: int
    modules: tuple[tuple[bool, ...], ...]

    def __post_init__(self) -> None:
        expected = 17 + 4 * self.version
        if len(self.modules) != expected or any(
            len(row) != expected for row in self.modules
        ):
            raise ValueError(
                f"expected {expected} x {expected} modules for version "
                f"{self.version}, got {len(self.modules)} rows"
            )

    @property
    def size(self) -> int:
        """The number of modules on each side."""
        return len(self.modules)


def verification_path(credential_id: str) -> str:
    """The path of a credential's verification page: `/v/<credential id>`.

    The id goes in whole, `urn:uuid:` prefix included, as DESIGN §9 fixes, so that
    the id a scanner sees is the id inside the credential. Only characters that RFC
    3986 §3.3 does not allow in a path are percent-encoded; a `urn:uuid:` id has none.

    Why not shorter: with a typical base, `https://credbank.example.edu.cn`, the
    URL is 79 bytes, which byte mode fits in version 5-M (up to 84 bytes). Dropping
    `urn:uuid:` saves 9 bytes but still needs version 5; upper-casing the URL into
    alphanumeric mode would reach version 4, at the price of a case-insensitive page
    route and of breaking any base URL with a (case-sensitive) path. Neither is worth
    it: the full form fits version 6-M (106 bytes) for any base up to 58 characters.
    """
    if not credential_id:
        raise ValueError("expected a credential id, got an empty string")

    return "/v/" + quote(credential_id, safe=_PATH_SAFE)


def verification_url(base_url: str, credential_id: str) -> str:
    """The verification page URL of a credential under `base_url`."""
    return base_url.rstrip("/") + verification_path(credential_id)


def qr_matrix(url: str, *, max_version: int = MAX_VERSION) -> QRMatrix:
    """The QR Code of `url` at error correction M, in the smallest version.

    The URL is encoded exactly as given: in byte mode, except that runs of 20 or
    more digits or upper-case URL characters get denser segments of their own (the
    qrcode package's default). It must be ASCII, as a URL is (RFC 3986 §2):
    non-ASCII characters would go into byte mode with no declared charset, which
    scanners guess differently.

    Raises:
        QRCodeTooLargeError: the URL needs a version above `max_version`.
        ValueError: `url` is empty or not printable ASCII, or `max_version` is not
            between 1 and 40.
    """
    _check_url(url)
    if not 1 <= max_version <= 40:
        raise ValueError(f"expected max_version between 1 and 40, got {max_version}")

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(url)
    try:
        version = code.best_fit()
    except (DataOverflowError, ValueError) as exc:
        # NOTE: qrcode 8.2 sets version 41 (and so raises ValueError) before it
        # checks for its own DataOverflowError; both mean "past version 40".
        raise QRCodeTooLargeError(
            url_length=len(url), needed_version=None, max_version=max_version
        ) from exc
    if version > max_version:
        raise QRCodeTooLargeError(
            url_length=len(url), needed_version=version, max_version=max_version
        )

    code.make(fit=False)
    modules = tuple(tuple(bool(module) for module in row) for row in code.get_matrix())
    return QRMatrix(version=version, modules=modules)


def qr_svg(
    url: str,
    *,
    module_size: int = 4,
    border: int = QUIET_ZONE,
    max_version: int = MAX_VERSION,
) -> str:
    """The QR Code of `url` as a standalone SVG document.

    The viewBox counts modules and `module_size` sets the displayed width and height
    in pixels. The dark modules are one path over a white square, drawn with
    crisp edges; the URL is the title. Nothing is fetched and nothing runs.
    """
    _check_dimensions(module_size, border, name="module_size")
    matrix = qr_matrix(url, max_version=max_version)

    side = matrix.size + 2 * border
    pixels = side * module_size
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" '
        f'height="{pixels}" viewBox="0 0 {side} {side}" '
        'shape-rendering="crispEdges">'
        f"<title>{escape(url)}</title>"
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{_svg_path(matrix, border)}"/>'
        "</svg>\n"
    )


def qr_png(
    url: str,
    *,
    scale: int = 8,
    border: int = QUIET_ZONE,
    max_version: int = MAX_VERSION,
) -> bytes:
    """The QR Code of `url` as a 1-bit grayscale PNG, `scale` pixels a module.

    The image is (size + 2 * `border`) * `scale` pixels on each side.
    """
    _check_dimensions(scale, border, name="scale")
    matrix = qr_matrix(url, max_version=max_version)

    margin = [False] * border
    blank = [False] * (matrix.size + 2 * border)
    rows = [blank] * border
    rows += [margin + list(row) + margin for row in matrix.modules]
    rows += [blank] * border
    scanlines = b"".join(_png_scanline(row, scale) * scale for row in rows)
    side = len(blank) * scale
    return _png(side, side, scanlines)


def _check_url(url: str) -> None:
    """Refuse an empty URL, or one with characters outside printable ASCII."""
    if not url:
        raise ValueError("expected a URL, got an empty string")
    for index, char in enumerate(url):
        if not "!" <= char <= "~":
            raise ValueError(
                "expected a URL of printable ASCII characters (RFC 3986 §2), "
                f"got {char!r} at index {index}; percent-encode it"
            )


def _check_dimensions(module_pixels: int, border: int, *, name: str) -> None:
    if module_pixels < 1:
        raise ValueError(f"expected {name} ≥ 1, got {module_pixels}")
    if border < 0:
        raise ValueError(f"expected border ≥ 0, got {border}")


def _svg_path(matrix: QRMatrix, border: int) -> str:
    """Path data drawing each horizontal run of dark modules as one rectangle."""
    commands = []
    for y, row in enumerate(matrix.modules):
        x = 0
        while x < matrix.size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < matrix.size and row[x]:
                x += 1
            width = x - start
            commands.append(f"M{start + border} {y + border}h{width}v1h-{width}z")
    return "".join(commands)


def _png_scanline(modules: list[bool], scale: int) -> bytes:
    """One PNG scanline: filter type 0, then 1-bit pixels, 0 for dark, 1 for light.

    PNG (ISO/IEC 15948) §9.2 filter "None"; §7.2 packs pixels from the most
    significant bit and pads the last byte.
    """
    bits = "".join(("0" if dark else "1") * scale for dark in modules)
    bits += "0" * (-len(bits) % 8)
    return b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")


def _png(width: int, height: int, scanlines: bytes) -> bytes:
    """A PNG image of 1-bit grayscale `scanlines` (PNG §11.2.2 IHDR to §11.2.5)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(scanlines, 9))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """Length, type, data, and the CRC-32 of type and data (PNG §5.3)."""
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
