"""Credit units: the targetUrl of every credit-unit alignment (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from api.routes.registry_schemas import UnitSchema
from api.smorest import Blueprint
from credentials.units import UNITS
from issuers.errors import NotFoundError

blp = Blueprint("units", __name__, url_prefix="/units", description="Credit units")


@blp.route("/<code>")
@blp.response(
    200,
    UnitSchema,
    example={
        "code": "ECTS",
        "name": {"en": "ECTS credit", "zh": "欧洲学分"},
        "description": "European Credit Transfer and Accumulation System credit.",
    },
)
@blp.problems(404)
def show_unit(code: str) -> dict[str, Any]:
    """A short description of one credit unit."""
    unit = UNITS.get(code)
    if unit is None:
        raise NotFoundError(f"no credit unit {code!r}; known: {', '.join(UNITS)}")
    return {
        "code": unit.code,
        "name": {"en": unit.name_en, "zh": unit.name_zh},
        "description": unit.description_en,
    }
