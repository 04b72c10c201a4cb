"""The command-line fixtures of tests/api, for `credbank credits evaluate`."""

from tests.api.conftest import cli, run_main

__all__ = ["cli", "run_main"]
