"""The WSGI application, for a server run by hand: `gunicorn 'api.wsgi:app'`.

The configuration comes from the environment (README, Configuration); each worker
that imports this module opens its own services.
"""

from __future__ import annotations

from api.app import create_app

__all__ = ["app"]

app = create_app()
