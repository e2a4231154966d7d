"""The "nothing changed" oracle: moto's direct snapshot sees every item a Scan sees, and any change."""

from __future__ import annotations

from chalicelib.storage.base import client
from tests.support.helpers import Api, Seed
from tests.support.table_scan import BOOKKEEPING, scan_all, snapshot


def test_snapshot_holds_the_items_a_scan_reads(seed: Seed) -> None:
    scanned, snapped = scan_all(), snapshot()
    assert scanned.keys() == snapped.keys()
    assert {name: len(items) for name, items in scanned.items()} == {n: len(i) for n, i in snapped.items()}
    assert sum(len(items) for items in snapped.values()) > 5
    for name, items in scanned.items():
        attribute_names = {tuple(sorted(i)) for i in items}
        assert attribute_names == {tuple(sorted(i)) for i in snapped[name]}, name
        assert not any(b in i for i in snapped[name] for b in BOOKKEEPING)


def test_snapshot_changes_with_a_write(api: Api, seed: Seed) -> None:
    before = snapshot()
    assert snapshot() == before
    r = api.put(
        f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/role", seed.admin.key, {"role": "billing_manager"}
    )
    assert r.status == 200, r.body
    assert snapshot() != before


def test_snapshot_sees_a_raw_item_change(seed: Seed) -> None:
    before = snapshot()
    name = next(n for n, items in before.items() if items)
    item = scan_all()[name][0]
    changed = {**item, "zz_extra": {"S": "x"}}
    client().put_item(TableName=name, Item=changed)
    assert snapshot() != before
