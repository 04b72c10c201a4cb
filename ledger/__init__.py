"""The transparency log: entries, Merkle tree, checkpoints, proofs, audit, monitor."""

from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.entries import canonical_entry, format_time, make_entry, parse_entry
from ledger.errors import (
    EntryError,
    FormatError,
    LedgerError,
    LogRangeError,
    LogStateError,
    ProofError,
)
from ledger.log import MAX_PAGE, Head, TransparencyLog
from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.notes import NoteVerifier, format_verifier_key, open_note, sign_note
from ledger.proofs import TLogProof, verify_tlog_proof

__all__ = [
    "EMPTY_ROOT",
    "MAX_PAGE",
    "Checkpoint",
    "CompactRange",
    "EntryError",
    "FormatError",
    "Head",
    "LedgerError",
    "LogRangeError",
    "LogStateError",
    "MemoryTree",
    "NoteVerifier",
    "ProofError",
    "TLogProof",
    "TransparencyLog",
    "canonical_entry",
    "consistency_proof",
    "format_time",
    "format_verifier_key",
    "inclusion_proof",
    "leaf_hash",
    "make_entry",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_entry",
    "root_hash",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
    "verify_tlog_proof",
]
