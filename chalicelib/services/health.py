"""Health: every table answers a DescribeTable."""

from __future__ import annotations

from ..domain.errors import ServiceUnavailable
from ..storage import schema  # noqa: F401  (registers every model)
from ..storage.base import client, registered_models


def check_tables() -> dict[str, str]:
    ddb = client()
    states = {}
    for model in registered_models():
        base_name = str(getattr(model.Meta, "base_name", model.Meta.table_name))
        try:
            states[base_name] = ddb.describe_table(TableName=model.Meta.table_name)["Table"]["TableStatus"]
        except Exception as exc:
            raise ServiceUnavailable(f"Table {base_name} is not reachable.") from exc
    return states
