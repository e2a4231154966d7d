"""Benchmark: the revocation cascade for a member with many tokens, against DynamoDB Local.

Revokes the seat of a member holding ``--tokens`` access tokens, hands the
real-shaped Members stream record to the real stream handler, and reports
the DynamoDB requests it used (target <= ceil(n/25) + 2) and its wall time,
then a replay of the same record (target: nothing written). For comparison
it measures the alternative design, one conditional UpdateItem per token
sent in parallel, on a second member.

Run: python -m bench.cascade [--tokens 100]
"""

from __future__ import annotations

import argparse
import json
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import RequestCounter, local_backend, verify_domain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=100)
    args = parser.parse_args()
    counter = RequestCounter()
    counter.install()
    with local_backend():
        from chalice.test import Client

        from app import app
        from chalicelib.clock import now
        from chalicelib.domain.models import Actor
        from chalicelib.domain.roles import Role
        from chalicelib.services import bootstrap, members, seats, tokens
        from chalicelib.storage.base import client
        from chalicelib.storage.members import MemberModel
        from chalicelib.storage.tokens import TokenModel, access_token_owner

        boot = bootstrap.bootstrap("Bench", "admin@bench.test", seat_capacity=5)
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
        verify_domain(boot.org_id, boot.account_id, "bench.test")

        def member_with_tokens(email: str) -> str:
            member = members.add_member(boot.org_id, actor, email, Role.MEMBER).member
            assert member is not None
            seats.assign(boot.org_id, actor, member.account_id, notify=False)
            for i in range(args.tokens):
                tokens.issue_for(boot.org_id, actor, member.account_id, f"t{i}")
            return member.account_id

        def raw_member(account_id: str) -> dict[str, Any]:
            key = {"org_id": {"S": boot.org_id}, "account_id": {"S": account_id}}
            return dict(client().get_item(TableName=MemberModel.Meta.table_name, Key=key, ConsistentRead=True)["Item"])

        def active(account_id: str) -> int:
            owner = access_token_owner(boot.org_id, account_id)
            return sum(1 for t in TokenModel.by_owner.query(owner) if t.revoked_at is None)

        account_id = member_with_tokens("many@bench.test")
        old = raw_member(account_id)
        seats.revoke(boot.org_id, actor, account_id)
        new = raw_member(account_id)
        stream_record = {
            "eventID": uuid.uuid4().hex,
            "eventName": "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/members/stream/2026-01-01T00:00:00.000",
            "dynamodb": {
                "ApproximateCreationDateTime": float(int(time.time())),
                "Keys": {"org_id": old["org_id"], "account_id": old["account_id"]},
                "OldImage": old,
                "NewImage": new,
                "SequenceNumber": "1000000000000000000001",
                "SizeBytes": 512,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        lambda_client = Client(app).lambda_
        with counter.measure() as cascade_calls:
            start = time.perf_counter()
            result = lambda_client.invoke("on_member_change", {"Records": [stream_record]}).payload
            cascade_ms = (time.perf_counter() - start) * 1000
        assert result == {"batchItemFailures": []}, result
        assert active(account_id) == 0
        with counter.measure() as replay_calls:
            replay = lambda_client.invoke("on_member_change", {"Records": [stream_record]}).payload
        assert replay == {"batchItemFailures": []}, replay

        # The alternative: one conditional UpdateItem per token, 16 in flight.
        other = member_with_tokens("parallel@bench.test")
        owner = access_token_owner(boot.org_id, other)
        with counter.measure() as parallel_calls:
            start = time.perf_counter()
            items = list(TokenModel.by_owner.query(owner, filter_condition=TokenModel.revoked_at.does_not_exist()))
            stamp = now()

            def revoke(item: TokenModel) -> None:
                item.update(
                    actions=[TokenModel.revoked_at.set(stamp), TokenModel.revoked_reason.set("seat_revoked")],
                    condition=TokenModel.revoked_at.does_not_exist(),
                )

            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(revoke, items))
            parallel_ms = (time.perf_counter() - start) * 1000
        assert active(other) == 0

        target = math.ceil(args.tokens / 25) + 2
        report = {
            "tokens": args.tokens,
            "cascade_requests": sum(cascade_calls.values()),
            "cascade_requests_by_operation": dict(cascade_calls),
            "cascade_wall_ms": round(cascade_ms, 1),
            "target_requests": target,
            "target_met": sum(cascade_calls.values()) <= target,
            "replay_requests": sum(replay_calls.values()),
            "replay_requests_by_operation": dict(replay_calls),
            "alternative_parallel_updates": {
                "requests": sum(parallel_calls.values()),
                "wall_ms": round(parallel_ms, 1),
            },
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
