"""TransactionConflict: real DynamoDB cancels a transaction that meets another one on the same item.

Neither moto nor DynamoDB Local produces it (both serialize transactions), so
the engine's answer is injected at ``Tx.commit`` for the first attempt(s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.services import accounts
from chalicelib.storage.base import CancelReason, TransactionCancelled, Tx
from tests.integration.test_orgs_members import org_counts
from tests.support.helpers import Api, Seed


def conflict_first(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """Cancel the next ``times`` commits with TransactionConflict on the org item (index 1)."""
    real_commit: Callable[..., Any] = Tx.commit
    calls: list[int] = []

    def commit(self: Tx, client_request_token: str | None = None) -> None:
        calls.append(len(self.items))
        if len(calls) <= times:
            reasons: list[CancelReason | None] = [None] * len(self.items)
            reasons[1] = CancelReason(code="TransactionConflict", item=None)
            raise TransactionCancelled(reasons)
        real_commit(self, client_request_token)

    monkeypatch.setattr(Tx, "commit", commit)
    return calls


def test_add_member_retries_a_conflict(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "warm@acme.test"})  # account path warm
    calls = conflict_first(monkeypatch, 2)
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "warm2@acme.test"})
    assert r.status == 201, r.body
    assert len(calls) >= 3
    assert org_counts(seed.org_id) == (1, 5)


def test_role_change_and_removal_retry_a_conflict(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"/v1/orgs/{seed.org_id}/members"
    conflict_first(monkeypatch, 1)
    r = api.put(f"{base}/{seed.member.account_id}/role", seed.admin.key, {"role": "account_admin"})
    assert r.status == 200 and r.body["role"] == "account_admin"
    conflict_first(monkeypatch, 1)
    assert api.delete(f"{base}/{seed.billing.account_id}", seed.admin.key).status == 204
    assert org_counts(seed.org_id) == (2, 2)


def test_endless_conflicts_give_409_conflict_and_change_nothing(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    conflict_first(monkeypatch, 1000)
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": seed.outsider.email})
    assert r.status == 409 and r.code == "conflict", r.body
    r = api.put(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/role", seed.admin.key, {"role": "member"})
    assert r.status == 200  # no change needed, no transaction
    r = api.put(
        f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/role", seed.admin.key, {"role": "billing_manager"}
    )
    assert r.status == 409 and r.code == "conflict", r.body
    r = api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": "Renamed"})
    assert r.status == 409 and r.code == "conflict", r.body
    monkeypatch.undo()
    assert org_counts(seed.org_id) == (1, 3)
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body["name"] == "Acme"


def test_bulk_onboarding_retries_conflicts_and_never_fails_whole(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token secrets exist only in the response: a lost race must not turn committed items into a 409."""
    for email in ("a1@acme.test", "a2@acme.test", "a3@acme.test"):  # accounts exist: every commit below is a join
        accounts.get_or_create(email)
    real_commit: Callable[..., Any] = Tx.commit
    joins = {"n": 0}

    def commit(self: Tx, client_request_token: str | None = None) -> None:
        if not any(i.get("Put", {}).get("TableName", "").endswith("members") for i in self.items):
            return real_commit(self, client_request_token)  # not a join (the tokens' handover at the end)
        joins["n"] += 1
        if joins["n"] == 2 or joins["n"] >= 4:  # the 2nd join races once; the 3rd email races forever
            reasons: list[CancelReason | None] = [None] * len(self.items)
            reasons[1] = CancelReason(code="TransactionConflict", item=None)
            raise TransactionCancelled(reasons)
        real_commit(self, client_request_token)

    monkeypatch.setattr(Tx, "commit", commit)
    body = {"emails": ["a1@acme.test", "a2@acme.test", "a3@acme.test"], "issue_token": {"name": "ci"}}
    r = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, body)
    assert r.status == 200, r.body
    statuses = [i["status"] for i in r.body["items"]]
    assert statuses == ["onboarded", "onboarded", "conflict"]
    assert all(i["token"]["secret"].startswith("oat_") for i in r.body["items"][:2])
