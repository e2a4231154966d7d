"""Every DynamoDB operation the code performs is allowed by the deployed IAM policies.

The policies are generated from ``deploy/build_template.DATA_ACTIONS`` (and the
health and stream-read lists); an operation the code starts using without a
grant would fail only in AWS, as AccessDenied. This scenario drives every
capability through its real entry points and records the operations made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from chalicelib.mail import get_mailer
from chalicelib.mail.base import MemoryMailer
from tests.support.console_support import deliver_signins
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_expiry_job, run_stream, stream_batch
from tests.support.member_stream import deliver, raw_member, record
from tests.support.scim_helpers import Scim, issue_scim_token

ROOT = Path(__file__).resolve().parents[2]
# TransactWriteItems is authorized per item as Put/Update/Delete/ConditionCheckItem.
AUTHORIZED_PER_ITEM = {"TransactWriteItems"}


def granted_dynamodb_actions() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            action = node.get("Action")
            # IAM statements name actions as strings; a WAF rule's Action is an object (Block, Allow).
            if isinstance(action, str | list):
                found.update(action if isinstance(action, list) else [action])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((ROOT / "deploy" / "resources.json").read_text()))
    return {a.split(":", 1)[1] for a in found if a.startswith("dynamodb:")}


@pytest.fixture
def operations(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    used: set[str] = set()
    real = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            used.add(operation)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    yield used


def test_every_operation_the_code_uses_is_granted(api: Api, seed: Seed, operations: set[str]) -> None:
    org, admin, member = seed.org_id, seed.admin.key, seed.member
    # Seats, tokens, verification and the cascade.
    assert api.post(f"/v1/orgs/{org}/seats/assign", admin, {"account_ids": [member.account_id]}).status == 200
    token = api.post(f"/v1/orgs/{org}/tokens", member.key, {"name": "ci"}).body["secret"]
    assert api.post("/v1/tokens/verify", None, {"token": token}).body["active"] is True
    before = raw_member(org, member.account_id)
    assert api.post(f"/v1/orgs/{org}/seats/revoke", admin, {"account_ids": [member.account_id]}).status == 200
    deliver(record(before, raw_member(org, member.account_id)))
    # Invitations: invite, email from the stream, accept, expiry job; sign-in codes.
    assert api.post(f"/v1/orgs/{org}/invitations", admin, {"emails": ["new@acme.test"]}).status == 200
    run_stream(stream_batch(org))
    mailer = get_mailer()
    assert isinstance(mailer, MemoryMailer)
    (link,) = links_to(mailer, "new@acme.test")
    assert api.post(f"/v1/invitations/{link}/accept").status == 200
    run_expiry_job()
    assert api.post("/v1/auth/login-link", None, {"email": member.email}).status == 202
    scanned_before = "Scan" in operations
    deliver_signins()  # the Sessions stream's handler; the helper finds the new requests with a Scan
    if not scanned_before:
        operations.discard("Scan")
    # Members, audit, onboarding, SCIM, health.
    assert api.get(f"/v1/orgs/{org}/members?email_prefix=new", admin).status == 200
    assert api.get(f"/v1/orgs/{org}/audit-log", admin).status == 200
    assert api.post(f"/v1/orgs/{org}/members/onboard", admin, {"emails": ["on@acme.test"]}).status == 200
    scim = Scim(api, issue_scim_token(seed)[1])
    assert scim.create_user("scim@acme.test").status == 201
    assert scim.get('/Users?filter=userName eq "scim@acme.test"').status == 200
    assert api.get("/v1/health").status == 200

    missing = sorted(operations - AUTHORIZED_PER_ITEM - granted_dynamodb_actions())
    assert not missing, f"the code uses DynamoDB operations no deployed role may perform: {missing}"
    assert {"BatchGetItem", "BatchWriteItem", "TransactWriteItems", "Query", "GetItem"} <= operations
