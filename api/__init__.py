"""The HTTP API, the command line and the start-up of the service."""

from api.app import create_app
from api.config import Config

__all__ = ["Config", "create_app"]
