"""A moto backend with a seeded org shared by a whole test module (for large parametrized tests).

The org is seeded once per module; before each test the tables are put back as they
were seeded (a copy of moto's in-memory tables, a few milliseconds). Without that the
world grew test after test, and moto answers every scan and index query by reading
every item: the permission matrix's before-and-after scans took seconds by its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.config import reset_settings
from chalicelib.storage.schema import ensure_tables
from tests.conftest import use_backend
from tests.support.helpers import Api, Seed, seed_org
from tests.support.moto_copies import kept_tables, put_back


@dataclass
class MotoWorld:
    api: Api
    seed: Seed
    _kept: Any = field(default=None, repr=False)

    def keep(self) -> None:
        """The tables as they are now are what every later test starts from."""
        self._kept = kept_tables()

    def rewound(self) -> tuple[Api, Seed]:
        """The tables back to what was kept; the API client and seeded org to use with them."""
        put_back(self._kept)
        return self.api, self.seed


@contextmanager
def moto_world() -> Iterator[MotoWorld]:
    """Tests using it start from the seeded tables; nothing one test writes is seen by the next."""
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        use_backend(mp, None)
        ensure_tables()
        api = Api()
        world = MotoWorld(api, seed_org(api))
        world.keep()
        yield world
    reset_settings()
