"""Verification in one round trip: the secret names its member, token and member come in one BatchGetItem.

On both backends (moto and DynamoDB Local), counted at the botocore client.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from chalicelib.secrets import hash_secret, new_secret
from chalicelib.services import tokens
from chalicelib.storage.members import MemberModel
from chalicelib.storage.tokens import TokenModel
from tests.support.helpers import Api, Seed, seed_org


@pytest.fixture
def world(tables: str) -> tuple[Api, Seed]:
    api = Api()
    return api, seed_org(api)


def seated_token(api: Api, seed: Seed, key: str, account_id: str) -> str:
    assert api.post(f"/v1/orgs/{seed.org_id}/members/{account_id}/seat?notify=false", seed.admin.key).status == 200
    made = api.post(f"/v1/orgs/{seed.org_id}/tokens", key, {"name": "ci"})
    assert made.status == 201, made.body
    return str(made.body["secret"])


def verify(api: Api, secret: str) -> dict[str, Any]:
    r = api.post("/v1/tokens/verify", None, {"token": secret})
    assert r.status == 200, r.body
    return dict(r.body)


def test_a_valid_token_verifies_in_one_request(world: tuple[Api, Seed], dynamodb_calls: Counter[str]) -> None:
    api, seed = world
    secret = seated_token(api, seed, seed.member.key, seed.member.account_id)
    assert tokens.member_address(secret) == (seed.org_id, seed.member.account_id)
    assert verify(api, secret)["active"] is True  # the first use records last_used_at (one update an hour)
    dynamodb_calls.clear()
    answer = verify(api, secret)
    assert answer["active"] is True and answer["account_id"] == seed.member.account_id
    assert dynamodb_calls == Counter({"BatchGetItem": 1}), dynamodb_calls


def test_revoking_the_seat_kills_it_at_once(world: tuple[Api, Seed]) -> None:
    api, seed = world
    secret = seated_token(api, seed, seed.member.key, seed.member.account_id)
    assert verify(api, secret)["active"] is True
    path = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat"
    assert api.delete(path, seed.admin.key).status in (200, 204)
    assert verify(api, secret) == {"active": False}  # the member item read in the same request says so


def test_a_secret_naming_another_member_is_inactive(world: tuple[Api, Seed], dynamodb_calls: Counter[str]) -> None:
    api, seed = world
    mine = seated_token(api, seed, seed.member.key, seed.member.account_id)
    seated_token(api, seed, seed.billing.key, seed.billing.account_id)  # the other member holds a seat too
    random_part = mine[len("oat_") + 40 :]
    other_hex = seed.org_id.removeprefix("org_") + seed.billing.account_id.removeprefix("acc_")
    forged = f"oat_{other_hex}{random_part}"
    assert verify(api, forged) == {"active": False}  # no such token
    # Even a token item under the forged secret's hash is refused when it is not that member's.
    stored = TokenModel.get(hash_secret(mine), consistent_read=True)
    twin = TokenModel(hash_secret(forged), **{k: v for k, v in stored.attribute_values.items() if k != "token_hash"})
    twin.save()
    assert twin.account_id == seed.member.account_id
    assert verify(api, forged) == {"active": False}
    assert verify(api, mine)["active"] is True


def test_tokens_of_the_earlier_shape_keep_verifying(world: tuple[Api, Seed], dynamodb_calls: Counter[str]) -> None:
    api, seed = world
    secret = seated_token(api, seed, seed.member.key, seed.member.account_id)
    stored = TokenModel.get(hash_secret(secret), consistent_read=True)
    plain = new_secret("oat")  # "oat_" + random: no member address
    assert tokens.member_address(plain) is None
    TokenModel(hash_secret(plain), **{k: v for k, v in stored.attribute_values.items() if k != "token_hash"}).save()
    assert verify(api, plain)["active"] is True
    dynamodb_calls.clear()
    assert verify(api, plain)["active"] is True
    assert dynamodb_calls == Counter({"GetItem": 2}), dynamodb_calls  # token, then member
    MemberModel(seed.org_id, seed.member.account_id).update(actions=[MemberModel.has_seat.set(False)])
    assert verify(api, plain) == {"active": False}


def test_unknown_and_malformed_secrets(world: tuple[Api, Seed], dynamodb_calls: Counter[str]) -> None:
    api, _ = world
    dynamodb_calls.clear()
    assert verify(api, "oat_" + "0" * 40 + "x" * 43) == {"active": False}
    assert dynamodb_calls == Counter({"BatchGetItem": 1})
    dynamodb_calls.clear()
    assert verify(api, "oat_" + "A" * 43) == {"active": False}
    assert dynamodb_calls == Counter({"GetItem": 1})
    dynamodb_calls.clear()
    assert verify(api, "not a token") == {"active": False}
    assert dynamodb_calls == Counter()


def test_verify_answers_503_when_the_batch_read_is_throttled(
    world: tuple[Api, Seed], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.storage import base as storage_base

    class Throttled:
        def batch_get_item(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "BatchGetItem")

    api, seed = world
    secret = seated_token(api, seed, seed.member.key, seed.member.account_id)
    monkeypatch.setattr(storage_base, "bound_client", lambda: Throttled())
    r = api.post("/v1/tokens/verify", None, {"token": secret})
    assert r.status == 503 and r.code == "service_unavailable"
