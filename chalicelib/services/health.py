"""Health: every table answers a DescribeTable."""

from __future__ import annotations

from ..domain.errors import ServiceUnavailable
from ..storage import schema  # noqa: F401  (registers every model)
from ..storage.base import connection, registered_models


def check_tables() -> dict[str, str]:
    client = connection().client
    states = {}
    for model in registered_models():
        try:
            states[model.Meta.base_name] = client.describe_table(TableName=model.Meta.table_name)["Table"][
                "TableStatus"
            ]  # type: ignore[attr-defined]
        except Exception as exc:
            raise ServiceUnavailable(f"Table {model.Meta.base_name} is not reachable.") from exc  # type: ignore[attr-defined]
    return states
