"""Shared bench plumbing: an own DynamoDB Local, fresh tables, and a DynamoDB request counter."""

from __future__ import annotations

import os
import statistics
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import botocore.client  # noqa: E402

from local.dynamodb_local import DynamoDBLocal  # noqa: E402


class RequestCounter:
    """Counts DynamoDB API calls made by any botocore client in the process (patched at the client level)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._original: Any = None

    def install(self) -> None:
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                with counter.lock:
                    counter.calls[operation] += 1
            return original(client, operation, params)

        self._original = original
        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def total(self) -> int:
        with self.lock:
            return sum(self.calls.values())

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        """Yields a Counter filled, on exit, with the calls made inside the block."""
        with self.lock:
            before = Counter(self.calls)
        delta: Counter[str] = Counter()
        yield delta
        with self.lock:
            delta.update(self.calls - before)


@contextmanager
def local_stack() -> Iterator[DynamoDBLocal]:
    """Start DynamoDB Local, point the app at fresh tables on it, stop it afterwards."""
    ddb = DynamoDBLocal().start()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "DYNAMODB_ENDPOINT": ddb.endpoint,
            "TABLE_PREFIX": f"bench{uuid.uuid4().hex[:6]}-",
            "MAIL_BACKEND": "memory",
        }
    )
    from chalicelib.config import reset_settings
    from chalicelib.storage.base import ensure_bound
    from chalicelib.storage.schema import ensure_tables

    reset_settings()
    ensure_bound()
    ensure_tables()
    try:
        yield ddb
    finally:
        ddb.stop()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "mean": statistics.fmean(ordered),
    }
