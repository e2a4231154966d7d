"""Fixtures of the moto tier's large parametrized modules: one seeded org per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.helpers import Api, Seed
from tests.support.worlds import MotoWorld, moto_world


@pytest.fixture(scope="module")
def seeded_world() -> Iterator[MotoWorld]:
    """One moto backend and seeded org per module (seeding is most of a small test's time)."""
    with moto_world() as world:
        yield world


@pytest.fixture
def world(seeded_world: MotoWorld) -> tuple[Api, Seed]:
    """The module's seeded org, its tables as seeded: a test sees nothing an earlier one wrote."""
    return seeded_world.rewound()
