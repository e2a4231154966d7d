"""Shared bench plumbing: a private DynamoDB Local, settings pointed at it, a request counter.

Run benches from the project root as modules (``python -m bench.verify``).
Requests are counted at the botocore client level: every DynamoDB call made
by any client in the process (pynamodb's per-model clients, the transaction
connection, raw boto3 baselines) goes through ``BaseClient._make_api_call``,
where the counter also adds up the items each read returned.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client

from local.dynamodb_local import DynamoDBLocal


@contextmanager
def local_backend(prefix: str = "bench") -> Iterator[DynamoDBLocal]:
    """Start DynamoDB Local, point the app's settings at fresh tables on it, stop it afterwards."""
    ddb = DynamoDBLocal().start()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "DYNAMODB_ENDPOINT": ddb.endpoint,
            "TABLE_PREFIX": f"{prefix}{uuid.uuid4().hex[:6]}-",
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


def _items_read(operation: str, parsed: Any) -> int:
    if not isinstance(parsed, dict):
        return 0
    if operation in {"Query", "Scan"}:
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(v) for v in parsed.get("Responses", {}).values())
    return 0


class RequestCounter:
    """Counts DynamoDB requests per operation, and the items reads return, in the whole process."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items_read = 0
        self.lock = threading.Lock()

    def install(self) -> RequestCounter:
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            result = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                with counter.lock:
                    counter.calls[operation] += 1
                    counter.items_read += _items_read(operation, result)
            return result

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        return self

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.calls.values())

    @contextmanager
    def measuring(self) -> Iterator[None]:
        """Reset the counts, then count what the block does."""
        with self.lock:
            self.calls.clear()
            self.items_read = 0
        yield

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        """Yield a Counter filled, on exit, with the calls made inside the block."""
        with self.lock:
            before = Counter(self.calls)
        delta: Counter[str] = Counter()
        yield delta
        with self.lock:
            delta.update(self.calls - before)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "mean": statistics.fmean(ordered),
    }


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    """A small aligned text table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verify_domain(org_id: str, account_id: str, domain: str) -> None:
    """Verify ``domain`` for a bench org the real way: claim, TXT record on an embedded DNS responder, verify.

    Direct adds act only on an org's verified domains (invariant 9).
    """
    from chalicelib.config import reset_settings
    from chalicelib.domain.models import Actor
    from chalicelib.services import domains
    from local.dns_server import DnsResponder, RecordStore

    responder = DnsResponder(RecordStore()).start()
    before = os.environ.get("DNS_RESOLVER")
    os.environ["DNS_RESOLVER"] = responder.address
    reset_settings()
    try:
        actor = Actor(actor=f"account:{account_id}", request_id="bench", account_id=account_id)
        claimed = domains.claim(org_id, actor, domain)
        responder.store.set(claimed.record_name, claimed.record_value)
        domains.verify(org_id, actor, domain)
    finally:
        responder.stop()
        if before is None:
            os.environ.pop("DNS_RESOLVER", None)
        else:
            os.environ["DNS_RESOLVER"] = before
        reset_settings()
