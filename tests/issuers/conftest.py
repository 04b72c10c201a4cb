"""The issuers package on its own: issuance without the credit bank listening.

DESIGN §2: issuers/ knows nothing of credits/. The application wires the credit
bank in as an issuance listener (api/services.py); these tests check issuance
itself, so their log holds only what issuance writes. The credit bank's part is
tested in tests/credits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from api.config import Config
from api.services import Services, open_services
from issuers.issuance import Issuance
from tests.conftest import NOW


@pytest.fixture
def services(migrated: Config) -> Iterator[Services]:
    opened = open_services(migrated, now=NOW)
    try:
        yield dataclasses.replace(opened, issuance=Issuance(opened.catalogue))
    finally:
        opened.close()
