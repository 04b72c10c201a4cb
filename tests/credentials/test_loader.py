"""The shipped contexts, the local document loader and the document checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld

from credentials.errors import (
    ControlCharacterError,
    MalformedCredentialError,
    UnknownContextError,
)
from credentials.loader import (
    CLR_V2P0,
    CONTEXTS,
    CREDENTIALS_V2,
    OB_V3P0,
    check_characters,
    check_contexts,
    check_document,
    document_loader,
    load_context,
)

SHARED_CONTEXTS = Path(__file__).parents[3] / "shared" / "contexts"
# Contexts not in the shared folder, with the SHA-256 their provenance records
# (credentials/contexts/README.md).
NOT_SHARED = {
    CLR_V2P0: "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6",
}
# The SHA-256 of each context as shared/contexts/ holds it (2026-12-04), so that a
# clone without shared/ beside it still knows its copies are unchanged.
SHARED_DIGESTS = {
    "credentials-examples-v2.jsonld": (
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"
    ),
    "credentials-undefined-terms-v2.jsonld": (
        "82dab514ba44eb18f5d1b0f638c5e140c6a556fbfb5089601bdc0fa5eb8b2581"
    ),
    "credentials-v1.jsonld": (
        "00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8"
    ),
    "credentials-v2.jsonld": (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    ),
    "data-integrity-v2.jsonld": (
        "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363"
    ),
    "did-v1.jsonld": "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    "multikey-v1.jsonld": (
        "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6"
    ),
    "ob-v3p0-context-3.0.3.json": (
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761"
    ),
    "vc-bitstring-status-list-v1.jsonld": (
        "fd08cbf28ddd829ab2f1978c48f43ab07a112c1c90245a0cfac7ba721c65170c"
    ),
}
UNKNOWN = "https://example.org/attacker/context.jsonld"

# check_document does both checks in one walk, so each context test runs on it as
# well as on check_contexts, and each character test as well as on check_characters.
CONTEXT_CHECKS = pytest.mark.parametrize(
    "check", [check_contexts, check_document], ids=["contexts", "document"]
)
CHARACTER_CHECKS = pytest.mark.parametrize(
    "check", [check_characters, check_document], ids=["characters", "document"]
)
Check = Callable[[Any], None]


def test_every_shipped_context_parses_as_a_context() -> None:
    for url in CONTEXTS:
        assert "@context" in load_context(url), url


def test_credentials_v2_context_has_the_digest_the_recommendation_requires() -> None:
    # VC Data Model 2.0 (appendix "Base Context") gives the SHA-256 a static copy of
    # the v2 context must have; contexts/README.md quotes its two ends.
    text = resources.files("credentials") / "contexts" / CONTEXTS[CREDENTIALS_V2]
    digest = hashlib.sha256(text.read_bytes()).hexdigest()
    assert digest.startswith("59955ced")
    assert digest.endswith("92734")


def test_shipped_contexts_have_the_digests_of_the_shared_ones() -> None:
    shipped = {
        name: hashlib.sha256(
            (resources.files("credentials") / "contexts" / name).read_bytes()
        ).hexdigest()
        for url, name in CONTEXTS.items()
        if url not in NOT_SHARED
    }
    assert shipped == SHARED_DIGESTS


# Where shared/ is beside the clone (a developer's checkout), byte for byte too.
@pytest.mark.skipif(not SHARED_CONTEXTS.is_dir(), reason="shared/ not beside repo")
def test_shipped_contexts_are_unchanged_copies_of_the_shared_ones() -> None:
    for url, name in CONTEXTS.items():
        if url in NOT_SHARED:
            continue
        shipped = resources.files("credentials") / "contexts" / name
        assert shipped.read_bytes() == (SHARED_CONTEXTS / name).read_bytes(), name


@pytest.mark.parametrize(("url", "digest"), sorted(NOT_SHARED.items()))
def test_contexts_from_elsewhere_have_their_recorded_digest(
    url: str, digest: str
) -> None:
    shipped = resources.files("credentials") / "contexts" / CONTEXTS[url]
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == digest


def test_unknown_context_url_is_refused_without_a_fetch() -> None:
    with pytest.raises(UnknownContextError, match="shipped with credbank") as caught:
        load_context(UNKNOWN)
    assert caught.value.context == UNKNOWN


def test_loaded_contexts_are_fresh_copies() -> None:
    first = load_context(OB_V3P0)
    first["@context"].clear()
    assert load_context(OB_V3P0)["@context"]


def test_document_loader_answers_a_remote_document_for_pyld() -> None:
    remote = document_loader(CREDENTIALS_V2, {})
    assert remote["documentUrl"] == CREDENTIALS_V2
    assert remote["contextUrl"] is None
    assert remote["document"] == load_context(CREDENTIALS_V2)


def test_pyld_with_the_loader_refuses_an_unknown_context() -> None:
    # Called directly (not through canonicalize_rdf, which checks first), pyld
    # still never reaches the network: the loader's refusal is the cause.
    document = {"@context": UNKNOWN, "name": "x"}
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.expand(document, {"documentLoader": document_loader})
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, UnknownContextError) for cause in causes)


@pytest.mark.parametrize(
    "context",
    [
        [CREDENTIALS_V2, UNKNOWN],
        UNKNOWN,
        [CREDENTIALS_V2, {"@vocab": "https://example.org/#"}],
        [CREDENTIALS_V2, None],
    ],
    ids=["unknown-url-in-list", "unknown-url-alone", "inline-object", "null"],
)
@CONTEXT_CHECKS
def test_check_contexts_refuses_anything_but_shipped_urls(
    check: Check, context: Any
) -> None:
    with pytest.raises(UnknownContextError, match="expected a JSON-LD context URL"):
        check({"@context": context, "id": "urn:x"})


@CONTEXT_CHECKS
def test_check_contexts_refuses_a_nested_context(check: Check) -> None:
    document = {
        "@context": [CREDENTIALS_V2],
        "credentialSubject": {"items": [{"@context": UNKNOWN, "name": "x"}]},
    }
    with pytest.raises(UnknownContextError, match=UNKNOWN):
        check(document)


@CONTEXT_CHECKS
@pytest.mark.parametrize("context", [None, []], ids=["absent", "empty"])
def test_check_contexts_requires_a_context(check: Check, context: Any) -> None:
    document = {"id": "urn:x"} if context is None else {"@context": context}
    with pytest.raises(MalformedCredentialError, match="expected an @context"):
        check(document)


@CONTEXT_CHECKS
def test_check_contexts_requires_an_object(check: Check) -> None:
    with pytest.raises(MalformedCredentialError, match="expected a JSON object"):
        check([{"@context": CREDENTIALS_V2}])


@CONTEXT_CHECKS
def test_check_contexts_accepts_shipped_contexts(check: Check) -> None:
    check({"@context": [CREDENTIALS_V2, OB_V3P0], "x": {"@context": OB_V3P0}})


@pytest.mark.parametrize(
    "character",
    ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85"],
)
@CHARACTER_CHECKS
def test_control_characters_are_refused(check: Check, character: str) -> None:
    document = {
        "@context": CREDENTIALS_V2,
        "credentialSubject": {"name": ["ok", f"bad{character}name"]},
    }
    with pytest.raises(ControlCharacterError, match=f"U\\+{ord(character):04X}") as e:
        check(document)
    assert e.value.path == "$.credentialSubject.name[1]"


@CHARACTER_CHECKS
def test_control_characters_in_keys_are_refused(check: Check) -> None:
    with pytest.raises(ControlCharacterError, match="a key"):
        check({"@context": CREDENTIALS_V2, "na\x01me": "x"})


@CHARACTER_CHECKS
def test_lone_surrogates_are_refused(check: Check) -> None:
    with pytest.raises(ControlCharacterError, match="U\\+D800"):
        check({"@context": CREDENTIALS_V2, "name": "\ud800"})


@CHARACTER_CHECKS
def test_tab_newline_and_carriage_return_are_allowed(check: Check) -> None:
    check(
        {
            "@context": CREDENTIALS_V2,
            "description": "line one\r\nline\ttwo\n",
            "n": 1,
            "ok": True,
        }
    )


# check_contexts walks only containers (verification runs it on every vc+jwt);
# check_document walks every string too. Both must refuse the same documents for
# the same context, the first one in document order.

_CONTEXT_VALUES = st.sampled_from(
    [CREDENTIALS_V2, OB_V3P0, UNKNOWN, "urn:other", None, 7, {"@vocab": "urn:v#"}]
)
_DOCUMENTS = st.recursive(
    st.text(alphabet="abc", max_size=3) | st.integers() | st.booleans() | st.none(),
    lambda children: (
        st.lists(children | _CONTEXT_VALUES, max_size=4)
        | st.dictionaries(
            st.sampled_from(["@context", "a", "b", "c"]),
            children | st.lists(_CONTEXT_VALUES, max_size=3) | _CONTEXT_VALUES,
            max_size=4,
        )
    ),
    max_leaves=30,
)


def _outcome(check: Check, document: Any) -> tuple[str, str]:
    try:
        check(document)
    except (UnknownContextError, MalformedCredentialError) as exc:
        return type(exc).__name__, str(exc)
    return "accepted", ""


@settings(max_examples=400, deadline=None)
@given(document=_DOCUMENTS)
def test_check_contexts_agrees_with_check_document(document: Any) -> None:
    assert _outcome(check_contexts, document) == _outcome(check_document, document)


def test_check_contexts_names_the_first_refused_context_in_document_order() -> None:
    document = {
        "@context": [CREDENTIALS_V2],
        "a": {"b": [{"@context": "urn:first"}], "@context": "urn:second"},
        "c": {"@context": "urn:third"},
    }
    for check in (check_contexts, check_document):
        with pytest.raises(UnknownContextError, match="urn:first"):
            check(document)
