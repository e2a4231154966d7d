"""Read every table of the current prefix: snapshots (nothing changed) and secret scans."""

from __future__ import annotations

import json
from typing import Any

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
            items.extend({k: v for k, v in i.items() if k not in BOOKKEEPING} for i in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        tables[name] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return tables


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
