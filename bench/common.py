"""Shared bench plumbing: a private DynamoDB Local, settings pointed at it, a request counter.

Requests are counted with a botocore event hook: every botocore client
created after ``RequestCounter.install()`` (pynamodb creates one per model
and one for transactions) gets a ``before-call.dynamodb`` handler, and an
``after-call.dynamodb`` handler that adds up the items each read returned.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session

from local.dynamodb_local import DynamoDBLocal


@contextmanager
def local_backend(prefix: str) -> Iterator[DynamoDBLocal]:
    """Start DynamoDB Local, point the app's settings at it, create the tables."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["MAIL_BACKEND"] = "memory"
    ddb = DynamoDBLocal().start()
    try:
        os.environ["DYNAMODB_ENDPOINT"] = ddb.endpoint
        os.environ["TABLE_PREFIX"] = f"{prefix}{uuid.uuid4().hex[:6]}-"
        from chalicelib.config import reset_settings
        from chalicelib.storage.base import bind
        from chalicelib.storage.schema import ensure_tables

        reset_settings()
        from chalicelib.config import get_settings

        bind(get_settings())
        ensure_tables()
        yield ddb
    finally:
        ddb.stop()


class RequestCounter:
    """Counts DynamoDB requests per operation and the items reads return."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items_read = 0
        self.enabled = False
        self._original: Any = None

    def _before(self, model: Any, **_: Any) -> None:
        if self.enabled:
            self.calls[model.name] += 1

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.enabled:
            return
        if model.name in {"Query", "Scan"}:
            self.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "GetItem" and parsed.get("Item"):
            self.items_read += 1
        elif model.name == "BatchGetItem":
            self.items_read += sum(len(v) for v in parsed.get("Responses", {}).values())

    def install(self) -> RequestCounter:
        """Hook every DynamoDB client created from now on, and drop the app's cached clients."""
        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            created = original(session, service_name, *args, **kwargs)
            if service_name == "dynamodb":
                created.meta.events.register("before-call.dynamodb", counter._before)
                created.meta.events.register("after-call.dynamodb", counter._after)
            return created

        self._original = original
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        from chalicelib.config import get_settings
        from chalicelib.storage.base import bind

        bind(get_settings())
        return self

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self.calls.clear()
        self.items_read = 0
        self.enabled = True
        try:
            yield
        finally:
            self.enabled = False

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    """A small aligned text table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
