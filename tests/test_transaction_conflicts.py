"""TransactionConflict: real DynamoDB cancels a transaction that meets another one on the same item.

Neither moto nor DynamoDB Local produces it (both serialize transactions), so
the engine's answer is injected at ``Tx.commit`` for the first attempt(s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.storage.base import CancelReason, TransactionCancelled, Tx

from .helpers import Api, Seed
from .test_orgs_members import org_counts


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
