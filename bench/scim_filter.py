"""SCIM ``GET /Users?filter=userName eq "…"`` on an org of 10,000 members, on DynamoDB Local.

Measures the latency of the whole request (in process through the Chalice
local gateway: token check, query, SCIM rendering) and the DynamoDB requests
it makes, counted at the botocore client; compares with a raw boto3 Query on
the same LSI key measured in the same run, and with an unindexed filter
(``externalId eq``) that must read the org's whole partition.

    python -m bench.scim_filter [--members 10000] [--lookups 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .common import RequestCounter, local_backend


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms"


def seed_members(org_id: str, count: int) -> list[str]:
    from chalicelib.clock import now
    from chalicelib.storage.members import MemberModel
    from chalicelib.storage.orgs import OrgModel

    stamp = now()
    emails = [f"user{i:05d}-{uuid.uuid4().hex[:6]}@bench.example" for i in range(count)]
    with MemberModel.batch_write() as batch:
        for i, email in enumerate(emails):
            batch.save(
                MemberModel(
                    org_id,
                    f"acc_bench{i:06d}",
                    email=email,
                    role="member",
                    has_seat=False,
                    seat_generation=0,
                    external_id=f"ext-{i}",
                    joined_at=stamp,
                    updated_at=stamp,
                )
            )
    OrgModel(org_id).update(actions=[OrgModel.member_count.add(count)])
    return emails


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()

    counter = RequestCounter().install()
    with local_backend("scim"):
        run(args.members, args.lookups, counter)


def run(member_count: int, lookups: int, counter: RequestCounter) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.domain.models import Actor
    from chalicelib.services import bootstrap, scim_tokens
    from chalicelib.storage.base import client
    from chalicelib.storage.members import MemberModel

    boot = bootstrap.bootstrap("Bench", "admin@bench.example", seat_capacity=member_count + 10)
    started = time.perf_counter()
    emails = seed_members(boot.org_id, member_count)
    print(f"seeded {member_count} members with batch writes in {time.perf_counter() - started:.1f} s")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
    _, secret = scim_tokens.issue(boot.org_id, actor, "bench")
    http = Client(app).http
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/scim+json"}
    rng = random.Random(7)

    def scim_get(query: str) -> dict[str, Any]:
        response = http.request("GET", f"/scim/v2/Users?filter={quote(query)}", headers=headers)
        assert response.status_code == 200, response.body
        return dict(json.loads(response.body))

    def user_name_eq() -> None:
        body = scim_get(f'userName eq "{rng.choice(emails)}"')
        assert body["totalResults"] == 1

    raw = client()
    table = MemberModel.Meta.table_name

    def raw_query() -> None:
        found = raw.query(
            TableName=table,
            IndexName="by_email",
            KeyConditionExpression="org_id = :o AND email = :e",
            ExpressionAttributeValues={":o": {"S": boot.org_id}, ":e": {"S": rng.choice(emails)}},
            ConsistentRead=True,
        )
        assert found["Count"] == 1

    timed(user_name_eq, 10)
    timed(raw_query, 10)
    with counter.measure() as calls:
        user_name_eq()
    scim_samples = timed(user_name_eq, lookups)
    raw_samples = timed(raw_query, lookups)
    with counter.measure() as scan_calls:
        started = time.perf_counter()
        body = scim_get(f'externalId eq "ext-{member_count // 2}"')
        unindexed_ms = (time.perf_counter() - started) * 1000
    assert body["totalResults"] == 1
    # The worst filter a client may send: 100 terms (the cap), none indexed, each evaluated per member.
    widest = " or ".join(f'title co "t{n}"' for n in range(100))
    wide_samples = []
    for _ in range(3):
        started = time.perf_counter()
        body = scim_get(widest)
        wide_samples.append((time.perf_counter() - started) * 1000)
    assert body["totalResults"] == 0
    unindexed_samples = []
    for _ in range(3):
        started = time.perf_counter()
        scim_get(f'externalId eq "ext-{member_count // 3}"')
        unindexed_samples.append((time.perf_counter() - started) * 1000)

    print(f'\nGET /scim/v2/Users?filter=userName eq "..."  ({lookups} lookups, org of {member_count} members)')
    print(f"  SCIM request (in process)      {summary(scim_samples)}   DynamoDB requests: {dict(calls)}")
    print(f"  raw boto3 Query on by_email    {summary(raw_samples)}   DynamoDB requests: {{'Query': 1}}")
    print('\nGET /scim/v2/Users?filter=externalId eq "..."  (unindexed: reads the org\'s partition)')
    print(f"  one request                    {unindexed_ms:9.1f} ms          DynamoDB requests: {dict(scan_calls)}")
    print(f"  3 more, median                 {statistics.median(unindexed_samples):9.1f} ms")
    print("\nGET /scim/v2/Users?filter=title co ... (100 terms, the cap; unindexed)")
    wide_ms = statistics.median(wide_samples)
    print(f"  3 requests, median             {wide_ms:9.1f} ms   ({wide_ms / member_count * 1000:.0f} us a member)")
    extra = wide_ms - statistics.median(unindexed_samples)
    print(f"  beyond the 1-term filter       {extra:9.1f} ms   ({extra / member_count * 1000:.0f} us a member)")


if __name__ == "__main__":
    main()
