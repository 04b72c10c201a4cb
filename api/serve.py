"""Running the service under gunicorn (or, with --dev, Flask's development server)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from api.app import create_app
from api.config import Config

__all__ = ["serve"]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn fed from code; each worker builds its own app (and engine)."""

    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self._config = config
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)
        # Newer gunicorn opens a control socket in $HOME; nothing here uses it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return create_app(self._config)


def serve(config: Config, *, host: str, port: int, dev: bool) -> None:
    if dev:
        create_app(config).run(host=host, port=port, debug=False)
        return
    _Gunicorn(
        config,
        {
            "bind": f"{host}:{port}",
            "workers": config.workers,
            # Threads let a worker hold keep-alive connections (a sync worker
            # closes each one) and overlap database waits; the GIL still runs
            # one request's Python at a time per worker.
            "worker_class": "gthread",
            "threads": config.threads,
            "keepalive": 5,
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 60,
            "graceful_timeout": 20,
        },
    ).run()
