"""Health: every table answers a DescribeTable.

``/v1/health`` takes no credential, so a healthy answer is kept for
``HEALTHY_FOR_SECONDS`` per process: a flood of anonymous health checks
costs one DescribeTable per table every few seconds, not one per request
(the WAF's per-address rule limits the flood itself). A failure is never
kept: the next check asks again.
"""

from __future__ import annotations

import threading
import time

from ..domain.errors import ServiceUnavailable
from ..storage import schema  # noqa: F401  (registers every model)
from ..storage.base import client, registered_models

HEALTHY_FOR_SECONDS = 10.0

_healthy: tuple[float, dict[str, str]] | None = None
_lock = threading.Lock()


def check_tables() -> dict[str, str]:
    """Each table's status; 503 when one does not answer."""
    global _healthy
    known = _healthy
    if known is not None and time.monotonic() - known[0] < HEALTHY_FOR_SECONDS:
        return dict(known[1])
    with _lock:
        ddb = client()
        states = {}
        for model in registered_models():
            base_name = str(getattr(model.Meta, "base_name", model.Meta.table_name))
            try:
                states[base_name] = ddb.describe_table(TableName=model.Meta.table_name)["Table"]["TableStatus"]
            except Exception as exc:
                _healthy = None
                raise ServiceUnavailable(f"Table {base_name} is not reachable.") from exc
        _healthy = (time.monotonic(), states)
        return dict(states)


def forget() -> None:
    """Drop the kept answer (tests; a process that changed its tables)."""
    global _healthy
    _healthy = None
