"""The errors of the `credentials` package: one root, a shallow tree under it.

Messages compare what was expected with what was found; each error keeps its facts as
attributes so that the HTTP layer can build a problem detail without parsing text.
Verification never returns `False`: it raises a `ProofVerificationError`.
"""

from __future__ import annotations

from keys.errors import CredbankError

__all__ = [
    "AlgorithmMismatchError",
    "ControlCharacterError",
    "CredentialError",
    "InvalidSignatureError",
    "MalformedCredentialError",
    "MediaTypeError",
    "ProofGenerationError",
    "ProofVerificationError",
    "StatusListError",
    "StatusListLengthError",
    "UnknownContextError",
    "UnknownKeyError",
]


class CredentialError(CredbankError):
    """Root of every error the `credentials` package raises."""


class UnknownContextError(CredentialError):
    """A document names a JSON-LD context that credbank does not ship (DESIGN §4)."""

    def __init__(self, context: object) -> None:
        shown = context if isinstance(context, str) else type(context).__name__
        super().__init__(
            f"expected a JSON-LD context URL shipped with credbank, got {shown!r}"
        )
        self.context = context


class MalformedCredentialError(CredentialError):
    """A document is not of the shape a credential or proof must have."""


class ControlCharacterError(MalformedCredentialError):
    """A string holds a control character other than tab, newline or CR (DESIGN §4)."""

    def __init__(self, path: str, character: str) -> None:
        super().__init__(
            f"expected no control characters other than tab, newline and carriage "
            f"return, got U+{ord(character):04X} at {path}"
        )
        self.path = path
        self.character = character


class ProofGenerationError(CredentialError):
    """A proof cannot be made from these options (PROOF_GENERATION_ERROR)."""


class ProofVerificationError(CredentialError):
    """A secured credential did not verify (PROOF_VERIFICATION_ERROR)."""


class InvalidSignatureError(ProofVerificationError):
    """The signature does not match the signed bytes and the key."""


class AlgorithmMismatchError(ProofVerificationError):
    """The proof or token names an algorithm other than the key's own."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"expected {expected}, got {got}")
        self.expected = expected
        self.got = got


class UnknownKeyError(ProofVerificationError):
    """The verification method or `kid` does not resolve to a key."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"expected a known verification key, got {key_id!r}")
        self.key_id = key_id


class MediaTypeError(ProofVerificationError):
    """A JOSE header's `typ` or `cty` is not that of a credential."""

    def __init__(self, parameter: str, expected: str, got: object) -> None:
        super().__init__(f"expected {parameter} {expected!r}, got {got!r}")
        self.parameter = parameter
        self.expected = expected
        self.got = got


class StatusListError(CredentialError):
    """A status list or status entry is malformed (MALFORMED_VALUE_ERROR)."""


class StatusListLengthError(StatusListError):
    """A status list is shorter than the minimum (STATUS_LIST_LENGTH_ERROR)."""

    def __init__(self, minimum: int, got: int) -> None:
        super().__init__(
            f"expected a status list of at least {minimum} bits, got {got}"
        )
        self.minimum = minimum
        self.got = got
