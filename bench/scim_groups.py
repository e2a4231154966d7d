"""SCIM group changes at size: one PATCH adding 1,000 members to a seat-granting group, on DynamoDB Local.

Each series runs on its own org of ``--members`` seatless members (batch
writes) with a group mapped to a seat: the PATCH through the Chalice local
gateway in process (SCIM token, reads, planning, transactional writes,
rendering), counting DynamoDB requests at the botocore client; the same
PATCH refused (one seat short) and a PATCH removing everyone; then, as the
baseline, raw boto3 ``transact_write_items`` of the same items (per member:
the member update, the membership put, the seat audit record; per
transaction: the org counter and the change's audit record), 100 items per
transaction, unconditioned, in the same run.

    python -m bench.scim_groups [--members 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from typing import Any

from .common import RequestCounter, local_backend

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def seed_org(count: int, capacity: int) -> tuple[str, str, list[str]]:
    """(org id, admin account id, member ids): members written directly, then a seat-granting group."""
    from chalicelib.clock import now
    from chalicelib.services import bootstrap
    from chalicelib.storage.members import MemberModel
    from chalicelib.storage.orgs import OrgModel

    boot = bootstrap.bootstrap("Bench", f"admin-{uuid.uuid4().hex[:6]}@bench.example", seat_capacity=capacity)
    stamp = now()
    ids = [f"acc_bench{i:05d}" for i in range(count)]
    with MemberModel.batch_write() as batch:
        for i, account_id in enumerate(ids):
            batch.save(
                MemberModel(
                    boot.org_id,
                    account_id,
                    email=f"user{i:05d}@bench.example",
                    role="member",
                    has_seat=False,
                    seat_generation=0,
                    joined_at=stamp,
                    updated_at=stamp,
                )
            )
    OrgModel(boot.org_id).update(actions=[OrgModel.member_count.add(count)])
    return boot.org_id, boot.account_id, ids


def seat_group(org_id: str, admin_id: str) -> str:
    from chalicelib.domain.models import Actor
    from chalicelib.services import groups

    actor = Actor(actor=f"account:{admin_id}", request_id="bench", account_id=admin_id)

    def want(group: Any, holders: Any) -> groups.Wanted:
        return groups.Wanted("Everyone", None, set(), None, True)

    return groups.change(org_id, actor, None, want, action="group.created").group_id


def scim_token(org_id: str, admin_id: str) -> str:
    from chalicelib.domain.models import Actor
    from chalicelib.services import scim_tokens

    actor = Actor(actor=f"account:{admin_id}", request_id="bench", account_id=admin_id)
    return scim_tokens.issue(org_id, actor, "bench")[1]


def patch(http: Any, secret: str, group_id: str, operations: list[dict[str, Any]]) -> int:
    response = http.http.request(
        "PATCH",
        f"/scim/v2/Groups/{group_id}",
        headers={"Content-Type": "application/scim+json", "Authorization": f"Bearer {secret}"},
        body=json.dumps({"schemas": [PATCH_OP], "Operations": operations}),
    )
    return int(response.status_code)


def raw_items(org_id: str, group_id: str, ids: list[str], tables: dict[str, str]) -> list[list[dict[str, Any]]]:
    """The PATCH's writes as plain TransactItems, 100 per transaction (org counter and audit in each)."""
    stamp = "2026-01-01T00:00:00.000000+0000"
    per_tx = (100 - 2) // 3
    batches = []
    for start in range(0, len(ids), per_tx):
        chunk = ids[start : start + per_tx]
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": tables["orgs"],
                    "Key": {"org_id": {"S": org_id}},
                    "UpdateExpression": "ADD seats_used :n",
                    "ExpressionAttributeValues": {":n": {"N": str(len(chunk))}},
                }
            },
            {
                "Put": {
                    "TableName": tables["audit"],
                    "Item": {"org_id": {"S": org_id}, "sk": {"S": f"{stamp}#raw{start}"}, "action": {"S": "raw"}},
                }
            },
        ]
        for account_id in chunk:
            items += [
                {
                    "Update": {
                        "TableName": tables["members"],
                        "Key": {"org_id": {"S": org_id}, "account_id": {"S": account_id}},
                        "UpdateExpression": "SET has_seat = :t, seat_assigned_at = :s, updated_at = :s"
                        " ADD group_ids :g",
                        "ExpressionAttributeValues": {
                            ":t": {"BOOL": True},
                            ":s": {"S": stamp},
                            ":g": {"SS": [group_id]},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": tables["group_members"],
                        "Item": {
                            "group_key": {"S": f"{org_id}#{group_id}"},
                            "account_id": {"S": account_id},
                            "added_at": {"S": stamp},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": tables["audit"],
                        "Item": {
                            "org_id": {"S": org_id},
                            "sk": {"S": f"{stamp}#raw-{account_id}"},
                            "action": {"S": "seat.assigned"},
                        },
                    }
                },
            ]
        batches.append(items)
    return batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counter = RequestCounter().install()
    with local_backend("benchgroups") as ddb:
        import boto3
        from chalice.test import Client

        from app import app
        from chalicelib.storage.audit import AuditModel
        from chalicelib.storage.groups import GroupMemberModel
        from chalicelib.storage.members import MemberModel
        from chalicelib.storage.orgs import OrgModel

        http = Client(app)
        raw = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
        tables = {
            "orgs": str(OrgModel.Meta.table_name),
            "audit": str(AuditModel.Meta.table_name),
            "members": str(MemberModel.Meta.table_name),
            "group_members": str(GroupMemberModel.Meta.table_name),
        }
        rows: dict[str, list[tuple[float, dict[str, int]]]] = {}

        def record(name: str, seconds: float, calls: dict[str, int]) -> None:
            rows.setdefault(name, []).append((seconds, dict(calls)))

        for _ in range(args.rounds):
            org_id, admin_id, ids = seed_org(args.members, capacity=args.members - 1)
            group_id = seat_group(org_id, admin_id)
            secret = scim_token(org_id, admin_id)
            add = [{"op": "add", "path": "members", "value": [{"value": a} for a in ids]}]
            patch(http, secret, group_id, [{"op": "remove", "path": "members"}])  # warm the SCIM imports
            with counter.measure() as calls:
                start = time.perf_counter()
                assert patch(http, secret, group_id, add) == 400
                elapsed = time.perf_counter() - start
            record("PATCH refused (one seat short)", elapsed, calls)
            OrgModel(org_id).update(actions=[OrgModel.seat_capacity.set(args.members)])
            with counter.measure() as calls:
                start = time.perf_counter()
                assert patch(http, secret, group_id, add) == 200
                elapsed = time.perf_counter() - start
            record(f"PATCH adding {args.members} (seats granted)", elapsed, calls)
            org = OrgModel.get(org_id, consistent_read=True)
            assert org.seats_used == args.members
            with counter.measure() as calls:
                start = time.perf_counter()
                assert patch(http, secret, group_id, [{"op": "remove", "path": "members"}]) == 200
                elapsed = time.perf_counter() - start
            record(f"PATCH removing {args.members} (seats revoked)", elapsed, calls)

            org_id, _, ids = seed_org(args.members, capacity=args.members)
            batches = raw_items(org_id, "grp_raw", ids, tables)
            with counter.measure() as calls:
                start = time.perf_counter()
                for items in batches:
                    raw.transact_write_items(TransactItems=items)
                elapsed = time.perf_counter() - start
            record("baseline: raw transact_write_items, same items", elapsed, calls)

        print(f"{args.members} members, {args.rounds} rounds (median wall time; requests of the last round)")
        baseline = statistics.median(s for s, _ in rows["baseline: raw transact_write_items, same items"])
        for name, samples in rows.items():
            wall = statistics.median(s for s, _ in samples)
            calls = samples[-1][1]
            total = sum(calls.values())
            detail = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
            print(f"{name:48s} {wall:7.2f} s  {wall / baseline:5.2f}x  {total:4d} requests ({detail})")


if __name__ == "__main__":
    main()
