"""QR Codes of verification URLs: size, error correction, SVG and PNG output.

What `verify.qr` draws is read back with independent code: zxing-cpp decodes the
symbol, Pillow reads the PNG, xml.etree parses the SVG, and the format information
is read off the matrix by the layout ISO/IEC 18004 gives.
"""

from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from keys.errors import CredbankError
from verify import (
    MAX_VERSION,
    QRCodeTooLargeError,
    QRMatrix,
    qr_matrix,
    qr_png,
    qr_svg,
    verification_path,
    verification_url,
)

SVG = "{http://www.w3.org/2000/svg}"
TYPICAL_BASE = "https://credbank.example.edu.cn"
CREDENTIAL_ID = "urn:uuid:0b1f3c2e-7d4a-4c55-9a51-3f1d2c4b5a69"
TYPICAL_URL = f"{TYPICAL_BASE}/v/{CREDENTIAL_ID}"

# Byte-mode capacity at error correction M, versions 1 to 7: ISO/IEC 18004:2015
# Table 7 ("Number of symbol characters and input data capacity for QR Code").
BYTE_CAPACITY_M = {1: 14, 2: 26, 3: 42, 4: 62, 5: 84, 6: 106, 7: 122}

# The format information (ISO/IEC 18004:2015, "Format information"): 5 data bits (error
# correction level, mask) and 10 BCH bits, XORed with this mask. Level M is 00.
FORMAT_MASK = 0b101010000010010
FORMAT_GENERATOR = 0b10100110111
EC_LEVEL_BITS = {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}


def url_of_length(length: int) -> str:
    """A lower-case URL (so all in byte mode) of exactly `length` bytes."""
    prefix = "https://e.cn/"
    assert length >= len(prefix)
    return prefix + "a" * (length - len(prefix))


def decode(image: Image.Image) -> zxingcpp.Barcode:
    """Read the one QR Code in `image`, failing the test when there is none."""
    # A printed certificate is dark on light: an inverted image must not pass.
    barcode = zxingcpp.read_barcode(
        image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False
    )
    assert barcode is not None, "zxing-cpp found no QR Code"
    return barcode


def format_ec_level(matrix: QRMatrix) -> str:
    """The error correction level written in the copy of the format information
    beside the top-left finder pattern, most significant bit first."""
    cells = [(8, column) for column in (0, 1, 2, 3, 4, 5, 7, 8)]
    cells += [(row, 8) for row in (7, 5, 4, 3, 2, 1, 0)]
    bits = 0
    for row, column in cells:
        bits = bits << 1 | matrix.modules[row][column]
    data = (bits ^ FORMAT_MASK) >> 10
    assert bits == format_codeword(data), f"no valid format information: {bits:015b}"
    return EC_LEVEL_BITS[data >> 3]


def format_codeword(data: int) -> int:
    remainder = data << 10
    for shift in range(4, -1, -1):
        if remainder & (1 << (shift + 10)):
            remainder ^= FORMAT_GENERATOR << shift
    return ((data << 10) | remainder) ^ FORMAT_MASK


def svg_dark_cells(document: str) -> set[tuple[int, int]]:
    """The (x, y) cells the SVG path fills, for the one-row rectangles it draws."""
    path = ET.fromstring(document).find(f"{SVG}path")
    assert path is not None
    data = path.attrib["d"]
    rectangle = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")
    assert rectangle.sub("", data) == "", "path holds commands other than runs"
    cells = set()
    for match in rectangle.finditer(data):
        x, y, width, back = map(int, match.groups())
        assert width == back
        cells.update((x + step, y) for step in range(width))
    return cells


def draw_cells(cells: set[tuple[int, int]], side: int, scale: int) -> Image.Image:
    image = Image.new("L", (side * scale, side * scale), 255)
    for x, y in cells:
        image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return image


# Verification URLs


def test_verification_path_keeps_the_whole_urn_uuid_id() -> None:
    assert verification_path(CREDENTIAL_ID) == f"/v/{CREDENTIAL_ID}"


def test_verification_path_percent_encodes_what_a_path_cannot_hold() -> None:
    path = verification_path("https://issuer.example/c/1?a=b#frag é")

    assert path == "/v/https://issuer.example/c/1%3Fa=b%23frag%20%C3%A9"


def test_verification_path_refuses_an_empty_id() -> None:
    with pytest.raises(ValueError, match="expected a credential id"):
        verification_path("")


@pytest.mark.parametrize("base", [TYPICAL_BASE, f"{TYPICAL_BASE}/"])
def test_verification_url_joins_the_base_with_one_slash(base: str) -> None:
    assert verification_url(base, CREDENTIAL_ID) == TYPICAL_URL


# Version and error correction


def test_a_typical_verification_url_is_version_5_at_level_m() -> None:
    matrix = qr_matrix(TYPICAL_URL)

    assert len(TYPICAL_URL) == 79
    assert matrix.version == 5
    assert matrix.size == 37
    assert format_ec_level(matrix) == "M"


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8000",
        TYPICAL_BASE,
        "https://credentials.vocational-training.example.edu.cn",
        "https://" + "c" * 42 + ".edu.cn",  # 58 characters: the longest for 6-M
    ],
)
def test_verification_urls_fit_version_6_or_lower(base: str) -> None:
    url = verification_url(base, f"urn:uuid:{uuid.uuid4()}")

    matrix = qr_matrix(url)

    assert matrix.version <= MAX_VERSION
    assert format_ec_level(matrix) == "M"


@settings(max_examples=25, deadline=None)
@given(credential_uuid=st.uuids(version=4))
def test_every_uuid_gives_a_version_5_code_that_reads_back(
    credential_uuid: uuid.UUID,
) -> None:
    url = verification_url(TYPICAL_BASE, f"urn:uuid:{credential_uuid}")

    barcode = decode(Image.open(io.BytesIO(qr_png(url))))

    assert barcode.text == url
    assert barcode.ec_level == "M"
    assert barcode.extra["Version"] == "5"


@pytest.mark.parametrize(("version", "capacity"), sorted(BYTE_CAPACITY_M.items()))
def test_the_smallest_version_that_holds_the_url_is_chosen(
    version: int, capacity: int
) -> None:
    assert qr_matrix(url_of_length(capacity), max_version=40).version == version
    assert qr_matrix(url_of_length(capacity + 1), max_version=40).version == (
        version + 1
    )


def test_upper_case_would_save_one_version_but_is_not_applied() -> None:
    # The trade-off documented in verification_path: alphanumeric mode packs the
    # upper-cased URL into version 4, but the URL is encoded exactly as given.
    assert qr_matrix(TYPICAL_URL.upper()).version == 4
    assert qr_matrix(TYPICAL_URL).version == 5


# Refusals


def test_a_url_needing_version_7_is_refused_with_the_sizes() -> None:
    url = url_of_length(BYTE_CAPACITY_M[6] + 1)

    with pytest.raises(
        QRCodeTooLargeError,
        match=(
            r"^expected a QR Code of version ≤ 6 at error correction M, "
            r"got version 7 for a URL of 107 bytes; shorten the URL$"
        ),
    ) as caught:
        qr_matrix(url)

    assert isinstance(caught.value, CredbankError)
    assert caught.value.needed_version == 7
    assert caught.value.max_version == 6
    assert caught.value.url_length == 107


@pytest.mark.parametrize("draw", [qr_svg, qr_png])
def test_the_drawings_refuse_a_url_too_large(draw: Callable[..., object]) -> None:
    with pytest.raises(QRCodeTooLargeError, match="got version 7"):
        draw(url_of_length(BYTE_CAPACITY_M[6] + 1))


def test_max_version_lets_a_caller_accept_a_bigger_code() -> None:
    url = url_of_length(BYTE_CAPACITY_M[6] + 1)

    assert qr_matrix(url, max_version=7).version == 7
    png = Image.open(io.BytesIO(qr_png(url, max_version=7, scale=4)))
    assert png.size == ((45 + 8) * 4,) * 2
    assert decode(png).text == url


def test_a_url_too_long_for_any_version_is_refused() -> None:
    with pytest.raises(
        QRCodeTooLargeError, match=r"got more than version 40 for a URL of 3000 bytes"
    ) as caught:
        qr_matrix(url_of_length(3000), max_version=40)

    assert caught.value.needed_version is None


@pytest.mark.parametrize("max_version", [0, 41])
def test_max_version_must_be_a_qr_version(max_version: int) -> None:
    with pytest.raises(ValueError, match=f"between 1 and 40, got {max_version}"):
        qr_matrix(TYPICAL_URL, max_version=max_version)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "expected a URL, got an empty string"),
        (f"{TYPICAL_BASE}/v/a b", r"got ' ' at index 35"),
        (f"{TYPICAL_BASE}/v/é", r"got 'é' at index 34"),
        (f"{TYPICAL_BASE}/v/\n", r"got '\\n' at index 34"),
    ],
)
def test_a_url_that_is_not_printable_ascii_is_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qr_matrix(url)


def test_the_matrix_checks_its_size_against_its_version() -> None:
    with pytest.raises(ValueError, match="expected 21 x 21 modules for version 1"):
        QRMatrix(version=1, modules=((False,) * 21,) * 20)


# SVG


def test_svg_is_a_standalone_document_sized_in_modules() -> None:
    document = qr_svg(TYPICAL_URL, module_size=5, border=4)

    root = ET.fromstring(document)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["viewBox"] == "0 0 45 45"
    assert root.attrib["width"] == root.attrib["height"] == "225"
    assert root.attrib["shape-rendering"] == "crispEdges"
    assert len(root.findall(f"{SVG}path")) == 1
    assert [child.tag for child in root] == [f"{SVG}title", f"{SVG}rect", f"{SVG}path"]
    assert root.findtext(f"{SVG}title") == TYPICAL_URL


def test_svg_holds_no_script_and_no_external_reference() -> None:
    root = ET.fromstring(qr_svg(TYPICAL_URL))

    for element in root.iter():
        assert element.tag not in {f"{SVG}script", f"{SVG}image", f"{SVG}use"}
        for name, value in element.attrib.items():
            assert "href" not in name
            assert not name.startswith("on")
            assert "url(" not in value


def test_svg_escapes_the_url_in_its_title() -> None:
    url = f"{TYPICAL_BASE}/v/x?a=1&b=<script>alert(1)</script>"

    document = qr_svg(url)

    assert "<script>" not in document
    assert "a=1&amp;b=&lt;script&gt;" in document
    root = ET.fromstring(document)
    assert root.findtext(f"{SVG}title") == url
    assert root.find(f".//{SVG}script") is None


@pytest.mark.parametrize("border", [4, 0, 2])
def test_svg_path_draws_exactly_the_dark_modules(border: int) -> None:
    matrix = qr_matrix(TYPICAL_URL)

    cells = svg_dark_cells(qr_svg(TYPICAL_URL, border=border))

    expected = {
        (x + border, y + border)
        for y, row in enumerate(matrix.modules)
        for x, dark in enumerate(row)
        if dark
    }
    assert cells == expected


def test_svg_drawing_reads_back_as_the_url() -> None:
    cells = svg_dark_cells(qr_svg(TYPICAL_URL))

    barcode = decode(draw_cells(cells, side=45, scale=6))

    assert barcode.text == TYPICAL_URL
    assert barcode.ec_level == "M"


# PNG


def test_png_starts_with_the_png_signature() -> None:
    assert qr_png(TYPICAL_URL).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("scale", "border"), [(8, 4), (1, 4), (3, 0), (5, 7)])
def test_png_dimensions_follow_the_module_count(scale: int, border: int) -> None:
    png = Image.open(io.BytesIO(qr_png(TYPICAL_URL, scale=scale, border=border)))
    png.load()

    side = (37 + 2 * border) * scale
    assert png.size == (side, side)
    assert png.mode == "1"


def test_png_pixels_are_the_modules() -> None:
    matrix = qr_matrix(TYPICAL_URL)
    scale, border = 3, 4

    png = Image.open(io.BytesIO(qr_png(TYPICAL_URL, scale=scale, border=border)))
    pixels = png.convert("L")

    for y in range(matrix.size + 2 * border):
        for x in range(matrix.size + 2 * border):
            row, column = y - border, x - border
            inside = 0 <= row < matrix.size and 0 <= column < matrix.size
            dark = inside and matrix.modules[row][column]
            for dy in range(scale):
                for dx in range(scale):
                    value = pixels.getpixel((x * scale + dx, y * scale + dy))
                    assert value == (0 if dark else 255), (x, y)


def test_png_reads_back_as_the_url() -> None:
    barcode = decode(Image.open(io.BytesIO(qr_png(TYPICAL_URL))))

    assert barcode.text == TYPICAL_URL
    assert barcode.ec_level == "M"
    assert barcode.extra["Version"] == "5"


@pytest.mark.parametrize(
    ("draw", "keyword"), [(qr_svg, "module_size"), (qr_png, "scale")]
)
def test_drawings_refuse_a_module_smaller_than_a_pixel(
    draw: Callable[..., object], keyword: str
) -> None:
    with pytest.raises(ValueError, match=f"expected {keyword} ≥ 1, got 0"):
        draw(TYPICAL_URL, **{keyword: 0})
    with pytest.raises(ValueError, match="expected border ≥ 0, got -1"):
        draw(TYPICAL_URL, border=-1)
