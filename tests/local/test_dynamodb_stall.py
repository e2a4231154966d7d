"""A DynamoDB that stops answering: 503 with Retry-After inside the time budget, never a 500, nothing lost.

DynamoDB Local sits behind a proxy that stalls (connections stay open, answers
never come), as a hung or partitioned DynamoDB would. The time budget is the
client's read timeout and retries from the settings (here 1 s and 1 retry).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest

from chalicelib.config import reset_settings
from chalicelib.services import sessions
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.invitations import InvitationModel
from chalicelib.storage.schema import delete_tables, ensure_tables
from local.dynamodb_local import DynamoDBLocal, client
from tests.conftest import use_backend
from tests.support.helpers import Api, Seed, seed_org
from tests.support.stall_proxy import StallProxy

READ_TIMEOUT, RETRIES = 1, 1
# (1 + retries) reads that time out, the retry's backoff (at most 1 s), and slack for a loaded machine.
BUDGET_SECONDS = (1 + RETRIES) * READ_TIMEOUT + 1 + 4


@pytest.fixture
def proxy(dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch) -> Iterator[StallProxy]:
    stalling = StallProxy(dynamodb_local.endpoint)
    monkeypatch.setenv("DYNAMODB_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT))
    monkeypatch.setenv("DYNAMODB_CONNECT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("DYNAMODB_MAX_RETRY_ATTEMPTS", str(RETRIES))
    for limit in ("INVITATIONS_PER_NEW_ORG_DAY", "INVITATIONS_PER_ORG_DAY", "INVITATIONS_PER_ACCOUNT_DAY"):
        monkeypatch.setenv(limit, "10000")
    use_backend(monkeypatch, stalling.endpoint)
    ensure_tables()
    yield stalling
    stalling.resume()
    delete_tables()
    stalling.close()
    reset_settings()


@pytest.fixture
def seeded(proxy: StallProxy) -> tuple[Api, Seed]:
    api = Api()
    return api, seed_org(api)


def timed(call: object) -> tuple[object, float]:
    started = time.monotonic()
    result = call()  # type: ignore[operator]
    return result, time.monotonic() - started


def test_a_stalled_dynamodb_answers_503_with_retry_after_on_every_surface(
    proxy: StallProxy, seeded: tuple[Api, Seed]
) -> None:
    api, seed = seeded
    members = f"/v1/orgs/{seed.org_id}/members"
    scim_headers = {"Accept": "application/scim+json"}
    session = sessions.start(seed.admin.account_id, seed.admin.email)
    proxy.stall()
    calls = {
        "json": lambda: api.get(members, seed.admin.key),
        "verify": lambda: api.post("/v1/tokens/verify", json_body={"token": "oat_" + "x" * 43}),
        "scim": lambda: api.get("/scim/v2/Users", "osc_" + "x" * 43, headers=scim_headers),
        "page": lambda: api.get("/profile", headers={"Cookie": f"session={session}"}),
    }
    for surface, call in calls.items():
        r, took = timed(call)
        assert r.status == 503, (surface, r.status, r.body)  # type: ignore[attr-defined]
        assert r.headers.get("Retry-After") == "1", (surface, r.headers)  # type: ignore[attr-defined]
        assert took < BUDGET_SECONDS, (surface, took)
        body = r.body  # type: ignore[attr-defined]
        if surface in ("json", "verify"):
            assert body["error"]["code"] == "service_unavailable", body
        elif surface == "scim":
            assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == "503"
        else:
            assert isinstance(body, str) and "busy right now" in body and "Traceback" not in body
    proxy.resume()
    assert api.get(members, seed.admin.key).status == 200  # back as soon as DynamoDB answers again


def everything_in(
    dynamodb_local: DynamoDBLocal, model: type[InvitationModel] | type[AuditModel], org_id: str
) -> list[dict]:
    """An org's items of one table, read past the proxy with boto3's own patient timeouts.

    The service's client keeps the stall's 1 s read timeout; the test's checks are not under
    test, and on a loaded machine a 1 s read of a few hundred items can time out.
    """
    pages = (
        client(dynamodb_local.endpoint)
        .get_paginator("query")
        .paginate(
            TableName=model.Meta.table_name,
            KeyConditionExpression="org_id = :org",
            ExpressionAttributeValues={":org": {"S": org_id}},
            ConsistentRead=True,
        )
    )
    return [item for page in pages for item in page["Items"]]


def test_a_bulk_invite_cut_by_a_stall_says_so_and_repeating_it_is_safe(
    dynamodb_local: DynamoDBLocal, proxy: StallProxy, seeded: tuple[Api, Seed]
) -> None:
    api, seed = seeded
    emails = [f"person{i:03d}@example.com" for i in range(300)]
    path = f"/v1/orgs/{seed.org_id}/invitations"
    # Two of the call's transactions reach DynamoDB; the third and the rest hang.
    proxy.stall_at("TransactWriteItems", proxy.seen["TransactWriteItems"] + 3)
    cut = api.post(path, seed.admin.key, {"emails": emails})
    assert cut.status == 503, cut.body
    assert proxy.stalled_at is not None
    assert time.monotonic() - proxy.stalled_at < BUDGET_SECONDS  # from the stall to the answer
    assert "part of its items" in cut.body["error"]["message"]
    proxy.resume()

    def pending() -> list[str]:
        items = everything_in(dynamodb_local, InvitationModel, seed.org_id)
        return [i["email"]["S"] for i in items if i["email"]["S"] in set(emails)]

    applied = len(pending())
    assert 0 < applied < len(emails), applied  # committed in part, as the answer warned

    # Repeating is safe, as the answer says: on a loaded machine a repeat may itself run out of
    # time (503) and apply part; the one after it finishes the job. A transaction whose answer
    # timed out may still commit after the 503, so the count read before a repeat is a floor
    # for what that repeat finds in place. Whatever it took, each address ends invited once,
    # with one audit record.
    for _ in range(5):
        applied = len(pending())
        again = api.post(path, seed.admin.key, {"emails": emails})
        if again.status != 503:
            break
    assert again.status == 200, again.body
    statuses = Counter(x["status"] for x in again.body["results"])
    assert set(statuses) <= {"already_invited", "invited"}, statuses
    assert statuses.total() == len(emails), statuses
    assert statuses["already_invited"] >= applied, (statuses, applied)
    assert sorted(pending()) == emails  # each once
    audit = everything_in(dynamodb_local, AuditModel, seed.org_id)
    created = [a for a in audit if a["action"]["S"] == "invitation.created"]
    assert len(created) == len(emails)  # one record per invitation, none lost, none twice
