"""An identity provider's full SCIM Users sync of an org of 10,000 members, on DynamoDB Local.

Seeds one org (batch writes, the org's member counter raised to match),
issues a SCIM token, then per round walks ``GET /scim/v2/Users`` as Okta and
Entra ID do (startIndex=1, then 1+count, ... until a short page) through the
Chalice local gateway in process (token check, counter read, cursor, Query,
SCIM rendering), timing each page and counting its DynamoDB requests and the
items they read at the botocore client. Then one page at an offset no walk
wrote a cursor for (the keys-only skip). Baselines in the same run: a raw
boto3 Query of one page (``Limit=count`` from an ``ExclusiveStartKey``), and
a raw read of the whole partition, which is what every page cost before
pages had cursors.

    python -m bench.scim_paging [--members 10000] [--count 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from typing import Any

from .common import RequestCounter, local_backend, table


def seed_members(org_id: str, count: int) -> None:
    from chalicelib.clock import now
    from chalicelib.storage.members import MemberModel
    from chalicelib.storage.orgs import OrgModel

    stamp = now()
    with MemberModel.batch_write() as batch:
        for i in range(count):
            batch.save(
                MemberModel(
                    org_id,
                    f"acc_bench{i:06d}",
                    email=f"user{i:06d}@bench.example",
                    role="member",
                    has_seat=False,
                    seat_generation=0,
                    joined_at=stamp,
                    updated_at=stamp,
                )
            )
    OrgModel(org_id).update(actions=[OrgModel.member_count.add(count)])


class Measured:
    """One request's wall time, DynamoDB requests and items read."""

    def __init__(self, counter: RequestCounter) -> None:
        self.counter = counter
        self.ms = 0.0
        self.calls: Counter[str] = Counter()
        self.items = 0

    def __enter__(self) -> Measured:
        with self.counter.lock:
            self._calls = Counter(self.counter.calls)
            self._items = self.counter.items_read
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.ms = (time.perf_counter() - self._start) * 1000
        with self.counter.lock:
            self.calls = self.counter.calls - self._calls
            self.items = self.counter.items_read - self._items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counter = RequestCounter().install()
    with local_backend("benchpaging"):
        run(args.members, args.count, args.rounds, counter)


def run(member_count: int, count: int, rounds: int, counter: RequestCounter) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.domain.models import Actor
    from chalicelib.services import bootstrap, scim_tokens
    from chalicelib.storage.base import client
    from chalicelib.storage.members import MemberModel

    boot = bootstrap.bootstrap("Bench", "admin@bench.example", seat_capacity=10)
    started = time.perf_counter()
    seed_members(boot.org_id, member_count)
    print(f"seeded {member_count} members with batch writes in {time.perf_counter() - started:.1f} s")
    total = member_count + 1  # and the admin
    actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
    _, secret = scim_tokens.issue(boot.org_id, actor, "bench")
    http = Client(app).http
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/scim+json"}
    raw = client()
    members_table = MemberModel.Meta.table_name

    def page(start: int) -> list[str]:
        response = http.request("GET", f"/scim/v2/Users?startIndex={start}&count={count}", headers=headers)
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        assert body["totalResults"] == total, body["totalResults"]
        return [u["id"] for u in body.get("Resources", [])]

    def raw_page(after: str) -> int:
        found = raw.query(
            TableName=members_table,
            KeyConditionExpression="org_id = :o",
            ExpressionAttributeValues={":o": {"S": boot.org_id}},
            ExclusiveStartKey={"org_id": {"S": boot.org_id}, "account_id": {"S": after}},
            Limit=count,
            ConsistentRead=True,
        )
        return int(found["Count"])

    def raw_partition() -> int:
        params: dict[str, Any] = {
            "TableName": members_table,
            "KeyConditionExpression": "org_id = :o",
            "ExpressionAttributeValues": {":o": {"S": boot.org_id}},
            "ConsistentRead": True,
        }
        read = 0
        while True:
            found = raw.query(**params)
            read += int(found["Count"])
            if not found.get("LastEvaluatedKey"):
                return read
            params["ExclusiveStartKey"] = found["LastEvaluatedKey"]

    page(1)  # warm the SCIM imports
    walks: list[list[Measured]] = []
    syncs: list[float] = []
    for _ in range(rounds):
        pages: list[Measured] = []
        seen: list[str] = []
        started = time.perf_counter()
        start = 1
        while True:
            with Measured(counter) as measured:
                ids = page(start)
            pages.append(measured)
            seen += ids
            if len(ids) < count:
                break
            start += count
        syncs.append(time.perf_counter() - started)
        assert len(seen) == len(set(seen)) == total, (len(seen), len(set(seen)))
        walks.append(pages)

    late = total - count - 37  # an offset no walk wrote a cursor for
    random_access = []
    for _ in range(rounds):
        with Measured(counter) as measured:
            assert len(page(late)) == count
        random_access.append(measured)

    ordered = sorted(m.account_id for m in MemberModel.query(boot.org_id, consistent_read=True))
    after = ordered[total - count - 1]
    raw_pages = []
    for _ in range(20 * rounds):
        with Measured(counter) as measured:
            assert raw_page(after) == count
        raw_pages.append(measured)
    partitions = []
    for _ in range(rounds):
        with Measured(counter) as measured:
            assert raw_partition() == total
        partitions.append(measured)

    baseline = statistics.median(m.ms for m in raw_pages)

    def row(name: str, samples: list[Measured]) -> tuple[str, str, str, str, str]:
        ms = statistics.median(m.ms for m in samples)
        last = samples[-1]
        detail = ", ".join(f"{op} {n}" for op, n in sorted(last.calls.items()))
        return (name, f"{ms:.1f}", f"{ms / baseline:.1f}x", str(last.items), detail)

    middle = len(walks[0]) // 2
    rows = [
        row("first page (startIndex=1)", [w[0] for w in walks]),
        row(f"middle page (startIndex={middle * count + 1})", [w[middle] for w in walks]),
        row(f"last full page (startIndex={(len(walks[0]) - 2) * count + 1})", [w[-2] for w in walks]),
        row(f"any page, median of the {len(walks[0])} of each walk", [p for w in walks for p in w]),
        row(f"page without a cursor (startIndex={late})", random_access),
        row(f"baseline: raw boto3 Query of one page (Limit={count})", raw_pages),
        row("raw read of the whole partition (each page before)", partitions),
    ]
    print(f"\n{total} members, count={count}, {rounds} rounds (median ms; requests and items of the last sample)")
    print(table(rows, ("request", "ms", "vs raw page", "items read", "DynamoDB requests")))
    items = [sum(p.items for p in w) for w in walks]
    requests = [sum(sum(p.calls.values()) for p in w) for w in walks]
    print(
        f"\nfull sync: {len(walks[0])} pages, {statistics.median(syncs):.2f} s median"
        f" ({', '.join(f'{s:.2f}' for s in syncs)} s), {items[-1]} items read, {requests[-1]} DynamoDB requests"
    )


if __name__ == "__main__":
    main()
