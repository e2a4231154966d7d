"""The unit tier: pure code, no AWS at all (no moto, no DynamoDB Local, no network).

Two guards keep it so: a unit test that asks for a backend fixture is an error at
collection, and any AWS request a unit test makes fails it at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.endpoint
import pytest

BACKEND_FIXTURES = {"moto_tables", "local_tables", "dynamodb_local", "tables", "api", "seed"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" not in item.nodeid:
            continue
        used = BACKEND_FIXTURES & set(getattr(item, "fixturenames", ()))
        if used:
            raise pytest.UsageError(f"{item.nodeid} is a unit test but uses {sorted(used)}: move it to its tier")


class AwsCallInUnitTest(AssertionError):
    """A unit test reached for AWS: it belongs in tests/integration or tests/local."""


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(self: Any, operation_model: Any, request_dict: Any) -> Any:
        raise AwsCallInUnitTest(f"unit test called AWS: {operation_model.name}")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse)
    yield
