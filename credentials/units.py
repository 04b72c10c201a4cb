"""Credit units and levels (credit-rules.md §Units and levels).

Credits always travel with their unit; levels are EQF levels 1 to 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["EQF_LEVELS", "UNITS", "CreditUnit", "eqf_url"]

EQF_LEVELS = range(1, 9)


@dataclass(frozen=True)
class CreditUnit:
    """A unit code with its names and, where one is usual, learning hours per credit."""

    code: str
    name_en: str
    name_zh: str
    description_en: str
    hours_per_credit: tuple[Decimal, Decimal] | None


UNITS: dict[str, CreditUnit] = {
    unit.code: unit
    for unit in (
        CreditUnit(
            "ECTS",
            "ECTS credit",
            "欧洲学分",
            "European Credit Transfer and Accumulation System credit: "
            "25-30 hours of learning; 60 make a full-time year.",
            (Decimal(25), Decimal(30)),
        ),
        CreditUnit(
            "SCH",
            "Semester credit hour",
            "美国学期学分",
            "US semester credit hour: about 45 hours of work (34 CFR 600.2).",
            (Decimal(45), Decimal(45)),
        ),
        CreditUnit(
            "QCH",
            "Quarter credit hour",
            "美国学季学分",
            "US quarter credit hour: two thirds of a semester credit hour.",
            (Decimal(30), Decimal(30)),
        ),
        CreditUnit(
            "HOURS",
            "Learning hour",
            "学时",
            "Notional learning hours: one credit is one hour.",
            (Decimal(1), Decimal(1)),
        ),
        CreditUnit(
            "CN_XF",
            "Xuefen (学分)",
            "学分",
            "学分 as counted by Chinese institutions and the national credit bank: "
            "commonly 16-18 class hours.",
            (Decimal(16), Decimal(18)),
        ),
        CreditUnit(
            "KR_ACBS",
            "Academic Credit Bank System credit",
            "韩国学分银行学分",
            "Credit of Korea's Academic Credit Bank System, equivalent to a "
            "university credit.",
            None,
        ),
    )
}


def eqf_url(level: int) -> str:
    """The European Commission's URI for an EQF level."""
    return f"http://data.europa.eu/snb/eqf/{level}"
