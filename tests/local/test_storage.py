"""Storage plumbing on both backends (moto and DynamoDB Local): tables, transactions, cursors, email claims."""

from __future__ import annotations

import pytest

from chalicelib.clock import now
from chalicelib.domain.errors import InvalidRequest
from chalicelib.services import accounts
from chalicelib.storage.accounts import AccountModel, email_claim_key
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.base import TransactionCancelled, Tx, decode_cursor, encode_cursor, page
from chalicelib.storage.orgs import OrgModel
from chalicelib.storage.schema import ensure_tables
from tests.support.helpers import Api, seed_org


def test_ensure_tables_is_idempotent(tables: str) -> None:
    outcome = ensure_tables()
    assert outcome and set(outcome.values()) == {"unchanged"}, outcome
    assert set(ensure_tables().values()) == {"unchanged"}


def org_item(org_id: str, **kw: object) -> OrgModel:
    return OrgModel(org_id, name=org_id, created_at=now(), **kw)


def test_tx_cancellation_reasons_align_with_items(tables: str) -> None:
    org_item("org_exists", admin_count=1).save()
    tx = Tx()
    tx.put(org_item("org_new"), condition=OrgModel.org_id.does_not_exist())  # would succeed
    tx.put(org_item("org_exists"), condition=OrgModel.org_id.does_not_exist())  # fails: exists
    tx.update(OrgModel("org_exists2"), [OrgModel.admin_count.add(1)], condition=OrgModel.org_id.exists())  # fails
    tx.update(OrgModel("org_other"), [OrgModel.admin_count.add(1)])  # would succeed
    with pytest.raises(TransactionCancelled) as info:
        tx.commit()
    exc = info.value
    assert len(exc.reasons) == 4
    assert exc.failed_indexes() == [1, 2]
    assert exc.only_condition_failures
    # Nothing of a cancelled transaction is written.
    for org_id in ("org_new", "org_exists2", "org_other"):
        assert OrgModel.count(org_id, consistent_read=True) == 0
    assert int(OrgModel.get("org_exists", consistent_read=True).admin_count) == 1


def test_tx_commits_in_order_and_returns_old_item_on_failure(tables: str) -> None:
    tx = Tx()
    tx.put(org_item("org_a"), condition=OrgModel.org_id.does_not_exist())
    tx.update(OrgModel("org_b"), [OrgModel.admin_count.add(2), OrgModel.name.set("b")])
    tx.commit()
    assert int(OrgModel.get("org_b", consistent_read=True).admin_count) == 2
    tx = Tx()
    tx.update(OrgModel("org_b"), [OrgModel.admin_count.add(-1)], condition=OrgModel.admin_count > 5, return_old=True)
    with pytest.raises(TransactionCancelled) as info:
        tx.commit()
    reason = info.value.reasons[0]
    assert reason is not None and reason.code == "ConditionalCheckFailed"
    assert reason.item is not None and reason.item["admin_count"] == {"N": "2"}


def test_cursor_round_trip_over_real_pages(tables: str) -> None:
    for i in range(7):
        AuditModel(
            "org_c",
            f"2026-01-01T00:00:0{i}.000Z#aud_{i}",
            audit_id=f"aud_{i}",
            at="t",
            actor="a",
            action="x",
            target="t",
            request_id="r",
        ).save()
    AuditModel(
        "org_d",
        "2026-01-01T00:00:00.000Z#aud_d",
        audit_id="aud_d",
        at="t",
        actor="a",
        action="x",
        target="t",
        request_id="r",
    ).save()
    seen: list[str] = []
    cursor: str | None = None
    names = ("org_id", "sk")
    for _ in range(10):
        start = decode_cursor(cursor, {"org_id": "org_c"}, names)
        items, cursor = page(AuditModel.query("org_c", limit=3, last_evaluated_key=start, scan_index_forward=False))
        seen.extend(i.audit_id for i in items)
        if cursor is None:
            break
        decoded = decode_cursor(cursor, {"org_id": "org_c"}, names)
        assert decoded is not None and encode_cursor(decoded) == cursor
    assert seen == [f"aud_{i}" for i in reversed(range(7))]
    key = {"org_id": {"S": "org_c"}, "sk": {"S": "x#y"}}
    assert decode_cursor(encode_cursor(key), {"org_id": "org_c"}, names) == key
    assert encode_cursor(None) is None and decode_cursor(None) is None
    with pytest.raises(InvalidRequest):
        decode_cursor(encode_cursor(key), {"org_id": "org_d"}, names)
    with pytest.raises(InvalidRequest):
        decode_cursor(encode_cursor({"org_id": {"S": "org_c"}}), {"org_id": "org_c"}, names)
    with pytest.raises(InvalidRequest):
        decode_cursor("***", {"org_id": "org_c"})


def test_email_claims_make_emails_unique(tables: str) -> None:
    first, created = accounts.get_or_create("Claim@Example.com")
    assert created and first.email == "claim@example.com"
    again, created_again = accounts.get_or_create(" claim@EXAMPLE.COM ")
    assert not created_again and again.account_id == first.account_id
    # A second account with the same email cannot be written, even bypassing the lookup.
    tx = Tx()
    accounts.add_account_to(tx, "claim@example.com")
    with pytest.raises(TransactionCancelled) as info:
        tx.commit()
    assert info.value.failed_indexes() == [1]  # the account id is new; the claim exists
    claim = AccountModel.get(email_claim_key("claim@example.com"), consistent_read=True)
    assert claim.owner == first.account_id
    accounts_with_email = [i for i in AccountModel.scan(consistent_read=True) if i.email == "claim@example.com"]
    assert [a.account_id for a in accounts_with_email] == [first.account_id]
    assert accounts.find_by_email("nobody@example.com") is None


def test_over_long_ids_in_paths_are_not_found(tables: str) -> None:
    """DynamoDB refuses keys over its size limits (a 500 if it reached the table); ids that long do not exist."""
    api = Api()
    seed = seed_org(api)
    long_id = "x" * 3000
    calls = [
        ("GET", f"/v1/orgs/{long_id}", None),
        ("GET", f"/v1/orgs/{seed.org_id}/members/{long_id}", None),
        ("DELETE", f"/v1/orgs/{seed.org_id}/members/{long_id}", None),
        ("PUT", f"/v1/orgs/{seed.org_id}/members/{long_id}/role", {"role": "member"}),
        ("DELETE", f"/v1/me/api-keys/{long_id}", None),
        ("GET", f"/v1/orgs/{seed.org_id}/members/{'é' * 600}", None),
    ]
    for method, path, body in calls:
        r = api.call(method, path, seed.admin.key, body)
        assert r.status == 404 and r.code == "not_found", (method, path[:40], r.status, r.body)
    assert api.get(f"/v1/orgs/{long_id}").status == 401
