"""Bulk invite: a 1,000-row CSV into a fresh org on DynamoDB Local, through the HTTP handler.

Measures wall time and DynamoDB requests of the upload (authentication,
authorization, the org's age for its quota, 25 transactions of 40 invitations + 40
audit records, the first also charging the daily quotas of the org and the account), and a
baseline in the same run: the same 1,000 invitation items written with raw
boto3 ``batch_write_item`` (no conditions, no audit). Targets: <= 30
requests, wall time <= 3x the baseline.
Run: ``python -m bench.bulk_invite``
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import boto3

from .common import RequestCounter, local_backend, stopwatch, table

ROWS = 1000


def csv_body(n: int) -> bytes:
    lines = ["\ufeffemail,name,role"] + [f"person{i}@bulk.example,Person {i},member" for i in range(n)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main(rounds: int = 3) -> int:
    # A fresh org is a new org: its daily invitation limit (200 by default) would refuse most of
    # the upload. The limits are raised just enough, so the quota charge is still in every upload.
    os.environ.update(
        {
            "INVITATIONS_PER_NEW_ORG_DAY": str(ROWS + 1),
            "INVITATIONS_PER_ACCOUNT_DAY": str(ROWS + 1),
        }
    )
    with local_backend("bench-bulk-") as ddb:
        from chalice.test import Client

        from app import app
        from chalicelib.config import get_settings
        from chalicelib.services import bootstrap
        from chalicelib.storage.invitations import InvitationModel

        counter = RequestCounter().install()
        raw = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name=get_settings().aws_region)
        client = Client(app)
        body = csv_body(ROWS)
        app_walls: list[float] = []
        base_walls: list[float] = []
        app_calls: dict[str, int] = {}
        base_requests = 0
        # Rounds alternate the two paths so that machine load hits both alike; medians are reported.
        for round_no in range(rounds):
            boot = bootstrap.bootstrap(f"Bench {round_no}", f"admin{round_no}@bench.example")
            headers = {"Authorization": f"Bearer {boot.api_key}", "Content-Type": "text/csv"}
            path = f"/v1/orgs/{boot.org_id}/invitations"
            client.http.post(path, headers=headers, body=b"email\r\nwarm@up.example\r\n")
            with counter.measuring(), stopwatch() as took:
                response = client.http.post(path, headers=headers, body=body)
            assert response.status_code == 200, response.body
            summary = json.loads(response.body)["summary"]
            assert summary["invited"] == ROWS, summary
            app_walls.append(took[0])
            app_calls = dict(counter.calls)

            # Baseline: the same rows, as stored, written with raw batch_write_item (25 items per request).
            items = [
                {**i.serialize(), "org_id": {"S": f"org_baseline{round_no}"}}
                for i in InvitationModel.query(boot.org_id)
                if i.email.startswith("person")
            ]
            base_requests = 0
            with stopwatch() as took:
                for start in range(0, len(items), 25):
                    chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                    pending: dict = {InvitationModel.Meta.table_name: chunk}
                    while pending:
                        base_requests += 1
                        pending = raw.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            base_walls.append(took[0])

    app_wall, base_wall = statistics.median(app_walls), statistics.median(base_walls)
    total = sum(app_calls.values())
    by_op = ", ".join(f"{k} {v}" for k, v in sorted(app_calls.items()))
    rows = [
        ("bulk invite (HTTP, CSV)", ROWS, f"{app_wall:.3f}", " ".join(f"{w:.2f}" for w in app_walls), total, by_op),
        ("raw batch_write_item", ROWS, f"{base_wall:.3f}", " ".join(f"{w:.2f}" for w in base_walls), base_requests, ""),
    ]
    print(table(rows, ("path", "rows", "median wall s", "rounds", "DynamoDB requests", "by operation")))
    ratio = app_wall / base_wall
    print(f"\nrequests: {total} (target <= 30); wall ratio: {ratio:.2f}x baseline (target <= 3x)")
    return 0 if total <= 30 and ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
