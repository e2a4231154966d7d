"""Made once per test process on moto, copied after: the tables, the seeded org, a fuzz world.

Creating the tables is some 35 ms on moto and seeding an org through the services some 75 ms;
most of the moto tier's tests need both, and a copy of moto's in-memory tables is a millisecond
or two. A copy stands for a new build only where a new build would make the same thing: on moto,
with the real clock, the same settings (table prefix included) and the same starting point (no
tables yet, or every table empty). Anywhere else the build simply runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from chalicelib import clock
from chalicelib.config import get_settings
from tests.support.table_scan import moto_backend

T = TypeVar("T")

_made: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def made_once(what: Hashable, build: Callable[[], T]) -> T:
    """``build()``, or a copy of the tables and result the same build left earlier in this process."""
    start = _fresh_start()
    if start is None:
        return build()
    key = (what, start, get_settings().model_dump_json())
    if key in _made:
        tables, result = _made[key]
        put_back(tables)
        return copy.deepcopy(result)
    result = build()
    _made[key] = (kept_tables(), copy.deepcopy(result))
    return result


def kept_tables() -> Any:
    """A copy of moto's tables as they are now (a later ``put_back`` restores it)."""
    return copy.deepcopy(moto_backend().tables)


def put_back(kept: Any) -> None:
    """moto's tables as ``kept`` holds them; ``kept`` stays as it was, to be put back again."""
    moto_backend().tables = copy.deepcopy(kept)


def _fresh_start() -> tuple[str, ...] | None:
    """The table names, when this is moto with the real clock and no table holds an item; else None."""
    if get_settings().dynamodb_endpoint or clock.moved():
        return None
    tables = moto_backend().tables
    if any(next(iter(table.all_items()), None) is not None for table in tables.values()):
        return None
    return tuple(sorted(tables))
