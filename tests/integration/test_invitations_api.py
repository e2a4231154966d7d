"""Invitation calls one by one: bulk results, link errors, who may accept, listing, sign-in codes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from chalicelib.clock import set_clock
from chalicelib.domain.errors import DomainError
from chalicelib.domain.invitations import InviteItem
from chalicelib.domain.models import Actor
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import bootstrap, invitation_expiry, invitation_links, invitations, login_links, members
from chalicelib.storage.base import client, registered_models
from chalicelib.storage.invitations import InvitationModel, slot_id
from tests.support.console_support import deliver_signins, signin_code
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_stream, stream_batch


def invite(api: Api, seed: Seed, *emails: str) -> list[str]:
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": list(emails)})
    assert r.status == 200, r.body
    return [x["invitation_id"] for x in r.body["results"]]


def link(api: Api, seed: Seed, mailer: MemoryMailer, email: str) -> str:
    run_stream(stream_batch(seed.org_id))
    return links_to(mailer, email)[-1]


def test_bulk_resend_and_remove_report_per_item(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    a, b, c = invite(api, seed, "a@example.com", "b@example.com", "c@example.com")
    assert api.post(f"/v1/invitations/{link(api, seed, mailer, 'c@example.com')}/accept").status == 200
    base = f"/v1/orgs/{seed.org_id}/invitations"
    removed = api.post(f"{base}/remove", seed.admin.key, {"invitation_ids": [a, a, c, "inv_" + "0" * 24, "nope"]})
    assert removed.status == 200, removed.body
    assert [r["status"] for r in removed.body["results"]] == [
        "removed",
        "duplicate_in_request",
        "already_accepted",
        "not_found",
        "not_found",
    ]
    resent = api.post(f"{base}/resend", seed.admin.key, {"invitation_ids": [a, b, c]})
    assert [r["status"] for r in resent.body["results"]] == ["resent", "resent", "already_accepted"]
    assert resent.body["summary"]["resent"] == 2
    again = api.post(f"{base}/remove", seed.admin.key, {"invitation_ids": [b, b]})
    assert [r["status"] for r in again.body["results"]] == ["removed", "duplicate_in_request"]
    assert api.post(f"{base}/remove", seed.admin.key, {"invitation_ids": [b]}).body["results"][0]["status"] == (
        "already_removed"
    )
    assert api.post(f"{base}/remove", seed.billing.key, {"invitation_ids": [b]}).code == "forbidden"
    assert api.post(f"{base}/resend", seed.admin.key, {"invitation_ids": []}).code == "invalid_request"


def test_link_errors(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invite(api, seed, "who@example.com")
    token = link(api, seed, mailer, "who@example.com")
    org_id, invitation_id, nonce, _mac = token.split(".")
    forged = f"{org_id}.{invitation_id}.{nonce}.{'A' * 43}"
    for bad in (forged, "garbage", f"{org_id}.{invitation_id}", "x" * 500):
        r = api.get(f"/v1/invitations/{bad}")
        assert (r.status, r.code) == (404, "not_found"), bad
        assert api.post(f"/v1/invitations/{bad}/accept").code == "not_found"
    unknown = invitation_links.token_for(org_id, "inv_" + "1" * 24, nonce)
    assert api.get(f"/v1/invitations/{unknown}").code == "not_found"
    mismatch = api.post(f"/v1/invitations/{token}/accept", seed.member.key)
    assert (mismatch.status, mismatch.code) == (403, "email_mismatch")
    assert api.post(f"/v1/invitations/{token}/accept", "oak_" + "x" * 40).status == 401


def test_existing_account_joins_without_a_new_key(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invite(api, seed, seed.outsider.email)
    token = link(api, seed, mailer, seed.outsider.email)
    r = api.post(f"/v1/invitations/{token}/accept", seed.outsider.key)
    assert r.status == 200, r.body
    assert r.body["account_created"] is False and r.body["api_key"] is None
    assert r.body["account_id"] == seed.outsider.account_id
    orgs = {m["org_id"] for m in api.get("/v1/me", seed.outsider.key).body["memberships"]}
    assert orgs == {seed.org_id, seed.other_org_id}


def test_direct_add_while_invited_makes_the_link_already_member(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invite(api, seed, "both@acme.test")
    token = link(api, seed, mailer, "both@acme.test")
    assert api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "both@acme.test"}).status == 201
    r = api.post(f"/v1/invitations/{token}/accept")
    assert (r.status, r.code) == (409, "already_member")
    again = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["both@acme.test"]})
    assert again.body["results"][0]["status"] == "already_member"


def test_member_left_can_be_invited_again(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}", seed.member.key).status == 204
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": [seed.member.email]})
    assert r.body["results"][0]["status"] == "invited"
    token = link(api, seed, mailer, seed.member.email)
    assert api.post(f"/v1/invitations/{token}/accept", seed.member.key).status == 200


def test_list_pages_and_never_shows_member_marks(api: Api, seed: Seed) -> None:
    emails = [f"p{i}@example.com" for i in range(7)]
    invite(api, seed, *emails)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        path = f"/v1/orgs/{seed.org_id}/invitations?limit=3" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(path, seed.admin.key)
        assert r.status == 200, r.body
        seen += [i["email"] for i in r.body["items"]]
        cursor = r.body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(emails)  # the admin/billing/member marks are not invitations
    mark = slot_id(seed.org_id, seed.admin.email)
    assert api.get(f"/v1/orgs/{seed.org_id}/invitations/{mark}", seed.admin.key).code == "not_found"
    assert api.get(f"/v1/orgs/{seed.org_id}/invitations?status=bogus", seed.admin.key).code == "invalid_request"
    assert api.get(f"/v1/orgs/{seed.org_id}/invitations?cursor=abc", seed.admin.key).code == "invalid_request"
    assert api.get(f"/v1/orgs/{seed.org_id}/invitations", seed.member.key).code == "forbidden"


def test_reinvite_after_expiry_issues_a_new_invitation(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    [invitation_id] = invite(api, seed, "slow@example.com")
    old = link(api, seed, mailer, "slow@example.com")
    later = datetime.now(UTC) + timedelta(days=8)
    set_clock(lambda: later)
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["slow@example.com"]})
    assert r.body["results"][0]["status"] == "invited"
    new = link(api, seed, mailer, "slow@example.com")
    assert api.post(f"/v1/invitations/{old}/accept").code == "invitation_revoked"
    assert api.post(f"/v1/invitations/{new}/accept").status == 200
    got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
    assert got["status"] == "accepted" and got["issue"] == 1  # a new invitation, not a reissue


def table_contents() -> str:
    dump = {}
    for model in registered_models():
        items = client().scan(TableName=model.Meta.table_name, ConsistentRead=True)["Items"]
        dump[model.Meta.base_name] = sorted(json.dumps(i, sort_keys=True) for i in items)
    return json.dumps(dump)


def test_expiry_job_twice_changes_nothing_the_second_time(tables: str) -> None:
    boot = bootstrap.bootstrap("Expiry", "admin@expiry.test")
    actor = Actor(actor=f"account:{boot.account_id}", request_id="t", account_id=boot.account_id)
    invitations.invite(boot.org_id, actor, [InviteItem(f"e{i}@x.test") for i in range(5)])
    set_clock(lambda: datetime.now(UTC) + timedelta(days=3))
    invitations.invite(boot.org_id, actor, [InviteItem("fresh@x.test")])
    set_clock(lambda: datetime.now(UTC) + timedelta(days=7, hours=1))
    first = invitation_expiry.expire_due("run-1")
    assert (first.read, first.expired) == (5, 5)
    before = table_contents()
    second = invitation_expiry.expire_due("run-2")
    assert second.expired == 0
    assert table_contents() == before
    fresh = InvitationModel.get(boot.org_id, slot_id(boot.org_id, "fresh@x.test"))
    assert fresh.status == "pending" and fresh.pending_shard


def test_login_link_flow(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    assert api.post("/v1/auth/login-link", json_body={"email": "nobody@example.com"}).status == 202
    assert mailer.sent == []
    r = api.post("/v1/auth/login-link", json_body={"email": " Member@ACME.test "})
    assert r.status == 202, r.body
    assert deliver_signins() == {"records": 2, "no_account": 1, "sent": 1}
    [message] = mailer.sent
    code = signin_code(mailer, seed.member.email)
    assert code in message.text
    redeemed = api.post("/v1/auth/login-link/redeem", json_body={"code": code})
    assert redeemed.status == 201, redeemed.body
    assert redeemed.body["account_id"] == seed.member.account_id
    assert api.get("/v1/me", redeemed.body["secret"]).status == 200
    used = api.post("/v1/auth/login-link/redeem", json_body={"code": code})
    assert (used.status, used.code) == (400, "invalid_code")
    assert api.post("/v1/auth/login-link/redeem", json_body={"code": "olc_" + "x" * 43}).code == "invalid_code"
    assert api.post("/v1/auth/login-link/redeem", json_body={"code": seed.admin.key}).code == "invalid_code"
    assert api.post("/v1/auth/login-link", json_body={"email": "not an email"}).code == "invalid_request"


def test_login_code_expires(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    api.post("/v1/auth/login-link", json_body={"email": seed.member.email})
    deliver_signins()
    code = signin_code(mailer, seed.member.email)
    later = datetime.now(UTC) + timedelta(minutes=16)
    set_clock(lambda: later)
    assert api.post("/v1/auth/login-link/redeem", json_body={"code": code}).code == "invalid_code"


def test_concurrent_redeems_give_one_key(local_tables: str) -> None:
    recorder = MemoryMailer()
    reset_mailer(recorder)
    try:
        bootstrap.bootstrap("Keys", "keys@x.test")
        login_links.request_link("keys@x.test")
        deliver_signins()
        code = signin_code(recorder, "keys@x.test")
    finally:
        reset_mailer(None)

    def attempt(_: int) -> str:
        try:
            login_links.redeem(code)
        except DomainError as exc:
            return exc.code
        return "redeemed"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("redeemed") == 1 and outcomes.count("invalid_code") == 9


def test_joining_another_way_supersedes_a_pending_invitation(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    """Invited as admin, then added directly and removed: the old link must not re-admit (invariant 5)."""
    org, admin = seed.org_id, seed.admin
    invited = api.post(f"/v1/orgs/{org}/invitations", admin.key, {"emails": ["eve@acme.test"], "role": "account_admin"})
    assert invited.status == 200, invited.body
    run_stream(stream_batch(org))
    old_link = links_to(mailer, "eve@acme.test")[-1]
    added = api.post(f"/v1/orgs/{org}/members", admin.key, {"email": "eve@acme.test", "role": "member"})
    assert added.status == 201, added.body
    listed = api.get(f"/v1/orgs/{org}/invitations?status=pending", admin.key).body["items"]
    assert "eve@acme.test" not in [i["email"] for i in listed]
    assert api.delete(f"/v1/orgs/{org}/members/{added.body['account_id']}", admin.key).status == 204

    refused = api.post(f"/v1/invitations/{old_link}/accept")
    assert refused.status == 410 and refused.code == "invitation_revoked"
    assert members.find(org, added.body["account_id"]) is None
    # A fresh invitation works again.
    again = api.post(f"/v1/orgs/{org}/invitations", admin.key, {"emails": ["eve@acme.test"]})
    assert again.body["results"][0]["status"] == "invited"
