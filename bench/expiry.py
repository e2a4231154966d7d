"""Expiry job cost: 20,000 pending invitations of which 100 are due, on DynamoDB Local.

The job reads the sparse ``pending_by_expiry`` index with ``expires_at <= now``
per shard, so what it reads follows the due items, not the table. Reported:
items read by the job (counted from the Query responses' ScannedCount by a
botocore hook) per expired invitation (target <= 1.1), requests, wall time;
and, as the baseline in the same run, what a full Scan of the table with a
filter would have read to find the same 100.
Run: ``python -m bench.expiry``
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import boto3

from .common import RequestCounter, local_backend, stopwatch, table

PENDING = 20_000
DUE = 100


def main() -> int:
    with local_backend("bench-expiry-") as ddb:
        from chalicelib.clock import iso, set_clock
        from chalicelib.config import get_settings
        from chalicelib.domain.invitations import InviteItem
        from chalicelib.domain.models import Actor
        from chalicelib.services import bootstrap, invitation_expiry, invitations
        from chalicelib.storage.invitations import InvitationModel

        counter = RequestCounter().install()
        start = datetime.now(UTC)
        boot = bootstrap.bootstrap("Expiry bench", "admin@expiry.example")
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
        # The due ones go through the real service, issued eight days ago.
        set_clock(lambda: start - timedelta(days=8))
        invitations.invite(boot.org_id, actor, [InviteItem(f"due{i}@expiry.example") for i in range(DUE)])
        set_clock(None)
        # The rest: the same item shape, issued now, loaded with raw batch writes to keep the setup short.
        template = next(iter(InvitationModel.query(boot.org_id, InvitationModel.invitation_id.startswith("inv_"))))
        raw = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name=get_settings().aws_region)
        name = InvitationModel.Meta.table_name
        fresh_expiry = iso(start + timedelta(days=get_settings().invitation_ttl_days))
        batch: list[dict] = []
        for i in range(PENDING - DUE):
            item = template.serialize()
            invitation_id = f"inv_{i:024x}"
            item.update(
                invitation_id={"S": invitation_id},
                email={"S": f"later{i}@expiry.example"},
                expires_at={"S": fresh_expiry},
                pending_shard={"S": f"p{i % 8}"},
            )
            batch.append({"PutRequest": {"Item": item}})
            if len(batch) == 25 or i == PENDING - DUE - 1:
                pending: dict = {name: batch}
                while pending:
                    pending = raw.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                batch = []

        with counter.measuring(), stopwatch() as took:
            run = invitation_expiry.expire_due("bench-run-1")
        job_read, job_calls, job_wall = counter.items_read, dict(counter.calls), took[0]
        with counter.measuring(), stopwatch() as took:
            again = invitation_expiry.expire_due("bench-run-2")
        rerun_read, rerun_calls, rerun_wall = counter.items_read, dict(counter.calls), took[0]

        scanned = 0
        with stopwatch() as took:
            paginator = raw.get_paginator("scan")
            for page in paginator.paginate(
                TableName=name,
                FilterExpression="#s = :p AND expires_at <= :n",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": "pending"}, ":n": {"S": iso(datetime.now(UTC))}},
            ):
                scanned += page["ScannedCount"]
        scan_wall = took[0]

    def ops(calls: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))

    rows = [
        (
            "expiry job",
            run.expired,
            job_read,
            f"{job_read / max(run.expired, 1):.2f}",
            sum(job_calls.values()),
            f"{job_wall:.3f}",
            ops(job_calls),
        ),
        (
            "expiry job, second run",
            again.expired,
            rerun_read,
            "-",
            sum(rerun_calls.values()),
            f"{rerun_wall:.3f}",
            ops(rerun_calls),
        ),
        ("baseline: filtered Scan", DUE, scanned, f"{scanned / DUE:.2f}", "-", f"{scan_wall:.3f}", "Scan"),
    ]
    print(f"{PENDING} pending invitations, {DUE} due\n")
    print(table(rows, ("path", "expired", "items read", "read per expired", "requests", "wall s", "by operation")))
    per_expired = job_read / max(run.expired, 1)
    print(f"\nitems read per expired invitation: {per_expired:.2f} (target <= 1.1)")
    return 0 if run.expired == DUE and again.expired == 0 and per_expired <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
