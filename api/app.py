"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound

from api.auth import BEARER_SCHEME
from api.config import Config
from api.headers import install_headers
from api.limits import install_limits
from api.logs import install_request_log
from api.metrics import enable_metrics, observe_request
from api.problems import register_problem_handlers
from api.routes import (
    achievements,
    committee,
    credentials,
    credit_bank,
    docs,
    erasure,
    health,
    issuers,
    learner_page,
    log,
    units,
    verification,
    verification_page,
    wallet,
)
from api.services import Services, open_services
from api.smorest import Api

__all__ = ["MAX_REQUEST_BYTES", "create_app"]

# Large enough for a 10,000-row CSV batch of awards; anything bigger is refused (413).
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def create_app(
    config: Config | None = None, *, services: Services | None = None
) -> Flask:
    """Build the app; opens the services unless the caller passes them in."""
    config = config or Config.from_env()
    services = services or open_services(config)

    app = Flask(__name__)
    app.config.update(
        CREDBANK_BASE_URL=config.base_url,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        API_TITLE="credbank",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["credbank"] = services
    # First of the request hooks, so that every request is timed and counted.
    enable_metrics()
    install_request_log(app, observe=observe_request)

    api = Api(app)
    api.spec.components.security_scheme(
        BEARER_SCHEME, {"type": "http", "scheme": "bearer"}
    )
    api.register_blueprint(health.blp)
    api.register_blueprint(log.blp)
    api.register_blueprint(issuers.blp)
    api.register_blueprint(achievements.blp)
    api.register_blueprint(committee.blp)
    api.register_blueprint(units.blp)
    api.register_blueprint(credentials.blp)
    api.register_blueprint(credit_bank.blp)
    api.register_blueprint(verification.blp)
    api.register_blueprint(verification_page.blp)
    api.register_blueprint(wallet.blp)
    api.register_blueprint(learner_page.blp)
    api.register_blueprint(erasure.blp)
    api.register_blueprint(docs.blp)
    register_problem_handlers(app)
    install_limits(app, config)
    install_headers(app, config)

    @app.url_value_preprocessor
    def refuse_nul_in_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        # PostgreSQL text cannot hold NUL, so no id holds one; asking the database
        # would fail in the driver and answer 500 instead of 404.
        if values and any(isinstance(v, str) and "\x00" in v for v in values.values()):
            raise NotFound("no such resource")

    return app
