"""Benchmark: token verification (the channel servers' hot path) against DynamoDB Local.

Reports p50/p99 latency of the verify service and of the HTTP handler (both
in process), DynamoDB requests per verification for valid and unknown
tokens, and, as the baseline, a raw boto3 ``get_item`` in the same run.
Tokens are issued in the current shape (the secret names its member item, so
token and member come in one BatchGetItem).
Targets: 1 request for a valid token, <= 1 for an unknown one, verify
p50 <= 1.3x the raw get_item p50. A second baseline, a raw ``batch_get_item``
of the same two items (token and member, consistent), separates what the
service adds from what the one request itself costs.

Run: python -m bench.verify [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from .common import RequestCounter, local_backend, percentiles, verify_domain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000, help="verifications per kind (valid, unknown)")
    parser.add_argument("--tokens", type=int, default=20, help="distinct valid tokens")
    args = parser.parse_args()
    counter = RequestCounter()
    counter.install()
    with local_backend() as ddb:
        import boto3
        from chalice.test import Client

        from app import app
        from chalicelib.domain.models import Actor
        from chalicelib.domain.roles import Role
        from chalicelib.secrets import hash_secret, new_secret
        from chalicelib.services import bootstrap, members, seats, tokens
        from chalicelib.storage.members import MemberModel
        from chalicelib.storage.tokens import MEMBER_FIELDS_FOR_VERIFY, TokenModel

        boot = bootstrap.bootstrap("Bench", "admin@bench.test", seat_capacity=args.tokens)
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
        verify_domain(boot.org_id, boot.account_id, "bench.test")
        secrets: list[str] = []
        for i in range(args.tokens):
            member = members.add_member(boot.org_id, actor, f"user{i}@bench.test", Role.MEMBER).member
            assert member is not None
            seats.assign(boot.org_id, actor, member.account_id, notify=False)
            secrets.append(tokens.issue_for(boot.org_id, actor, member.account_id, "bench")[1])
        unknown = [new_secret("oat") for _ in range(args.n)]

        # First use of each token records last_used_at (the once-an-hour write); measured separately.
        first_use: list[int] = []
        for secret in secrets:
            with counter.measure() as used:
                assert tokens.verify(secret)["active"] is True
            first_use.append(sum(used.values()))

        raw = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
        table = TokenModel.Meta.table_name
        keys = [{"token_hash": {"S": hash_secret(secret)}} for secret in secrets]
        member_keys = [
            {"org_id": {"S": boot.org_id}, "account_id": {"S": item["account_id"]["S"]}}
            for item in (raw.get_item(TableName=table, Key=k, ConsistentRead=True)["Item"] for k in keys)
        ]

        def raw_batch(i: int) -> None:
            raw.batch_get_item(
                RequestItems={
                    table: {"Keys": [keys[i]], "ConsistentRead": True},
                    MemberModel.Meta.table_name: {
                        "Keys": [member_keys[i]],
                        "ConsistentRead": True,
                        "ProjectionExpression": ", ".join(MEMBER_FIELDS_FOR_VERIFY),
                    },
                }
            )

        http = Client(app)

        def over_http(secret: str) -> None:
            response = http.http.post(
                "/v1/tokens/verify",
                headers={"Content-Type": "application/json"},
                body=json.dumps({"token": secret}),
            )
            assert response.status_code == 200

        def timed(fn: Any, value: Any, latencies: list[float], requests: list[int]) -> None:
            before = counter.total
            start = time.perf_counter()
            fn(value)
            latencies.append((time.perf_counter() - start) * 1000)
            requests.append(counter.total - before)

        for _ in range(50):  # warm-up of every client
            raw.get_item(TableName=table, Key=keys[0], ConsistentRead=True)
            raw_batch(0)
            tokens.verify(secrets[0])
            tokens.verify(unknown[0])
            over_http(secrets[0])

        # Interleaved, so that load from elsewhere on the machine hits every series alike.
        raw_ms: list[float] = []
        batch_ms: list[float] = []
        valid_ms: list[float] = []
        unknown_ms: list[float] = []
        http_ms: list[float] = []
        raw_req: list[int] = []
        batch_req: list[int] = []
        valid_req: list[int] = []
        unknown_req: list[int] = []
        http_req: list[int] = []
        for i in range(args.n):
            secret = secrets[i % len(secrets)]
            # The baseline reads the same token item, consistently, as the verification after it.
            timed(
                lambda k: raw.get_item(TableName=table, Key=k, ConsistentRead=True),
                keys[i % len(keys)],
                raw_ms,
                raw_req,
            )
            timed(raw_batch, i % len(keys), batch_ms, batch_req)
            timed(lambda s: assert_active(tokens.verify(s), True), secret, valid_ms, valid_req)
            timed(lambda s: assert_active(tokens.verify(s), False), unknown[i], unknown_ms, unknown_req)
            timed(over_http, secret, http_ms, http_req)

        raw_p = percentiles(raw_ms)
        valid_p = percentiles(valid_ms)
        batch_p = percentiles(batch_ms)
        report = {
            "verifications_per_kind": args.n,
            "raw_get_item_ms": raw_p,
            "raw_batch_get_item_ms": batch_p,
            "verify_valid_ms": valid_p,
            "verify_unknown_ms": percentiles(unknown_ms),
            "verify_valid_via_handler_ms": percentiles(http_ms),
            "requests_valid": {"max": max(valid_req), "mean": sum(valid_req) / len(valid_req)},
            "requests_unknown": {"max": max(unknown_req), "mean": sum(unknown_req) / len(unknown_req)},
            "requests_valid_via_handler": {"max": max(http_req), "mean": sum(http_req) / len(http_req)},
            "requests_first_use_of_a_token": max(first_use),
            "p50_ratio_valid_to_raw_get_item": valid_p["p50"] / raw_p["p50"],
            "p50_ratio_valid_to_raw_batch_get_item": valid_p["p50"] / batch_p["p50"],
            "p50_ratio_raw_batch_to_raw_get_item": batch_p["p50"] / raw_p["p50"],
        }
        report["targets_met"] = {
            "valid_1_request": report["requests_valid"]["max"] <= 1,
            "unknown_<=1_request": report["requests_unknown"]["max"] <= 1,
            "p50_<=1.3x_get_item": report["p50_ratio_valid_to_raw_get_item"] <= 1.3,
        }
        print(json.dumps(report, indent=2, default=lambda v: round(v, 3)))


def assert_active(result: dict[str, Any], expected: bool) -> None:
    assert result["active"] is expected, result


if __name__ == "__main__":
    main()
