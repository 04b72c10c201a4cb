"""Errors raised by the verify package, under the project's root `CredbankError`."""

from keys.errors import CredbankError


class QRCodeTooLargeError(CredbankError):
    """A URL needs a bigger QR Code than the caller allows.

    `needed_version` is None when the URL does not fit even version 40, the largest
    symbol QR Code has.
    """

    def __init__(
        self, *, url_length: int, needed_version: int | None, max_version: int
    ) -> None:
        needed = (
            "more than version 40"
            if needed_version is None
            else f"version {needed_version}"
        )
        super().__init__(
            f"expected a QR Code of version ≤ {max_version} at error correction M, "
            f"got {needed} for a URL of {url_length} bytes; shorten the URL"
        )
        self.url_length = url_length
        self.needed_version = needed_version
        self.max_version = max_version
