"""SCIM list paging at size, on DynamoDB Local: each page reads its own items, a full walk each member once.

What an identity provider sees when members come and go during its walk
(startIndex 1, 1+count, ...): every member present for the whole walk exactly
once, nobody twice, nobody of another org; totalResults is the org's count at
each page.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient

from chalicelib.clock import now
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.scim import users
from chalicelib.storage.groups import GroupModel, GroupNameModel, name_key
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from chalicelib.storage.scim_cursors import ScimCursorModel
from tests.support.helpers import Api, Seed, scim_seed
from tests.support.scim_helpers import USER_SCHEMA, Scim, issue_scim_token

BASE = "http://localhost/scim/v2"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


def user(email: str) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": email}


@dataclass
class Reads:
    """DynamoDB requests by operation, and the items reads returned: per table for Query and Scan
    (ScannedCount), under ``get:<table>`` for GetItem and BatchGetItem."""

    calls: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    def clear(self) -> None:
        self.calls.clear()
        self.items.clear()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    seen = Reads()
    lock = threading.Lock()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: Any) -> Any:
        result = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb" and threading.current_thread() is threading.main_thread():
            with lock:
                seen.calls[operation] += 1
                table = str(params.get("TableName", "")).rsplit("-", 1)[-1]
                if operation in ("Query", "Scan"):
                    seen.items[table] += int(result.get("ScannedCount", result.get("Count", 0)))
                elif operation == "GetItem" and result.get("Item"):
                    seen.items[f"get:{table}"] += 1
                elif operation == "BatchGetItem":
                    for name, found in result.get("Responses", {}).items():
                        seen.items[f"get:{name.rsplit('-', 1)[-1]}"] += len(found)
        return result

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    yield seen


def add_people(org_id: str, n: int, prefix: str = "acc_load") -> list[str]:
    """``n`` seatless members written directly with the org's counter (the setup, not the thing under test)."""
    stamp = now()
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    with MemberModel.batch_write() as batch:
        for account_id in ids:
            batch.save(
                MemberModel(
                    org_id,
                    account_id,
                    email=f"{account_id}@load.test",
                    role=Role.MEMBER.value,
                    has_seat=False,
                    seat_generation=0,
                    joined_at=stamp,
                    updated_at=stamp,
                )
            )
    OrgModel(org_id).update(actions=[OrgModel.member_count.add(n)])
    return ids


def every_id(org_id: str) -> list[str]:
    return [m.account_id for m in MemberModel.query(org_id, consistent_read=True)]


def walk(scim: Scim, count: int, between: Any = None) -> tuple[list[str], list[int]]:
    """An IdP's sequential walk: (ids in the order returned, totalResults of each page)."""
    ids: list[str] = []
    totals: list[int] = []
    start = 1
    while True:
        page = scim.get(f"/Users?startIndex={start}&count={count}")
        assert page.status == 200, page.body
        assert page.body["startIndex"] == start
        found = [u["id"] for u in page.body.get("Resources", [])]
        assert page.body["itemsPerPage"] == len(found)
        ids += found
        totals.append(page.body["totalResults"])
        if len(found) < count:
            return ids, totals
        start += count
        if between is not None:
            between(start)


@pytest.fixture
def big(local_tables: str) -> tuple[Seed, Scim, list[str]]:
    api = Api()
    seed = scim_seed(api)
    add_people(seed.org_id, 600)
    return seed, Scim(api, issue_scim_token(seed)[1]), every_id(seed.org_id)


def test_a_late_page_reads_as_little_as_the_first(big: tuple[Seed, Scim, list[str]], reads: Reads) -> None:
    _, scim, everyone = big
    per_page: list[tuple[int, int]] = []

    def page(start: int) -> None:
        reads.clear()
        assert len(scim.get(f"/Users?startIndex={start}&count=50").body["Resources"]) == 50
        per_page.append((reads.items["members"], sum(reads.calls.values())))

    for start in range(1, len(everyone) - 49, 50):
        page(start)
    first, last = per_page[0], per_page[-1]
    assert len(per_page) >= 12
    assert first[0] == 50 and last[0] == 50, per_page  # members read: the page, not the org
    assert all(p == per_page[1] for p in per_page[1:]), per_page  # later pages: same items, same requests
    assert last[1] <= first[1] + 2  # + the cursor read and nothing else growing with the offset


def test_a_full_walk_returns_everyone_once_and_reads_each_member_once(
    big: tuple[Seed, Scim, list[str]], reads: Reads
) -> None:
    _, scim, everyone = big
    reads.clear()
    ids, totals = walk(scim, 100)
    assert sorted(ids) == sorted(everyone) and len(ids) == len(set(ids))
    assert set(totals) == {len(everyone)}
    assert reads.items["members"] <= len(everyone) + 100  # O(n): each member once, plus one short page
    assert Counter(reads.calls)["Query"] == len(totals)  # one Query per page


def test_any_start_index_is_exact_without_a_cursor(big: tuple[Seed, Scim, list[str]]) -> None:
    _, scim, everyone = big
    for start, count in ((1, 7), (137, 10), (599, 50), (len(everyone), 5)):
        page = scim.get(f"/Users?startIndex={start}&count={count}").body
        assert [u["id"] for u in page["Resources"]] == everyone[start - 1 : start - 1 + count]
        assert page["totalResults"] == len(everyone) and page["startIndex"] == start
    beyond = scim.get(f"/Users?startIndex={len(everyone) + 1}&count=5").body
    assert beyond["itemsPerPage"] == 0 and beyond["totalResults"] == len(everyone)
    assert scim.get("/Users?startIndex=1&count=0").body["itemsPerPage"] == 0


def test_an_expired_cursor_is_not_used(big: tuple[Seed, Scim, list[str]]) -> None:
    """A cursor past its time (TTL not yet run) is ignored: the page counts from the start, still exact."""
    seed, scim, everyone = big
    scim.get("/Users?startIndex=1&count=20")
    cursor = ScimCursorModel.get(f"{seed.org_id}#users#20", consistent_read=True)
    assert cursor.last_key == everyone[19]
    cursor.update(actions=[ScimCursorModel.last_key.set(everyone[300]), ScimCursorModel.expires_ttl.set(1)])
    page = scim.get("/Users?startIndex=21&count=20").body
    assert [u["id"] for u in page["Resources"]] == everyone[20:40]


def test_members_added_and_removed_between_pages(big: tuple[Seed, Scim, list[str]]) -> None:
    """Between pages: a member removed before and one after the walk's point, one added before and one
    after. The walk goes on after the last member it returned: nobody present throughout is skipped or
    repeated, the removed one still ahead is not returned, the one added ahead is; totals follow."""
    seed, scim, everyone = big
    actor = Actor(actor="scim:tok_test", request_id="test", scope_org=seed.org_id)
    changed: dict[str, list[str]] = {"gone": [], "new": []}
    loaded = [i for i in everyone if i.startswith("acc_load")]
    assert loaded[50] in everyone[:200] and loaded[450] not in everyone[:200]

    def change(start: int) -> None:
        if start != 201:
            return
        before, ahead = loaded[50], loaded[450]  # returned already / still ahead (loaded: never an admin)
        for account_id in (before, ahead):
            users.delete(seed.org_id, actor, BASE, account_id, None)
        changed["gone"] += [before, ahead]
        for name in ("aaa-early", "zzz-late"):
            created = users.create(seed.org_id, actor, BASE, user(f"{name}@corp.example"))
            changed["new"].append(created.id or "")

    ids, totals = walk(scim, 100, change)
    assert len(ids) == len(set(ids))
    stable = set(everyone) - set(changed["gone"])
    assert stable <= set(ids)
    assert changed["gone"][1] not in ids  # removed while still ahead of the walk
    assert set(ids) <= set(everyone) | set(changed["new"])
    ahead = [n for n in changed["new"] if n > ids[199]]
    assert set(ahead) <= set(ids)  # added after the walk's point: returned
    assert totals[0] == len(everyone) and totals[-1] == len(everyone)  # two out, two in
    assert totals[-1] == len(every_id(seed.org_id))


def test_a_walk_under_concurrent_churn(big: tuple[Seed, Scim, list[str]]) -> None:
    """Members created and deleted by other requests while the walk runs: nobody present throughout is
    missed, nobody is returned twice, nothing foreign appears."""
    seed, scim, everyone = big
    actor = Actor(actor="scim:tok_test", request_id="test", scope_org=seed.org_id)
    doomed = [i for i in everyone if i.startswith("acc_load")][1::7][:30]  # never the org's last admin
    created: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def churn() -> None:
        try:
            for i, account_id in enumerate(doomed):
                if stop.is_set():
                    return
                users.delete(seed.org_id, actor, BASE, account_id, None)
                made = users.create(seed.org_id, actor, BASE, user(f"new{i}@corp.example"))
                created.append(made.id or "")
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        ids, totals = walk(scim, 20)
    finally:
        stop.set()
        worker.join()
    assert not errors, errors
    assert len(ids) == len(set(ids))
    assert set(everyone) - set(doomed) <= set(ids)
    assert set(ids) <= set(everyone) | set(created)
    assert all(len(everyone) - 1 <= t <= len(everyone) for t in totals), totals  # one out, then one in


# --- Groups: pages read their own groups; displayName eq is a lookup ---------------------


def add_groups(org_id: str, names: list[str]) -> list[str]:
    """Pushed groups and their name claims written directly (the setup, not the thing under test)."""
    stamp = now()
    ids = [f"grp_load{i:04d}" for i in range(len(names))]
    with GroupModel.batch_write() as batch:
        for group_id, name in zip(ids, names, strict=True):
            batch.save(GroupModel(org_id, group_id, display_name=name, revision=1, created_at=stamp, updated_at=stamp))
    with GroupNameModel.batch_write() as batch:
        for group_id, name in zip(ids, names, strict=True):
            batch.save(GroupNameModel(org_id, name_key(name), group_id=group_id))
    return ids


def test_group_pages_read_only_their_groups(local_tables: str, reads: Reads) -> None:
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    names = [f"{'Team' if i % 2 else 'team'} {i:03d}" for i in range(130)]
    add_groups(seed.org_id, names)
    listed: list[str] = []
    per_page: list[tuple[int, int]] = []
    start = 1
    while True:
        reads.clear()
        page = scim.get(f"/Groups?startIndex={start}&count=25&excludedAttributes=members").body
        per_page.append((reads.items["get:groups"], reads.items["group_names"]))
        assert page["totalResults"] == 133 and page["startIndex"] == start
        listed += [g["displayName"] for g in page["Resources"]]
        if len(page["Resources"]) < 25:
            break
        start += 25
    assert listed == ["Account Admins", "Billing Managers", "Seat Holders", *sorted(names, key=str.casefold)]
    assert per_page[0][0] == 22 and all(p[0] == 25 for p in per_page[1:-1]), per_page  # the page's groups only
    assert reads.calls["Query"] <= 2, reads.calls  # the name claims' COUNT and the page; no Query of all groups
    middle = scim.get("/Groups?startIndex=67&count=3&excludedAttributes=members").body
    assert [g["displayName"] for g in middle["Resources"]] == sorted(names, key=str.casefold)[63:66]


# --- Groups: displayName eq is a lookup --------------------------------------------------


def test_group_display_name_eq_reads_only_that_group(local_tables: str, reads: Reads) -> None:
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    for i in range(30):
        group = {"schemas": [GROUP_SCHEMA], "displayName": f"Team {i:02d}", "externalId": f"x{i}"}
        assert scim.post("/Groups", group).status == 201
    reads.clear()
    found = scim.get('/Groups?filter=displayName eq "team 07"&excludedAttributes=members').body
    assert [g["displayName"] for g in found["Resources"]] == ["Team 07"] and found["totalResults"] == 1
    assert reads.items["get:groups"] == 1 and reads.items["get:group_names"] == 1, reads.items
    assert reads.calls["Query"] == 0, reads.calls  # no read of the org's groups
    refined = scim.get('/Groups?filter=displayName eq "TEAM 07" and externalId eq "x8"').body
    assert refined["totalResults"] == 0
    both = scim.get('/Groups?filter=displayName eq "Team 07" and externalId eq "x7"').body
    assert [g["externalId"] for g in both["Resources"]] == ["x7"]
    assert scim.get('/Groups?filter=displayName eq "Team 99"').body["totalResults"] == 0
    built_in = scim.get('/Groups?filter=displayName eq "seat holders"').body
    assert [g["id"] for g in built_in["Resources"]] == ["seat-holders"]
    either = scim.get('/Groups?filter=displayName eq "Team 01" or displayName eq "Team 02"').body
    assert sorted(g["displayName"] for g in either["Resources"]) == ["Team 01", "Team 02"]
