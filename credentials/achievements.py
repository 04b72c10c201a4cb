"""The Open Badges 3.0 Achievement (OB 3.0 §B.1.1) built from a catalogue definition.

Credit unit and level travel as two Alignment objects (DESIGN §4): the unit, with the
framework `credit-unit`, and the EQF level, with its European Commission URI.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from credentials.units import UNITS, eqf_url

__all__ = ["achievement_document", "bilingual", "credits_number"]


def bilingual(text: dict[str, str]) -> str:
    """One string for both languages: Chinese first, then English, as on the demo."""
    parts = [text[lang] for lang in ("zh", "en") if text.get(lang)]
    return " ".join(parts)


def credits_number(credits: str) -> int | float:
    """A JSON number for an exact decimal string (OB types creditsAvailable float)."""
    value = Decimal(credits)
    return int(value) if value == value.to_integral_value() else float(value)


def achievement_document(
    achievement_url: str,
    definition: dict[str, Any],
    *,
    creator: dict[str, Any],
    base_url: str,
) -> dict[str, Any]:
    """The Achievement object, without @context (the credential supplies it)."""
    unit = UNITS[definition["unit"]]
    level = definition["eqfLevel"]
    alignments = [
        {
            "type": ["Alignment"],
            "targetName": f"{unit.name_en} ({unit.code})",
            "targetUrl": f"{base_url}/units/{unit.code}",
            "targetFramework": "credit-unit",
            "targetCode": unit.code,
            "targetDescription": unit.description_en,
        },
        {
            "type": ["Alignment"],
            "targetName": f"EQF level {level}",
            "targetUrl": eqf_url(level),
            "targetFramework": "EQF",
            "targetCode": str(level),
        },
    ]
    alignments += [
        {"type": ["Alignment"], **alignment} for alignment in definition["alignments"]
    ]
    document: dict[str, Any] = {
        "id": achievement_url,
        "type": ["Achievement"],
        "achievementType": definition["achievementType"],
        "name": bilingual(definition["name"]),
        "description": bilingual(definition["description"]),
        "criteria": {"narrative": bilingual(definition["criteria"])},
        "creditsAvailable": credits_number(definition["credits"]),
        "fieldOfStudy": definition["fieldOfStudy"],
        "alignment": alignments,
        "creator": creator,
    }
    languages = set(definition["name"]) | set(definition["description"])
    if len(languages) == 1:
        document["inLanguage"] = languages.pop()
    return document
