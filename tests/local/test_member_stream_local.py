"""End to end on DynamoDB Local: HTTP calls, the table's own stream records, the real stream handler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3

from chalicelib.config import get_settings
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.members import MemberModel
from chalicelib.storage.schema import stream_arn
from tests.support.helpers import Api, seed_org
from tests.support.member_stream import deliver


def stream_records() -> list[dict[str, Any]]:
    """Every record of the Members stream so far, shaped as Lambda delivers them."""
    arn = stream_arn(MemberModel)
    assert arn
    streams = boto3.client("dynamodbstreams", endpoint_url=get_settings().dynamodb_endpoint, region_name="us-east-1")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                created = record["dynamodb"].get("ApproximateCreationDateTime")
                if isinstance(created, datetime):
                    record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
                records.append(dict(record, eventSourceARN=arn))
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def test_cascade_and_seat_email_from_the_real_stream(local_tables: str) -> None:
    mailer = MemoryMailer()
    reset_mailer(mailer)
    try:
        api = Api()
        seed = seed_org(api)
        member = seed.member
        seat_path = f"/v1/orgs/{seed.org_id}/members/{member.account_id}/seat"
        assert api.post(seat_path, seed.admin.key).status == 200
        first = stream_records()
        assert deliver(*first)["seat_emails"] == 1
        issued = [api.post(f"/v1/orgs/{seed.org_id}/tokens", member.key, {"name": f"t{i}"}).body for i in range(5)]
        assert api.delete(seat_path, seed.admin.key).status == 204
        # Billing manager: seated, one token, then removed from the org.
        api.post(f"/v1/orgs/{seed.org_id}/members/{seed.billing.account_id}/seat?notify=false", seed.admin.key)
        billing_token = api.post(f"/v1/orgs/{seed.org_id}/tokens", seed.billing.key, {"name": "b"}).body
        assert api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.billing.account_id}", seed.admin.key).status == 204

        batch = stream_records()[len(first) :]
        assert {r["eventName"] for r in batch} == {"MODIFY", "REMOVE"}
        result = deliver(*batch)
        assert result["tokens_revoked"] == 6 and result["seat_emails"] == 0

        listed = api.get(f"/v1/orgs/{seed.org_id}/tokens", member.key).body["items"]
        assert {t["token_id"] for t in listed} == {t["token_id"] for t in issued}
        assert {(t["status"], t["revoked_reason"]) for t in listed} == {("revoked", "seat_revoked")}
        for token in [*issued, billing_token]:
            assert api.post("/v1/tokens/verify", None, {"token": token["secret"]}).body == {"active": False}
        assert [m.to for m in mailer.sent] == [member.email]

        # Replay everything, including the records the handler's own claim produced.
        replay = deliver(*stream_records())
        assert replay["tokens_revoked"] == 0 and replay["seat_emails"] == 0
        assert len(mailer.sent) == 1
    finally:
        reset_mailer(None)
