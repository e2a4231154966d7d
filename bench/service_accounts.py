"""Benchmark: service accounts' token grant and token check against DynamoDB Local.

Reports DynamoDB requests per grant (``service_accounts.grant``) and per
token check (``service_accounts.authenticate``, the start of every REST
request made with a service account's token), and their p50/p99 latency as
ratios against raw boto3 calls measured in the same run, interleaved: a
consistent ``get_item`` (the baseline of the grant's read and of a check) and a
consistent ``batch_get_item`` of the same three keys a check reads (token and
account, and the maker's member item in the Members table).
Targets: a grant is 1 read + 1 transaction (the maker's membership is a
condition of it); a check is 1 request.

Run: python -m bench.service_accounts [--n 500]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from .common import RequestCounter, local_backend, percentiles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500, help="grants and checks each")
    args = parser.parse_args()
    counter = RequestCounter()
    counter.install()
    with local_backend() as ddb:
        import boto3

        from chalicelib.domain.models import Actor
        from chalicelib.domain.roles import Scope
        from chalicelib.secrets import hash_secret
        from chalicelib.services import bootstrap, service_accounts
        from chalicelib.storage.members import MemberModel
        from chalicelib.storage.service_accounts import ACCOUNT, ServiceAccountModel, token_item

        boot = bootstrap.bootstrap("Bench", "admin@bench.test")
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
        account, _, secret = service_accounts.create(
            boot.org_id, actor, "bench", frozenset({Scope.MEMBERS_READ, Scope.SEATS_WRITE})
        )
        token = service_accounts.grant(account.sa_id, secret, None, basic=True).access_token
        raw = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
        table = ServiceAccountModel.Meta.table_name
        account_key = {"sa_id": {"S": account.sa_id}, "item": {"S": ACCOUNT}}
        token_key = {"sa_id": {"S": account.sa_id}, "item": {"S": token_item(hash_secret(token))}}
        maker_key = {"org_id": {"S": boot.org_id}, "account_id": {"S": boot.account_id}}
        members_table = MemberModel.Meta.table_name

        def raw_get(_: Any) -> None:
            raw.get_item(TableName=table, Key=account_key, ConsistentRead=True)

        def raw_batch(_: Any) -> None:
            raw.batch_get_item(
                RequestItems={
                    table: {"Keys": [account_key, token_key], "ConsistentRead": True},
                    members_table: {"Keys": [maker_key], "ConsistentRead": True},
                }
            )

        def grant(_: Any) -> None:
            service_accounts.grant(account.sa_id, secret, None, basic=True)

        def check(_: Any) -> None:
            service_accounts.authenticate(token, "bench")

        series: dict[str, tuple[Any, list[float], list[int]]] = {
            name: (fn, [], [])
            for name, fn in (
                ("raw_get_item", raw_get),
                ("raw_batch_get_item", raw_batch),
                ("grant", grant),
                ("check", check),
            )
        }
        for _ in range(30):  # warm-up of every client
            for fn, _ms, _req in series.values():
                fn(None)
        for _ in range(args.n):  # interleaved: load from elsewhere hits every series alike
            for fn, ms, req in series.values():
                before = counter.total
                start = time.perf_counter()
                fn(None)
                ms.append((time.perf_counter() - start) * 1000)
                req.append(counter.total - before)
        p = {name: percentiles(ms) for name, (_, ms, _) in series.items()}
        report: dict[str, Any] = {
            "runs_per_series": args.n,
            "latency_ms": p,
            "requests": {name: {"max": max(req), "mean": sum(req) / len(req)} for name, (_, _, req) in series.items()},
            "p50_ratio_check_to_raw_batch_get_item": p["check"]["p50"] / p["raw_batch_get_item"]["p50"],
            "p50_ratio_check_to_raw_get_item": p["check"]["p50"] / p["raw_get_item"]["p50"],
            "p50_ratio_grant_to_raw_get_item": p["grant"]["p50"] / p["raw_get_item"]["p50"],
        }
        report["targets_met"] = {
            "check_1_request": report["requests"]["check"]["max"] == 1,
            "grant_2_requests": report["requests"]["grant"]["max"] == 2,
        }
        print(json.dumps(report, indent=2, default=lambda v: round(v, 3)))


if __name__ == "__main__":
    main()
