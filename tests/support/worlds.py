"""A moto backend with a seeded org shared by a whole test module (for large parametrized tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws

from chalicelib.config import reset_settings
from chalicelib.storage.schema import ensure_tables
from tests.conftest import use_backend
from tests.support.helpers import Api, Seed, seed_org


@contextmanager
def moto_world() -> Iterator[tuple[Api, Seed]]:
    """Tests using it must not depend on each other's changes (use fresh targets)."""
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        use_backend(mp, None)
        ensure_tables()
        api = Api()
        yield api, seed_org(api)
    reset_settings()
