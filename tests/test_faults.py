"""Dependency failures: DynamoDB throttling or internal errors give 503, retryable, and nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection

from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel

from .helpers import Api, Seed


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "InternalServerError"])
def test_failed_write_is_503_and_changes_nothing(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    real = Connection._make_api_call

    def failing(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        return real(self, operation, kwargs)

    before = OrgModel.get(seed.org_id).member_count
    monkeypatch.setattr(Connection, "_make_api_call", failing)
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "new@acme.test"})
    monkeypatch.setattr(Connection, "_make_api_call", real)

    assert r.status == 503 and r.code == "service_unavailable"
    assert r.headers.get("Retry-After") == "1"
    assert OrgModel.get(seed.org_id).member_count == before
    assert [m.email for m in MemberModel.query(seed.org_id) if m.email == "new@acme.test"] == []
    # The same request succeeds once the dependency recovers.
    assert api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "new@acme.test"}).status == 201
