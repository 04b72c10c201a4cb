"""The log's public documents over HTTP (DESIGN §9), checked with the ledger's tools."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from ledger import (
    MAX_PAGE,
    Checkpoint,
    MemoryTree,
    NoteVerifier,
    ProofError,
    TLogProof,
    canonical_entry,
    leaf_hash,
    open_checkpoint,
    verify_consistency,
    verify_tlog_proof,
)
from tests.api.conftest import Append


def _verifier(client: FlaskClient) -> NoteVerifier:
    response = client.get("/log/key")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return NoteVerifier.parse(response.get_data(as_text=True))


def _checkpoint(client: FlaskClient) -> tuple[str, Checkpoint]:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    note = response.get_data(as_text=True)
    return note, open_checkpoint(note, _verifier(client))


def _entries(client: FlaskClient, start: int, end: int) -> list[dict[str, Any]]:
    response = client.get(f"/log/entries?start={start}&end={end}")
    assert response.status_code == 200, response.get_json()
    entries: list[dict[str, Any]] = response.get_json()["entries"]
    return entries


def _data(item: dict[str, Any]) -> bytes:
    return base64.b64decode(item["data"], validate=True)


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_checkpoint_is_plain_text_signed_by_the_published_key(
    client: FlaskClient, services: Services
) -> None:
    response = client.get("/log/checkpoint")
    verifier = _verifier(client)

    checkpoint = open_checkpoint(response.get_data(as_text=True), verifier)

    assert response.mimetype == "text/plain"
    assert response.mimetype_params == {"charset": "utf-8"}
    assert checkpoint.origin == services.config.log_origin == verifier.name
    # The first start logs the log key itself: one entry.
    assert checkpoint.size == 1
    assert str(verifier) == services.log.verifier_key


def test_checkpoint_from_another_key_would_be_refused(client: FlaskClient) -> None:
    note, _ = _checkpoint(client)
    verifier = _verifier(client)
    impostor = NoteVerifier.from_public_key(verifier.name, bytes(32))

    with pytest.raises(ProofError, match="not signed by any trusted key"):
        open_checkpoint(note, impostor)


def test_checkpoint_follows_appends(client: FlaskClient, append: Append) -> None:
    append(3)
    append(2)

    _, checkpoint = _checkpoint(client)

    assert checkpoint.size == 6


def test_entries_have_exactly_the_documented_shape(
    client: FlaskClient, append: Append
) -> None:
    append(4)

    response = client.get("/log/entries?start=0&end=5")
    body = response.get_json()

    assert response.mimetype == "application/json"
    assert list(body) == ["entries"]
    assert [item["index"] for item in body["entries"]] == [0, 1, 2, 3, 4]
    for item in body["entries"]:
        assert set(item) == {"index", "data", "entry"}
        assert _data(item) == canonical_entry(item["entry"])
    assert body["entries"][0]["entry"]["kind"] == "key.added"
    assert body["entries"][1]["entry"]["kind"] == "test.note"


def test_entry_data_is_the_exact_logged_bytes(
    client: FlaskClient, append: Append
) -> None:
    append(6)
    _, checkpoint = _checkpoint(client)

    entries = _entries(client, 0, checkpoint.size)
    tree = MemoryTree(leaf_hash(_data(item)) for item in entries)

    # The leaf hashes of the served bytes rebuild the signed root (RFC 9162 §2.1.1).
    assert tree.size == checkpoint.size == 7
    assert tree.root() == checkpoint.root_hash


def test_entries_page_is_bounded(client: FlaskClient, append: Append) -> None:
    append(MAX_PAGE + 100)

    first = _entries(client, 0, 10 * MAX_PAGE)
    rest = _entries(client, MAX_PAGE, 10 * MAX_PAGE)

    assert [item["index"] for item in first] == list(range(MAX_PAGE))
    assert [item["index"] for item in rest] == list(range(MAX_PAGE, MAX_PAGE + 101))


def test_entries_end_beyond_the_tree_is_cut_at_the_tree(
    client: FlaskClient, append: Append
) -> None:
    append(2)

    response = client.get("/log/entries?start=1&end=100")

    assert [item["index"] for item in response.get_json()["entries"]] == [1, 2]
    assert "immutable" not in response.headers["Cache-Control"]


def test_complete_entries_page_is_immutable(
    client: FlaskClient, append: Append
) -> None:
    append(2)

    response = client.get("/log/entries?start=0&end=2")

    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize("index", [0, 1, 4, 6])
def test_proof_under_the_latest_checkpoint_verifies(
    client: FlaskClient, append: Append, index: int
) -> None:
    append(3)
    append(4)
    leaf = leaf_hash(_data(_entries(client, index, index + 1)[0]))

    response = client.get(f"/log/proof/{index}")
    proof = TLogProof.from_text(response.get_data(as_text=True))
    checkpoint = verify_tlog_proof(proof, leaf, _verifier(client))

    assert response.mimetype == "text/plain"
    assert proof.index == index
    assert checkpoint.size == 8
    assert proof.checkpoint_note == _checkpoint(client)[0]


def test_proof_under_an_earlier_checkpoint_verifies(
    client: FlaskClient, append: Append
) -> None:
    append(4)
    early_note, early = _checkpoint(client)
    append(9)
    leaf = leaf_hash(_data(_entries(client, 3, 4)[0]))

    response = client.get(f"/log/proof/3?size={early.size}")
    proof = TLogProof.from_text(response.get_data(as_text=True))
    checkpoint = verify_tlog_proof(proof, leaf, _verifier(client))

    assert checkpoint == early
    assert proof.checkpoint_note == early_note
    assert "immutable" in response.headers["Cache-Control"]


def test_proof_of_the_wrong_leaf_does_not_verify(
    client: FlaskClient, append: Append
) -> None:
    append(5)
    other_leaf = leaf_hash(_data(_entries(client, 2, 3)[0]))

    proof = TLogProof.from_text(client.get("/log/proof/3").get_data(as_text=True))

    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_tlog_proof(proof, other_leaf, _verifier(client))


@pytest.mark.parametrize(("old", "new"), [(1, 5), (5, 12), (2, 3), (1, 12), (12, 12)])
def test_consistency_between_checkpoints_verifies(
    client: FlaskClient, append: Append, old: int, new: int
) -> None:
    append(1)
    append(3)
    append(7)
    roots = {}
    for size in (1, 2, 5, 12):
        note = client.get(f"/log/proof/0?size={size}").get_data(as_text=True)
        checkpoint = open_checkpoint(
            TLogProof.from_text(note).checkpoint_note, _verifier(client)
        )
        roots[size] = checkpoint.root_hash
    # Size 3 was never checkpointed: the served entries give its root.
    roots[3] = MemoryTree(
        leaf_hash(_data(item)) for item in _entries(client, 0, 3)
    ).root()

    response = client.get(f"/log/consistency?from={old}&to={new}")
    body = response.get_json()
    proof = [base64.b64decode(h, validate=True) for h in body["proof"]]

    assert set(body) == {"from", "to", "proof"}
    assert (body["from"], body["to"]) == (old, new)
    verify_consistency(old, new, proof, roots[old], roots[new])
    if old != new:
        with pytest.raises(ProofError):
            verify_consistency(old, new, proof, roots[old], roots[old])


def test_consistency_json_is_the_documented_shape(
    client: FlaskClient, append: Append
) -> None:
    append(2)

    response = client.get("/log/consistency?from=1&to=3")

    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {
        "from": 1,
        "to": 3,
        "proof": response.get_json()["proof"],
    }
    assert len(response.get_json()["proof"]) == 2  # RFC 9162 §2.1.4: PROOF(1, D[3])
