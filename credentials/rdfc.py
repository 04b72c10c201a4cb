"""RDF Dataset Canonicalization: W3C RDFC-1.0 (Recommendation, 21 May 2024).

The algorithm pyld still calls URDNA2015, which escapes a few control characters
differently (RDFC-1.0 Appendix B). Quads arrive with their terms already in canonical
N-Quads form (Appendix A): `<iri>`, a quoted literal, or a blank node `_:label`; the
default graph is named by the empty string. The output is the serialized canonical
form (§5). pyld 3.3 also departs from §4.4.3 step 2.1 for a quad that names one blank
node twice; docs/adr/0003 says why credbank's documents never meet either difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from itertools import permutations

__all__ = ["MAX_N_DEGREE_STEPS", "Quad", "TooComplexError", "canonical_nquads"]

# (subject, predicate, object, graph name), each in canonical N-Quads form.
Quad = tuple[str, str, str, str]

# RDFC-1.0 §7.1 (Dataset Poisoning) asks implementations to bound the work of
# Hash N-Degree Quads. A credential needs none or a handful of steps (calls plus
# permutations tried); a dataset that needs this many is given up on here.
MAX_N_DEGREE_STEPS = 20_000


class TooComplexError(Exception):
    """The dataset needs more than `MAX_N_DEGREE_STEPS` Hash N-Degree Quads steps."""


def canonical_nquads(quads: Iterable[Quad]) -> str:
    """The serialized canonical form of a dataset (§4.4.3 and §5).

    Duplicate quads count once: a dataset is a set.

    Raises:
        TooComplexError: see `MAX_N_DEGREE_STEPS`.
    """
    return _Canonicalizer(dict.fromkeys(quads)).run()


class _IdentifierIssuer:
    """An identifier issuer (§4.3, "blank node identifier issuer state") with the
    Issue Identifier algorithm (§4.5.2). `issued` keeps the order of issue."""

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, existing: str) -> str:
        # §4.5.2 steps 1-5; the counter is the number already issued.
        found = self.issued.get(existing)
        if found is None:
            found = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return found

    def copy(self) -> _IdentifierIssuer:
        return _IdentifierIssuer(self.prefix, dict(self.issued))


class _Canonicalizer:
    """The canonicalization state (§4.2) of one dataset, and the algorithms over it.

    Invariant: `canonical` only grows; a blank node, once issued a canonical
    identifier, keeps it.
    """

    def __init__(self, quads: dict[Quad, None]) -> None:
        self.quads = quads
        self.blank_quads: dict[str, list[Quad]] = {}
        self.canonical = _IdentifierIssuer("c14n")
        self.first_degree: dict[str, str] = {}
        self.n_degree_steps = 0

    def run(self) -> str:
        # §4.4.3, numbered by its steps.
        # Step 2: the quads that mention each blank node.
        for quad in self.quads:
            subject, _, obj, graph = quad
            for component in (subject, obj, graph):
                if component.startswith("_:"):
                    mentions = self.blank_quads.setdefault(component, [])
                    if not mentions or mentions[-1] is not quad:
                        mentions.append(quad)

        # Step 3: first-degree hashes, grouped.
        by_hash: dict[str, list[str]] = {}
        for blank in self.blank_quads:
            by_hash.setdefault(self._hash_first_degree(blank), []).append(blank)

        # Step 4: a blank node with a hash of its own gets its canonical
        # identifier now, in hash order.
        shared: list[tuple[str, list[str]]] = []
        for digest in sorted(by_hash):
            blanks = by_hash[digest]
            if len(blanks) == 1:
                self.canonical.issue(blanks[0])
            else:
                shared.append((digest, blanks))

        # Step 5: shared hashes are told apart by Hash N-Degree Quads.
        for _, blanks in shared:
            results: list[tuple[str, _IdentifierIssuer]] = []
            for blank in blanks:
                if blank in self.canonical.issued:
                    continue
                temporary = _IdentifierIssuer("b")
                temporary.issue(blank)
                results.append(self._hash_n_degree(blank, temporary))
            for _, issuer in sorted(results, key=lambda result: result[0]):
                for existing in issuer.issued:
                    self.canonical.issue(existing)

        # Steps 6-7 and §5: relabel, write one line per quad, sort, join.
        return "".join(sorted(self._line(quad) for quad in self.quads))

    def _line(self, quad: Quad) -> str:
        subject, predicate, obj, graph = quad
        issued = self.canonical.issued
        if subject.startswith("_:"):
            subject = "_:" + issued[subject]
        if obj.startswith("_:"):
            obj = "_:" + issued[obj]
        if not graph:
            return f"{subject} {predicate} {obj} .\n"
        if graph.startswith("_:"):
            graph = "_:" + issued[graph]
        return f"{subject} {predicate} {obj} {graph} .\n"

    def _hash_first_degree(self, reference: str) -> str:
        # Hash First Degree Quads (§4.6.3). Its result depends on the dataset
        # alone, so it is computed once per blank node.
        found = self.first_degree.get(reference)
        if found is not None:
            return found
        lines = []
        for quad in self.blank_quads[reference]:
            # Step 3.1.1: the reference node is _:a, any other blank node _:z.
            subject, predicate, obj, graph = (
                ("_:a" if term == reference else "_:z")
                if term.startswith("_:")
                else term
                for term in quad
            )
            if graph:
                lines.append(f"{subject} {predicate} {obj} {graph} .\n")
            else:
                lines.append(f"{subject} {predicate} {obj} .\n")
        lines.sort()
        found = self.first_degree[reference] = _sha256("".join(lines))
        return found

    def _hash_related(
        self, related: str, quad: Quad, issuer: _IdentifierIssuer, position: str
    ) -> str:
        # Hash Related Blank Node (§4.7.3); predicates are already `<iri>`.
        text = position if position == "g" else position + quad[1]
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is not None:
            text += "_:" + identifier
        else:
            text += self._hash_first_degree(related)
        return _sha256(text)

    def _hash_n_degree(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> tuple[str, _IdentifierIssuer]:
        # Hash N-Degree Quads (§4.8.3), numbered by its steps.
        self._count_step()

        # Steps 1-3: related hash -> the blank nodes related that way.
        related_by_hash: dict[str, list[str]] = {}
        for quad in self.blank_quads[identifier]:
            for component, position in (
                (quad[0], "s"),
                (quad[2], "o"),
                (quad[3], "g"),
            ):
                if component.startswith("_:") and component != identifier:
                    digest = self._hash_related(component, quad, issuer, position)
                    related_by_hash.setdefault(digest, []).append(component)

        # Steps 4-5: the shortest gossip path for each related hash, in order.
        data_to_hash = ""
        for related_hash in sorted(related_by_hash):
            data_to_hash += related_hash
            chosen_path = ""
            chosen_issuer: _IdentifierIssuer | None = None
            for permutation in permutations(related_by_hash[related_hash]):
                path, path_issuer = self._gossip_path(permutation, issuer, chosen_path)
                if path is not None and (not chosen_path or path < chosen_path):
                    chosen_path, chosen_issuer = path, path_issuer
            data_to_hash += chosen_path
            assert chosen_issuer is not None  # the first permutation always counts
            issuer = chosen_issuer

        # Step 6.
        return _sha256(data_to_hash), issuer

    def _count_step(self) -> None:
        self.n_degree_steps += 1
        if self.n_degree_steps > MAX_N_DEGREE_STEPS:
            raise TooComplexError(
                f"expected at most {MAX_N_DEGREE_STEPS} Hash N-Degree Quads steps, "
                "got more"
            )

    def _gossip_path(
        self,
        permutation: tuple[str, ...],
        issuer: _IdentifierIssuer,
        chosen_path: str,
    ) -> tuple[str | None, _IdentifierIssuer]:
        # §4.8.3 steps 5.4.1-5.4.5 for one permutation; a path of None means the
        # permutation was abandoned as longer than `chosen_path`.
        self._count_step()
        issuer_copy = issuer.copy()
        path = ""
        recursion: list[str] = []
        for related in permutation:
            canonical = self.canonical.issued.get(related)
            if canonical is not None:
                path += "_:" + canonical
            else:
                if related not in issuer_copy.issued:
                    recursion.append(related)
                path += "_:" + issuer_copy.issue(related)
            if _is_longer(path, chosen_path):
                return None, issuer_copy
        for related in recursion:
            digest, issuer_copy = self._hash_n_degree(related, issuer_copy)
            path += "_:" + issuer_copy.issue(related) + "<" + digest + ">"
            if _is_longer(path, chosen_path):
                return None, issuer_copy
        return path, issuer_copy


def _is_longer(path: str, chosen_path: str) -> bool:
    # §4.8.3 steps 5.4.4.3 and 5.4.5.5: give up on a path that can no longer win.
    return bool(chosen_path) and len(path) >= len(chosen_path) and path > chosen_path


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
