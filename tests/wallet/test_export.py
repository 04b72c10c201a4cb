"""Exporting a wallet and a CLR: what goes in, what stays out, who may ask."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from api.auth import LEARNER
from api.services import Services
from tests.api.conftest import assert_one_line_error
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    Caller,
    award,
    award_request,
    make_token,
)
from tests.wallet.conftest import Holder, fetch_wallet
from tests.wallet.test_learner_page import learner_of
from verify.facts import NO_FACTS
from verify.procedure import verify_credential
from verify.resolver import Resolver
from verify.result import PASSED, VALID
from wallet import FORMAT, check_wallet, verify_wallet

ISSUER_DID = "did:web:credbank.test:issuers:centre-1"
SERVICE_DID = "did:web:credbank.test"


def test_a_wallet_carries_every_credential_and_what_checking_them_needs(
    client: FlaskClient, holder: Holder
) -> None:
    answer = client.get(f"/learners/{holder.id}/wallet", headers=holder.caller.headers)

    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="credbank-wallet.json"'
    )
    wallet = json.loads(answer.get_data())
    check_wallet(wallet)
    assert wallet["format"] == FORMAT
    assert wallet["subset"] is False
    assert wallet["holder"] == holder.did
    assert [item["id"] for item in wallet["credentials"]] == [
        c["id"] for c in holder.credentials
    ]
    first, second, third = wallet["credentials"]
    assert set(first["secured"]) == {"eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"}
    assert set(second["secured"]) == {"eddsa-rdfc-2022"}
    assert set(third["secured"]) == {"vc+jwt"}
    assert first["digest"] == holder.credentials[0]["digest"]
    assert first["tlogProof"].startswith("c2sp.org/tlog-proof@v1\n")
    assert [s["id"] for s in wallet["statements"]] == [holder.statement_id]
    assert set(wallet["didDocuments"]) == {ISSUER_DID, SERVICE_DID}
    assert len(wallet["statusLists"]) == 2  # the issuer's revocation and suspension
    log_key = client.get("/log/key").get_data(as_text=True).strip()
    assert wallet["log"]["verifierKey"] == log_key
    presented = wallet["presentation"]
    assert presented["holder"] == holder.did
    assert "proof" not in presented
    assert len(presented["verifiableCredential"]) == 3
    assert presented["verifiableCredential"][2]["type"] == (
        "EnvelopedVerifiableCredential"
    )


def test_a_subset_holds_nothing_about_the_credentials_left_out(
    client: FlaskClient, holder: Holder
) -> None:
    full = fetch_wallet(client, holder)
    (statement,) = full["statements"]
    sources = {
        s
        for g in statement["secured"]["eddsa-jcs-2022"]["credentialSubject"]["grants"]
        for s in g["sources"]
    }
    chosen = next(c for c in holder.credentials if c["digest"] not in sources)

    subset = fetch_wallet(client, holder, chosen["id"])
    text = json.dumps(subset, ensure_ascii=False)

    assert subset["subset"] is True
    assert [item["id"] for item in subset["credentials"]] == [chosen["id"]]
    assert subset["statements"] == []
    left_out = [c for c in holder.credentials if c is not chosen] + [holder.other]
    for credential in left_out:
        assert credential["id"] not in text
        assert credential["id"].removeprefix("urn:uuid:") not in text
        assert credential["digest"] not in text
    assert holder.statement_id not in text
    for digest in sources:
        assert digest not in text
    # Nothing of the transfer left out: not the school, nor the learner's
    # pseudonym there; and nothing of the service's own: not the learner's id.
    subject = statement["secured"]["eddsa-jcs-2022"]["credentialSubject"]
    assert subject["id"] not in text
    assert subject["school"] not in text
    assert holder.id not in text
    assert LEARNER_EMAIL not in text and LEARNER_EMAIL.lower() not in text
    assert LEARNER_NAME not in text
    assert SERVICE_DID not in subset["didDocuments"]
    assert verify_wallet(subset, now=datetime.now(UTC)).verified


def test_a_subset_of_a_learner_known_by_e_mail_names_them_by_hash_only(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    kept, left_out = (
        award(client, issuer, award_request(approved_achievement, score=score))
        for score in (70, 95)
    )
    learner_id = learner_of(services, kept["id"])
    caller = make_token(services, LEARNER, learner_id)

    answer = client.get(
        f"/learners/{learner_id}/wallet?credential={kept['id']}",
        headers=caller.headers,
    )

    assert answer.status_code == 200, answer.get_data(as_text=True)
    text = answer.get_data(as_text=True)
    wallet = json.loads(text)
    assert [item["id"] for item in wallet["credentials"]] == [kept["id"]]
    for words in (LEARNER_NAME, LEARNER_EMAIL, LEARNER_EMAIL.lower(), learner_id):
        assert words not in text
    # The learner as the credential names them (OB 3.0 §B.1.5 IdentityObject):
    # the address hashed with this credential's own salt, never in plain.
    secured = kept["credential"]["eddsa-rdfc-2022"]
    (identity,) = secured["credentialSubject"]["identifier"]
    salted = LEARNER_EMAIL.lower() + identity["salt"]
    assert identity["identityHash"] == (
        "sha256$" + hashlib.sha256(salted.encode()).hexdigest()
    )
    assert identity["identityHash"] in text
    # Nothing of the other credential: its id, its digest, its proof.
    other = left_out["credential"]["eddsa-rdfc-2022"]
    (other_identity,) = other["credentialSubject"]["identifier"]
    for value in (
        left_out["id"],
        left_out["digest"],
        other["proof"]["proofValue"],
        other_identity["identityHash"],
    ):
        assert value not in text


def test_a_subset_with_a_statement_keeps_it_when_all_its_sources_are_in(
    client: FlaskClient, holder: Holder
) -> None:
    full = fetch_wallet(client, holder)
    grants = full["statements"][0]["secured"]["eddsa-jcs-2022"]["credentialSubject"]
    sources = {s for g in grants["grants"] for s in g["sources"]}
    chosen = [c["id"] for c in holder.credentials if c["digest"] in sources]

    subset = fetch_wallet(client, holder, *chosen)

    assert [s["id"] for s in subset["statements"]] == [holder.statement_id]


def test_someone_else_s_credential_or_wallet_is_refused(
    client: FlaskClient, services: Services, holder: Holder, learner: Caller
) -> None:
    foreign = client.get(
        f"/learners/{holder.id}/wallet?credential={holder.other['id']}",
        headers=holder.caller.headers,
    )
    other_learner = client.get(f"/learners/{holder.id}/wallet", headers=learner.headers)
    anonymous = client.get(f"/learners/{holder.id}/wallet")

    assert foreign.status_code == 404
    assert holder.other["digest"] not in foreign.get_data(as_text=True)
    assert other_learner.status_code == 403
    assert anonymous.status_code == 401


def test_the_clr_is_a_clr_credential_signed_by_the_service(
    client: FlaskClient, holder: Holder
) -> None:
    answer = client.get(f"/learners/{holder.id}/clr", headers=holder.caller.headers)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "attachment" in answer.headers["Content-Disposition"]
    clr: dict[str, Any] = json.loads(answer.get_data())
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    # CLR 2.0 §B.1.1: these three first, in this order.
    assert clr["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert clr["issuer"]["id"] == SERVICE_DID
    subject = clr["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert subject["id"] == holder.did
    embedded = subject["verifiableCredential"]
    # The third credential exists only as a vc+jwt: no embedded proof to carry.
    assert [c["id"] for c in embedded] == [c["id"] for c in holder.credentials[:2]]
    assert all("AchievementSubject" in c["credentialSubject"]["type"] for c in embedded)
    # CLR 2.0 §B.1.2: each credential exactly as issued, its own proof intact.
    assert embedded == [
        c["credential"]["eddsa-rdfc-2022"] for c in holder.credentials[:2]
    ]
    assert clr["name"] and clr["validFrom"]
    assert [a["type"] for a in subject["achievement"]] == [["Achievement"]]
    assert clr["partial"] is True
    assert clr["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert clr["proof"]["verificationMethod"].startswith(SERVICE_DID + "#")

    document = client.get("/.well-known/did.json").get_json()
    result = verify_credential(
        clr,
        resolver=Resolver(carried={SERVICE_DID: document}),
        facts=NO_FACTS,
        now=datetime.now(UTC),
    )
    signature = next(c for c in result.checks if c.check == "signature")
    assert signature.outcome == PASSED
    assert result.verdict == VALID


def test_the_clr_of_a_subset_holds_only_that_credential(
    client: FlaskClient, holder: Holder
) -> None:
    chosen = holder.credentials[1]
    answer = client.get(
        f"/learners/{holder.id}/clr?credential={chosen['id']}",
        headers=holder.caller.headers,
    )

    clr = json.loads(answer.get_data())
    text = answer.get_data(as_text=True)
    assert [c["id"] for c in clr["credentialSubject"]["verifiableCredential"]] == [
        chosen["id"]
    ]
    assert holder.credentials[0]["id"] not in text
    assert clr["partial"] is True


CLR_CONTEXT_SHA256 = "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6"


def test_the_clr_context_is_the_published_file_and_binds_the_clr_terms(
    client: FlaskClient, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    from importlib import resources

    from credentials.canonical import canonicalize_rdf
    from credentials.loader import CLR_V2P0, CONTEXTS

    shipped = resources.files("credentials") / "contexts" / CONTEXTS[CLR_V2P0]
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == CLR_CONTEXT_SHA256
    # A learner known by e-mail: the ClrSubject names them by the same salted
    # hash (an `identifier`) as their credential does.
    given = award(client, issuer, award_request(approved_achievement))
    caller = make_token(services, LEARNER, learner_of(services, given["id"]))
    answer = client.get(f"/learners/{caller.subject}/clr", headers=caller.headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    clr = json.loads(answer.get_data())
    subject = clr["credentialSubject"]
    assert (
        subject["identifier"]
        == (given["credential"]["eddsa-rdfc-2022"]["credentialSubject"]["identifier"])
    )
    assert LEARNER_EMAIL.lower() not in answer.get_data(as_text=True).lower()

    # Every CLR term expands to the CLR vocabulary (RDFC-1.0 runs JSON-LD
    # expansion in safe mode: an undefined term would have stopped it).
    quads = canonicalize_rdf({k: v for k, v in clr.items() if k != "proof"})
    vocab = "https://purl.imsglobal.org/spec/vc/clr/vocab.html#"
    for term in ("ClrCredential", "ClrSubject", "partial", "identifier-1"):
        assert f"<{vocab}{term}>" in quads, term
    assert f"<{vocab}verifiableCredential>" in quads

    document = client.get("/.well-known/did.json").get_json()
    verified = verify_credential(
        clr,
        resolver=Resolver(carried={SERVICE_DID: document}),
        facts=NO_FACTS,
        now=datetime.now(UTC),
    )
    assert verified.verdict == VALID
    # `partial` is signed through the CLR context: changing it breaks the proof.
    clr["partial"] = not clr["partial"]
    changed = verify_credential(
        clr,
        resolver=Resolver(carried={SERVICE_DID: document}),
        facts=NO_FACTS,
        now=datetime.now(UTC),
    )
    assert next(c for c in changed.checks if c.check == "signature").code == (
        "signature.invalid"
    )


def test_no_clr_without_a_credential_it_can_carry(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    learner: Caller,
    env: dict[str, str],
    cli: Any,
) -> None:
    jwt_only = award(
        client,
        issuer,
        award_request(
            approved_achievement,
            learner={"did": "did:web:jwt-only.example"},
            formats=["vc+jwt"],
        ),
    )
    jwt_learner = make_token(services, LEARNER, learner_of(services, jwt_only["id"]))

    for caller, words in ((learner, "got none"), (jwt_learner, "only as vc+jwt")):
        answer = client.get(f"/learners/{caller.subject}/clr", headers=caller.headers)
        assert answer.status_code == 409, answer.get_data(as_text=True)
        assert answer.mimetype == "application/problem+json"
        problem = answer.get_json()
        assert "CLR 2.0 §B.1.2" in problem["detail"]
        assert words in problem["detail"]

        run = cli(
            "wallet", "export", "--learner", str(caller.subject), "--clr", env=env
        )
        line = assert_one_line_error(run)
        assert "expected at least one credential" in line
        assert run.stdout == ""


def test_the_clr_on_the_command_line_is_the_one_served(
    holder: Holder, env: dict[str, str], cli: Any
) -> None:
    run = cli("wallet", "export", "--learner", holder.id, "--clr", env=env)

    assert run.returncode == 0, run.stderr
    clr = json.loads(run.stdout)
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert [c["id"] for c in clr["credentialSubject"]["verifiableCredential"]] == [
        c["id"] for c in holder.credentials[:2]
    ]
