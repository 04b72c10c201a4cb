"""The published eddsa-rdfc-2022 and eddsa-jcs-2022 vectors, reproduced byte for byte.

vc-di-eddsa/: W3C Data Integrity EdDSA Cryptosuites v1.0, Appendix B test vectors
(the private key is published, so everything is reproduced, signature included).
ob3/: 1EdTech Open Badges 3.0 eddsa-rdfc-2022 vector (key published too).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from pyld import jsonld

from credentials.canonical import canonicalize_json, canonicalize_rdf
from credentials.data_integrity import (
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    add_proof,
    canonical_document,
    canonical_proof_config,
    hash_data,
    verify_proof,
)
from credentials.loader import document_loader
from credentials.multibase import encode_base58btc
from keys.signers import LocalSigner
from tests.credentials.conftest import (
    VC_DI_CREATED,
    VC_DI_METHOD,
    VECTOR_FILES,
    Resolver,
)

# (suite, folder, file suffix) of the two vc-di-eddsa vector sets.
SUITES = [
    (EDDSA_RDFC_2022, "vc-di-eddsa/eddsa-rdfc-2022", "DataInt"),
    (EDDSA_JCS_2022, "vc-di-eddsa/eddsa-jcs-2022", "JCS"),
]


def raw(name: str) -> bytes:
    """A vector file's exact bytes."""
    return (VECTOR_FILES / name).read_bytes()


def without_proof_value(proof: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in proof.items() if key != "proofValue"}


@pytest.mark.parametrize(("suite", "folder", "suffix"), SUITES, ids=["rdfc", "jcs"])
class TestVCDIEdDSAVectors:
    def test_canonical_document(
        self, vector: Any, suite: str, folder: str, suffix: str
    ) -> None:
        unsigned = vector("vc-di-eddsa/unsigned.json")
        got = canonical_document(unsigned, suite)
        assert got == raw(f"{folder}/canonDoc{suffix}.txt")

    def test_document_hash(
        self, vector: Any, suite: str, folder: str, suffix: str
    ) -> None:
        unsigned = vector("vc-di-eddsa/unsigned.json")
        got = hashlib.sha256(canonical_document(unsigned, suite)).hexdigest()
        assert got == vector(f"{folder}/docHash{suffix}.txt").strip()

    def test_canonical_proof_config(
        self, vector: Any, suite: str, folder: str, suffix: str
    ) -> None:
        unsigned = vector("vc-di-eddsa/unsigned.json")
        config = vector(f"{folder}/proofConfig{suffix}.json")
        got = canonical_proof_config(config, unsigned)
        assert got == raw(f"{folder}/proofCanon{suffix}.txt")

    def test_proof_hash_and_combined_hash(
        self, vector: Any, suite: str, folder: str, suffix: str
    ) -> None:
        unsigned = vector("vc-di-eddsa/unsigned.json")
        config = canonical_proof_config(
            vector(f"{folder}/proofConfig{suffix}.json"), unsigned
        )
        combined = hash_data(config, canonical_document(unsigned, suite))
        assert (
            hashlib.sha256(config).hexdigest()
            == vector(f"{folder}/proofHash{suffix}.txt").strip()
        )
        assert combined.hex() == vector(f"{folder}/combinedHash{suffix}.txt").strip()

    def test_signature(
        self,
        vector: Any,
        vc_di_signer: LocalSigner,
        suite: str,
        folder: str,
        suffix: str,
    ) -> None:
        combined = bytes.fromhex(vector(f"{folder}/combinedHash{suffix}.txt").strip())
        signature = vc_di_signer.sign(combined)
        assert signature.hex() == vector(f"{folder}/sigHex{suffix}.txt").strip()
        assert (
            encode_base58btc(signature)
            == vector(f"{folder}/sigBTC58{suffix}.txt").strip()
        )

    def test_signed_credential_byte_for_byte(
        self,
        vector: Any,
        vc_di_signer: LocalSigner,
        suite: str,
        folder: str,
        suffix: str,
    ) -> None:
        signed = add_proof(
            vector("vc-di-eddsa/unsigned.json"),
            vc_di_signer,
            cryptosuite=suite,
            verification_method=VC_DI_METHOD,
            created=VC_DI_CREATED,
        )
        # The vector file is exactly this document, members in this order,
        # pretty-printed with two-space indentation.
        text = json.dumps(signed, indent=2, ensure_ascii=False)
        assert text.encode() == raw(f"{folder}/signed{suffix}.json")

    def test_signed_vector_verifies(
        self, vector: Any, vc_di_keys: Resolver, suite: str, folder: str, suffix: str
    ) -> None:
        signed = vector(f"{folder}/signed{suffix}.json")
        verified = verify_proof(signed, vc_di_keys)
        assert verified.cryptosuite == suite
        assert verified.verification_method == VC_DI_METHOD
        assert verified.document == vector("vc-di-eddsa/unsigned.json")


def test_pyld_reproduces_the_rdfc_vectors_when_called_with_urdna2015(
    vector: Any,
) -> None:
    # tests/vectors/README.md: pyld agrees with the vectors under URDNA2015 (the
    # pre-W3C name of RDFC-1.0), called plainly, without credbank's checks.
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
    }
    unsigned = vector("vc-di-eddsa/unsigned.json")
    assert jsonld.normalize(unsigned, options) == vector(
        "vc-di-eddsa/eddsa-rdfc-2022/canonDocDataInt.txt"
    )
    ob3 = vector("ob3/signed-ob3-eddsa-rdfc-2022.json")
    del ob3["proof"]
    assert jsonld.normalize(ob3, options) == vector("ob3/document-canon.txt")


class TestOpenBadgesVector:
    def unsigned(self, vector: Any) -> dict[str, Any]:
        signed = vector("ob3/signed-ob3-eddsa-rdfc-2022.json")
        del signed["proof"]
        return dict(signed)

    def test_canonical_document_and_hash(self, vector: Any) -> None:
        nquads = canonicalize_rdf(self.unsigned(vector))
        assert nquads.encode() == raw("ob3/document-canon.txt")
        expected = vector("ob3/keypair-and-hashes.json")["expected"]["docHash"]
        assert hashlib.sha256(nquads.encode()).hexdigest() == expected

    def test_canonical_proof_and_hash(self, vector: Any) -> None:
        proof = vector("ob3/signed-ob3-eddsa-rdfc-2022.json")["proof"]
        config = canonical_proof_config(
            without_proof_value(proof), self.unsigned(vector)
        )
        assert config == raw("ob3/proof-canon.txt")
        expected = vector("ob3/keypair-and-hashes.json")["expected"]["proofHash"]
        assert hashlib.sha256(config).hexdigest() == expected

    def test_proof_value_and_signed_credential(
        self, vector: Any, ob3_signer: LocalSigner
    ) -> None:
        expected = vector("ob3/signed-ob3-eddsa-rdfc-2022.json")
        signed = add_proof(
            self.unsigned(vector),
            ob3_signer,
            cryptosuite=EDDSA_RDFC_2022,
            verification_method=expected["proof"]["verificationMethod"],
            created=expected["proof"]["created"],
        )
        assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]
        # Same members and values; the vector lists the proof's members in another
        # order, which neither JSON nor RDF gives any meaning.
        assert signed == expected

    def test_signed_vector_verifies(self, vector: Any, ob3_keys: Resolver) -> None:
        signed = vector("ob3/signed-ob3-eddsa-rdfc-2022.json")
        verified = verify_proof(signed, ob3_keys)
        assert verified.created == "2010-01-01T19:23:24Z"
        assert verified.document == self.unsigned(vector)


def test_jcs_canonical_form_is_rfc8785_of_the_document(vector: Any) -> None:
    unsigned = vector("vc-di-eddsa/unsigned.json")
    assert canonicalize_json(unsigned) == raw(
        "vc-di-eddsa/eddsa-jcs-2022/canonDocJCS.txt"
    )
