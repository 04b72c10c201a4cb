"""The command-line and live-server fixtures of tests/api, for verification tests."""

from tests.api.conftest import cli, live_server, run_main

__all__ = ["cli", "live_server", "run_main"]
