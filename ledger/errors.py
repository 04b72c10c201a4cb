"""Errors of the transparency log."""

from keys.errors import CredbankError


class LedgerError(CredbankError):
    """Root of the log's errors."""


class EntryError(LedgerError):
    """An entry is not a well-formed, canonicalisable log entry."""


class LogRangeError(LedgerError):
    """An index or tree size lies outside the log as it stands."""


class ProofError(LedgerError):
    """A proof, checkpoint or note does not verify."""


class FormatError(LedgerError):
    """A note, checkpoint, key or proof text is malformed."""


class LogStateError(LedgerError):
    """The stored log contradicts itself; refusing to sign or to go on."""
