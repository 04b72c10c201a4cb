"""Published RFC 6962 / RFC 9162 and signed-note vectors (tests/vectors/README.md)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.signers import LocalSigner
from ledger import (
    EMPTY_ROOT,
    Checkpoint,
    MemoryTree,
    NoteVerifier,
    ProofError,
    consistency_proof,
    format_verifier_key,
    inclusion_proof,
    leaf_hash,
    node_hash,
    open_note,
    root_hash,
    sign_note,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import VECTORS


def _load(name: str) -> Any:
    return json.loads((VECTORS / "tlog" / name).read_text())


TREE = _load("rfc6962_tree_vectors.json")
PROOFS = _load("rfc6962_proofs_proofgen.json")
HASHER = _load("rfc6962_hasher_vectors.json")
NOTES = _load("signed_note_vectors.json")

LEAVES = [bytes.fromhex(data) for data in TREE["leaf_inputs_hex"]]


def _tree() -> MemoryTree:
    return MemoryTree(leaf_hash(data) for data in LEAVES)


def _private_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """A Go note signer key `PRIVATE+KEY+name+hex8+base64(0x01 || seed)`."""
    # The name holds no '+', the base64 may: split off the first four fields only.
    private, key, name, _key_id, encoded = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    blob = base64.b64decode(encoded)
    assert blob[:1] == b"\x01" and len(blob) == 33
    return name, Ed25519PrivateKey.from_private_bytes(blob[1:])


def _signature_lines(note: str) -> list[str]:
    return note[note.rindex("\n\n") + 2 :].splitlines()


# --- rfc6962_tree_vectors.json --------------------------------------------------


@pytest.mark.parametrize(
    ("size", "want_hex"),
    list(enumerate(TREE["root_hashes_by_size"])),
    ids=[f"root-size-{n}" for n in range(len(TREE["root_hashes_by_size"]))],
)
def test_root_hash_of_every_prefix(size: int, want_hex: str) -> None:
    want = bytes.fromhex(want_hex)

    assert root_hash(size, _tree()) == want
    assert MemoryTree(leaf_hash(data) for data in LEAVES[:size]).root() == want


NODES = [
    (level, index, want)
    for level, row in enumerate(TREE["node_hashes"])
    for index, want in enumerate(row)
]


@pytest.mark.parametrize(
    ("level", "index", "want_hex"),
    NODES,
    ids=[f"node-level-{level}-index-{index}" for level, index, _ in NODES],
)
def test_node_hash_of_every_complete_subtree(
    level: int, index: int, want_hex: str
) -> None:
    assert _tree().read_nodes([(level, index)])[(level, index)].hex() == want_hex


def test_node_vectors_cover_every_complete_subtree() -> None:
    # 8 leaves: 8 + 4 + 2 + 1 complete subtrees, so no node above went untested.
    assert [len(row) for row in TREE["node_hashes"]] == [8, 4, 2, 1]


# --- rfc6962_proofs_proofgen.json -----------------------------------------------


@pytest.mark.parametrize(
    "case",
    PROOFS["inclusion"],
    ids=[
        f"path-leaf-{c['leaf_index']}-size-{c['tree_size']}"
        for c in PROOFS["inclusion"]
    ],
)
def test_audit_path(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    want = [bytes.fromhex(h) for h in case["audit_path_hex"]]
    root = bytes.fromhex(TREE["root_hashes_by_size"][size])

    assert inclusion_proof(index, size, _tree()) == want
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, want, root)


@pytest.mark.parametrize(
    "case",
    PROOFS["consistency"],
    ids=[f"consistency-{c['size1']}-to-{c['size2']}" for c in PROOFS["consistency"]],
)
def test_consistency_proof(case: dict[str, Any]) -> None:
    old, new = case["size1"], case["size2"]
    want = [bytes.fromhex(h) for h in case["consistency_path_hex"]]
    roots = TREE["root_hashes_by_size"]

    assert consistency_proof(old, new, _tree()) == want
    verify_consistency(
        old, new, want, bytes.fromhex(roots[old]), bytes.fromhex(roots[new])
    )


# --- rfc6962_hasher_vectors.json ------------------------------------------------


def _hasher_id(case: dict[str, Any]) -> str:
    if case["op"] == "leaf":
        return "leaf-" + (case["input_ascii"] or "empty").replace(" ", "-")
    if case["op"] == "node":
        return f"node-{case['left_ascii']}-{case['right_ascii']}"
    return str(case["op"]).replace("_", "-")


@pytest.mark.parametrize(
    "case", HASHER["vectors"], ids=[_hasher_id(v) for v in HASHER["vectors"]]
)
def test_hasher(case: dict[str, Any]) -> None:
    op = case["op"]
    if op == "empty_root":
        assert EMPTY_ROOT.hex() == case["want_hex"]
        assert root_hash(0, MemoryTree()) == EMPTY_ROOT
        assert MemoryTree().root() == EMPTY_ROOT
    elif op == "leaf":
        assert leaf_hash(case["input_ascii"].encode()).hex() == case["want_hex"]
    elif op == "node":
        left, right = case["left_ascii"].encode(), case["right_ascii"].encode()
        assert node_hash(left, right).hex() == case["want_hex"]
    else:
        assert op == "format_tree"
        root = MemoryTree([leaf_hash(case["root_of_leaf_ascii"].encode())]).root()
        checkpoint = Checkpoint(case["origin"], case["tree_size"], root)

        assert checkpoint.to_text() == case["want_text"]
        assert Checkpoint.from_text(case["want_text"]) == checkpoint


# --- signed_note_vectors.json ---------------------------------------------------

SIGNATURES = [(note, vkey) for note in NOTES["notes"] for vkey in note["vkeys"]]


@pytest.mark.parametrize(
    ("note", "vkey"),
    SIGNATURES,
    ids=[f"signed-by-{vkey.split('+')[0]}" for _, vkey in SIGNATURES],
)
def test_every_signature_verifies_on_its_own(note: dict[str, Any], vkey: str) -> None:
    verifier = NoteVerifier.parse(vkey)

    assert open_note(note["signed_note"], [verifier]) == note["text"]


@pytest.mark.parametrize(
    "note",
    NOTES["notes"],
    ids=[n["vkeys"][0].split("+")[0] for n in NOTES["notes"]],
)
def test_note_verifies_with_all_its_keys(note: dict[str, Any]) -> None:
    verifiers = [NoteVerifier.parse(vkey) for vkey in note["vkeys"]]

    assert open_note(note["signed_note"], verifiers) == note["text"]
    # Every key named in the vector has exactly one line in the note.
    names = [line.split(" ")[1] for line in _signature_lines(note["signed_note"])]
    assert names == [v.name for v in verifiers]


@pytest.mark.parametrize(
    "note",
    NOTES["notes"],
    ids=[n["vkeys"][0].split("+")[0] for n in NOTES["notes"]],
)
def test_note_with_tampered_text_fails(note: dict[str, Any]) -> None:
    verifiers = [NoteVerifier.parse(vkey) for vkey in note["vkeys"]]
    tampered = note["signed_note"].replace(note["text"][:4], note["text"][:3] + "X", 1)
    assert tampered != note["signed_note"]

    with pytest.raises(ProofError, match="does not verify"):
        open_note(tampered, verifiers)


def test_signature_of_peter_neumann_is_reproduced_from_its_private_key() -> None:
    note = NOTES["notes"][0]
    name, private_key = _private_key(note["skey"])
    assert name == "PeterNeumann"

    signed = sign_note(note["text"], name, LocalSigner("peter", private_key))

    # Ed25519 is deterministic, so the line matches the vector byte for byte.
    first_line = _signature_lines(note["signed_note"])[0]
    assert signed == f"{note['text']}\n{first_line}\n"
    assert signed.encode() == note["signed_note"].encode()[: len(signed.encode())]


def test_checkpoint_body_of_sum_golang_org_note() -> None:
    note = NOTES["notes"][2]
    want = note["checkpoint"]

    checkpoint = Checkpoint.from_text(note["text"])

    assert checkpoint == Checkpoint(
        want["origin"], want["tree_size"], base64.b64decode(want["root_hash_b64"])
    )
    assert checkpoint.to_text() == note["text"]


KEY_PAIRS = NOTES["key_pairs_with_private_keys"]["keys"]


@pytest.mark.parametrize(
    "pair", KEY_PAIRS.values(), ids=[f"key-pair-{role}" for role in KEY_PAIRS]
)
def test_verifier_key_is_derived_from_private_key(pair: dict[str, str]) -> None:
    name, private_key = _private_key(pair["skey"])
    public_key = LocalSigner(name, private_key).public_key

    assert format_verifier_key(name, public_key) == pair["vkey"]
    assert str(NoteVerifier.parse(pair["vkey"])) == pair["vkey"]


def _signer(role: str) -> tuple[str, LocalSigner]:
    name, private_key = _private_key(KEY_PAIRS[role]["skey"])
    return name, LocalSigner(role, private_key)


def test_note_signed_by_known_and_unknown_keys_verifies() -> None:
    text = "credbank.test/log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = text + "\n"
    for role in ("unknown", "known1", "known2"):
        name, signer = _signer(role)
        note += _signature_lines(sign_note(text, name, signer))[0] + "\n"
    known = [NoteVerifier.parse(KEY_PAIRS[r]["vkey"]) for r in ("known1", "known2")]

    assert open_note(note, known) == text


def test_note_signed_only_by_unknown_keys_fails() -> None:
    text = "This note is signed by a key nobody trusts.\n"
    name, signer = _signer("unknown")
    note = sign_note(text, name, signer)
    trusted = [
        NoteVerifier.parse(KEY_PAIRS[role]["vkey"])
        for role in ("log", "known1", "known2")
    ]

    with pytest.raises(ProofError, match="not signed by any trusted key"):
        open_note(note, trusted)
    assert open_note(note, [NoteVerifier.parse(KEY_PAIRS["unknown"]["vkey"])]) == text


def test_signature_under_a_trusted_name_with_another_key_is_ignored() -> None:
    # Same name as a trusted key but another key: its key ID differs, so the line
    # counts as unknown rather than as a bad signature by the trusted key.
    text = "impostor\n"
    _, impostor = _signer("unknown")
    note = sign_note(text, "Log", impostor)

    with pytest.raises(ProofError, match="not signed by any trusted key"):
        open_note(note, [NoteVerifier.parse(KEY_PAIRS["log"]["vkey"])])
