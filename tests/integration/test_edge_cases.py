"""Edge cases at the seams of capabilities: dead tokens, foreign cursors, transient conflicts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.storage.base import CancelReason, TransactionCancelled, Tx
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed


def cursor_of(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def test_renewing_a_token_whose_seat_was_revoked_is_refused(api: Api, seed: Seed) -> None:
    org, admin, member = seed.org_id, seed.admin.key, seed.member
    assert api.post(f"/v1/orgs/{org}/members/{member.account_id}/seat", admin).status == 200
    token = api.post(f"/v1/orgs/{org}/tokens", member.key, {"name": "laptop"}).body
    assert api.delete(f"/v1/orgs/{org}/members/{member.account_id}/seat", admin).status == 204
    # No stream handler has run: the token is not flagged yet, but it is dead.
    r = api.patch(
        f"/v1/orgs/{org}/members/{member.account_id}/tokens/{token['token_id']}",
        admin,
        {"expires_at": "2027-06-01T00:00:00Z"},
    )
    assert (r.status, r.code) == (409, "token_revoked")
    assert api.post("/v1/tokens/verify", None, {"token": token["secret"]}).body == {"active": False}


@pytest.mark.parametrize("key", [{"org_id": {"S": "ORG"}}, {"org_id": {"S": "ORG"}, "invitation_id": {"N": "5"}}])
def test_an_invitation_cursor_of_the_wrong_shape_is_400(api: Api, seed: Seed, key: dict[str, Any]) -> None:
    key = json.loads(json.dumps(key).replace("ORG", seed.org_id))
    r = api.get(f"/v1/orgs/{seed.org_id}/invitations?cursor={cursor_of(key)}", seed.admin.key)
    assert (r.status, r.code) == (400, "invalid_request")


def test_a_transient_conflict_on_capacity_is_retried_not_reported_as_below_usage(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Tx.commit
    calls = {"n": 0}

    def commit(self: Tx, client_request_token: str | None = None) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            reasons: list[CancelReason | None] = [None] * len(self.items)
            reasons[0] = CancelReason(code="TransactionConflict", item=None)
            raise TransactionCancelled(reasons)
        real(self, client_request_token)

    monkeypatch.setattr(Tx, "commit", commit)
    r = api.put(f"/v1/orgs/{seed.org_id}/seats", seed.admin.key, {"capacity": 50})
    assert r.status == 200, r.body
    assert OrgModel.get(seed.org_id).seat_capacity == 50 and calls["n"] == 2
