"""gunicorn's configuration file, for running gunicorn directly:

    gunicorn -c python:api.gunicorn_conf 'api.wsgi:app'

The same settings as `credbank serve` (api/serve.py explains each one), read from
the environment; `--bind` (default 127.0.0.1:8000) and any other gunicorn option
given on the command line win over them.
"""

from __future__ import annotations

from api.config import Config
from api.serve import gunicorn_settings, prepare_metrics_dir

_directory, _owned = prepare_metrics_dir()
globals().update(gunicorn_settings(Config.from_env(), _directory, owned=_owned))
