"""Create or update every table, idempotently (local stack, tests, operators).

Creates missing tables (on-demand, streams as declared) and adds missing
GSIs to existing ones; running it twice changes nothing the second time.
In AWS the tables come from the CloudFormation template instead.
"""

from __future__ import annotations

import time
from typing import Any

from pynamodb.models import Model

from . import (  # noqa: F401  (register models)
    accounts,
    audit,
    domains,
    groups,
    invitations,
    members,
    orgs,
    quotas,
    scim_cursors,
    service_accounts,
    sessions,
    tokens,
)
from .base import client, registered_models


def _existing_tables() -> set[str]:
    names: set[str] = set()
    params: dict[str, Any] = {}
    while True:
        page = client().list_tables(**params)
        names.update(page.get("TableNames", []))
        if not page.get("LastEvaluatedTableName"):
            return names
        params["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def _add_missing_indexes(model: type[Model]) -> list[str]:
    ddb = client()
    table = ddb.describe_table(TableName=model.Meta.table_name)["Table"]
    present = {gsi["IndexName"] for gsi in table.get("GlobalSecondaryIndexes", [])}
    schema: Any = model._get_schema()
    added = []
    for gsi in schema["global_secondary_indexes"]:
        if gsi["index_name"] in present:
            continue
        key_names = {k["AttributeName"] for k in gsi["key_schema"]}
        ddb.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=[dict(a) for a in schema["attribute_definitions"] if a["AttributeName"] in key_names],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": gsi["index_name"],
                        "KeySchema": [
                            {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in gsi["key_schema"]
                        ],
                        "Projection": gsi["projection"],
                    }
                }
            ],
        )
        added.append(gsi["index_name"])
    return added


def ensure_tables() -> dict[str, str]:
    """Create or update all tables; returns {table name: created|updated|unchanged}."""
    existing = _existing_tables()
    outcome: dict[str, str] = {}
    for model in registered_models():
        name = model.Meta.table_name
        if name not in existing:
            _create(model)
            outcome[name] = "created"
            continue
        outcome[name] = "updated" if _add_missing_indexes(model) else "unchanged"
        if _enable_ttl(model) and outcome[name] == "unchanged":
            outcome[name] = "updated"
    return outcome


def _create(model: type[Model]) -> None:
    """Create a table known to be missing, on demand, with its indexes, stream and TTL.

    One CreateTable (and one UpdateTimeToLive when the model has a TTL), where
    pynamodb's ``create_table`` first probes for the table and then polls it:
    the tests create every table for every test, so the calls add up. The
    table is polled only if it is not born ACTIVE (DynamoDB Local and moto's are).
    """
    schema: Any = model._get_schema()
    kwargs: dict[str, Any] = {
        "attribute_definitions": schema["attribute_definitions"],
        "key_schema": schema["key_schema"],
        "global_secondary_indexes": schema["global_secondary_indexes"],
        "local_secondary_indexes": schema["local_secondary_indexes"],
        "billing_mode": "PAY_PER_REQUEST",
    }
    stream_view = getattr(model.Meta, "stream_view_type", None)
    if stream_view:
        kwargs["stream_specification"] = {"stream_enabled": True, "stream_view_type": stream_view}
    table = model._get_connection()
    status = (table.create_table(**kwargs).get("TableDescription") or {}).get("TableStatus")
    while status != "ACTIVE":
        time.sleep(1)
        status = (table.describe_table() or {}).get("TableStatus")
    _turn_on_ttl(model, known_off=True)


def _enable_ttl(model: type[Model]) -> bool:
    """Turn on TTL for a model that declares ``Meta.ttl_attribute``; True when it was off."""
    return _turn_on_ttl(model, known_off=False)


def _turn_on_ttl(model: type[Model], known_off: bool) -> bool:
    """TTL on for ``Meta.ttl_attribute``, if any; ``known_off``: a new table, so no need to ask first."""
    attribute = getattr(model.Meta, "ttl_attribute", None)
    if not attribute:
        return False
    ddb = client()
    if not known_off:
        current = ddb.describe_time_to_live(TableName=model.Meta.table_name).get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return False
    ddb.update_time_to_live(
        TableName=model.Meta.table_name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
    )
    return True


def stream_arn(model: type[Model]) -> str | None:
    """The latest stream ARN of a model's table (local stack, tests)."""
    table = client().describe_table(TableName=model.Meta.table_name)["Table"]
    return table.get("LatestStreamArn")


def delete_tables() -> None:
    """Drop every table of the current prefix (tests only)."""
    existing = _existing_tables()
    for model in registered_models():
        if model.Meta.table_name in existing:
            model.delete_table()
