"""Running the service under gunicorn (or, with --dev, Flask's development server).

`gunicorn_settings` is the production configuration. `credbank serve` uses it, and
so does `api/gunicorn_conf.py` for running gunicorn directly:
`gunicorn -c python:api.gunicorn_conf 'api.wsgi:app'`. The choices:

- gthread workers (api/workers.py's, which share connections out fairly), with
  `CREDBANK_WORKERS` of them with `CREDBANK_THREADS` threads: a thread serves a
  request and waits on the database while others run; idle keep-alive
  connections wait in the worker's poller and hold no thread.
- No preload. Each worker imports and builds its own app after the fork, so it has
  its own database pool (a connection must never cross a fork) and its own key
  store, which decrypts a private key in that worker when it first signs with it.
  The master holds no connection and no decrypted key; the price is that each
  worker starts on its own (about a second).
- max_requests 200,000 with a jitter of 20,000: workers are replaced now and then,
  so slow growth of memory cannot go on for ever, and not all at once. Not much
  more often: a worker that exits sends its kept-alive clients to the others, and
  until they are spread again (api/workers.py) some requests wait longer. At
  10,000 a worker was replaced every ten seconds under full load.
- timeout 60 s (a worker whose main loop is silent that long is replaced; gthread
  requests may run longer), graceful_timeout 30 s (on SIGTERM, requests in flight
  get that long to finish), keepalive 5 s (behind a load balancer whose idle
  timeout is longer, raise it: `GUNICORN_CMD_ARGS="--keep-alive 75"`; that
  variable overrides any of these settings, as with gunicorn itself).
- limit_request_line 8190 bytes, gunicorn's largest, where its default is 4094: a
  wallet subset names up to 100 credential ids in its query string.
- `CREDBANK_FORWARDED_ALLOW_IPS`: the proxies whose X-Forwarded-Proto is trusted.
- gunicorn's access log is off (the app writes its own line, see api/logs.py), and
  `GunicornLogger` makes sure gunicorn does not format one per request all the
  same; its error log and every other logger go to stderr in `CREDBANK_LOG_FORMAT`.
- Metrics: a multiprocess directory for prometheus_client, made before the workers
  start and removed when the master exits; an exited worker's files are folded
  into an archive (api/metrics.py).
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from api.app import create_app
from api.config import Config
from api.logs import configure_logging, logging_config
from api.metrics import MULTIPROC_ENV, retire_worker_files, use_multiprocess_dir

__all__ = ["GunicornLogger", "gunicorn_settings", "prepare_metrics_dir", "serve"]

MAX_REQUESTS = 200_000
MAX_REQUESTS_JITTER = 20_000

logger = logging.getLogger(__name__)


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with its access log left out.

    Given a logging configuration (`logconfig_dict`), gunicorn formats an access
    line for every request even when no handler takes it: measurably costly on
    a hot path. The app writes its own line (api/logs.py).
    """

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def serve(config: Config, *, host: str, port: int, dev: bool) -> None:
    if dev:
        configure_logging(config.log_format, config.log_level)
        create_app(config).run(host=host, port=port, debug=False)
        return
    directory, owned = prepare_metrics_dir()
    settings = gunicorn_settings(config, directory, owned=owned)
    _Gunicorn(config, {"bind": f"{host}:{port}", **settings}).run()


def prepare_metrics_dir() -> tuple[Path, bool]:
    """The metrics directory, and whether it is ours to remove at exit.

    An operator's PROMETHEUS_MULTIPROC_DIR is used as it is, emptied of the
    previous run's files (prometheus_client needs that); otherwise a new
    temporary directory.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in glob.glob(str(directory / "*.db")):
            os.remove(stale)
        owned = False
    else:
        directory = Path(tempfile.mkdtemp(prefix="credbank-metrics-"))
        owned = True
    use_multiprocess_dir(directory)
    return directory, owned


def gunicorn_settings(
    config: Config, metrics_dir: Path, *, owned: bool
) -> dict[str, Any]:
    """gunicorn settings by name (see the module docstring for each choice)."""

    def child_exit(_server: Any, worker: Any) -> None:
        # Runs in the master: a failure here must not stop it.
        try:
            retire_worker_files(metrics_dir, worker.pid)
        except (OSError, ValueError, RuntimeError):
            logger.exception("could not archive worker %d's metrics", worker.pid)

    def on_exit(_server: Any) -> None:
        if owned:
            shutil.rmtree(metrics_dir, ignore_errors=True)

    return {
        "workers": config.workers,
        "worker_class": "api.workers.ThreadWorker",
        "threads": config.threads,
        "preload_app": False,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # gunicorn's largest request line (its default is 4094 bytes): a wallet
        # subset names its credentials in the query (api/routes/wallet.py).
        "limit_request_line": 8190,
        "max_requests": MAX_REQUESTS,
        "max_requests_jitter": MAX_REQUESTS_JITTER,
        "forwarded_allow_ips": ",".join(config.forwarded_allow_ips),
        "accesslog": None,
        "logger_class": "api.serve.GunicornLogger",
        "errorlog": "-",
        "loglevel": config.log_level.lower(),
        "logconfig_dict": logging_config(config.log_format, config.log_level),
        "child_exit": child_exit,
        "on_exit": on_exit,
    }


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn fed from code; each worker builds its own app (and engine)."""

    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self._config = config
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)
        overrides = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        for name, value in vars(overrides).items():
            if value is not None and name != "args":
                self.cfg.set(name.lower(), value)
        # Newer gunicorn opens a control socket in $HOME; nothing here uses it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return create_app(self._config)
