"""Read every table of the current prefix: snapshots (nothing changed) and secret scans."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.config import get_settings
from chalicelib.storage import schema  # noqa: F401  (registers every model)
from chalicelib.storage.base import client, registered_models

# Use bookkeeping, not a change a request makes: an API key's or token's first use in an hour
# records its time (at most one write per credential per hour), whatever the request then does.
BOOKKEEPING = ("last_used_at",)


def scan_all() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, as raw DynamoDB JSON (without BOOKKEEPING), sorted for comparison."""
    ddb = client()
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in registered_models():
        name = model.Meta.table_name
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
        while True:
            page = ddb.scan(**params)
            items.extend(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        tables[name] = _comparable(items)
    return tables


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table (without BOOKKEEPING), to compare before and after a call.

    On moto it reads moto's in-memory tables directly: the same items as ``scan_all``, without
    serializing every item through a Scan response (two scans per refused call were most of the
    permission matrix's time). On DynamoDB Local it is ``scan_all``.
    """
    if get_settings().dynamodb_endpoint:
        return scan_all()
    tables = moto_backend().tables
    return {
        model.Meta.table_name: _comparable(i.to_json()["Attributes"] for i in tables[model.Meta.table_name].all_items())
        for model in registered_models()
    }


def moto_backend() -> Any:
    """moto's in-memory DynamoDB of this region (its ``tables`` by name)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().aws_region]


def _comparable(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items without BOOKKEEPING, in a fixed order, so two reads of the same tables compare equal."""
    kept = ({k: v for k, v in item.items() if k not in BOOKKEEPING} for item in items)
    return sorted(kept, key=lambda i: json.dumps(i, sort_keys=True, default=str))


def strings_in(value: Any) -> list[str]:
    """Every string inside a DynamoDB item (keys and values, at any depth)."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            found.extend(strings_in(k))
            found.extend(strings_in(v))
    elif isinstance(value, list | tuple | set):
        for v in value:
            found.extend(strings_in(v))
    return found
