"""Dependency failures: DynamoDB throttling or internal errors give 503, retryable, and nothing half-written;
SES throttling leaves the invitation in place with delivery ``failed``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pynamodb.connection.base import Connection

from chalicelib.config import get_settings
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import SesMailer
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Resp, Seed
from tests.support.invitation_support import run_stream, stream_batch
from tests.support.table_scan import snapshot

CODES = ["ProvisionedThroughputExceededException", "InternalServerError"]


@pytest.mark.parametrize("code", CODES)
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


WRITES: dict[str, Callable[[Api, Seed], Resp]] = {
    "invite": lambda api, seed: api.post(
        f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["a@example.com", "b@example.com"]}
    ),
    "seat_assign": lambda api, seed: api.post(
        f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key
    ),
    "role_change": lambda api, seed: api.put(
        f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/role", seed.admin.key, {"role": "billing_manager"}
    ),
    "onboard": lambda api, seed: api.post(
        f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, {"emails": ["new1@acme.test", "new2@acme.test"]}
    ),
}


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Every DynamoDB write fails with ``code``; reads still work (the usual shape of a hot partition)."""
    real = Connection._make_api_call

    def failing(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation in {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        return real(self, operation, kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", failing)


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("code", CODES)
def test_failed_writes_are_503_and_leave_every_table_as_it_was(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch, code: str, write: str
) -> None:
    before = snapshot()
    with monkeypatch.context() as mp:
        fail_writes(mp, code)
        r = WRITES[write](api, seed)
    assert (r.status, r.code) == (503, "service_unavailable"), r.body
    assert r.headers.get("Retry-After") == "1"
    assert snapshot() == before
    # Once DynamoDB recovers the same request goes through.
    assert WRITES[write](api, seed).status in {200, 201}


@pytest.mark.parametrize("ses_code", ["TooManyRequestsException", "LimitExceededException"])
def test_ses_throttling_keeps_the_invitation_with_delivery_failed(api: Api, seed: Seed, ses_code: str) -> None:
    mailer = SesMailer(get_settings())
    reset_mailer(mailer)
    try:
        r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["slow@example.com"]})
        invitation_id = r.body["results"][0]["invitation_id"]
        with Stubber(mailer.client) as ses:
            ses.add_client_error("send_email", service_error_code=ses_code, http_status_code=429)
            assert run_stream(stream_batch(seed.org_id))["failed"] == 1
            ses.assert_no_pending_responses()
    finally:
        reset_mailer(None)
    got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
    assert got["status"] == "pending"
    assert got["delivery"]["status"] == "failed" and ses_code in got["delivery"]["error"]


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_transaction_throttled_on_an_item_is_503_not_500(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    """DynamoDB reports throttling inside a transaction as the item's cancellation reason."""
    from botocore.client import BaseClient

    real = BaseClient._make_api_call

    def throttled(self: BaseClient, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            reasons = [{"Code": reason, "Message": "injected"} for _ in kwargs["TransactItems"]]
            response = {"Error": {"Code": "TransactionCanceledException", "Message": "injected"}}
            raise ClientError({**response, "CancellationReasons": reasons}, operation)  # type: ignore[arg-type]
        return real(self, operation, kwargs)

    before = snapshot()
    with monkeypatch.context() as mp:
        mp.setattr(BaseClient, "_make_api_call", throttled)
        r = WRITES["seat_assign"](api, seed)
    assert (r.status, r.code) == (503, "service_unavailable"), r.body
    assert r.headers.get("Retry-After") == "1"
    assert snapshot() == before
