"""Invitations end to end: HTTP routes, the real stream and schedule handlers, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.clock import set_clock
from chalicelib.config import get_settings
from chalicelib.mail.base import MemoryMailer
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_expiry_job, run_stream, stream_batch


def invite(api: Api, seed: Seed, *emails: str, role: str | None = None) -> dict:
    body: dict = {"emails": list(emails)}
    if role:
        body["role"] = role
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, body)
    assert r.status == 200, r.body
    return r.body


def test_invite_email_accept_member(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    body = invite(api, seed, "New.Person@Example.com", role="billing_manager")
    assert body["results"][0]["status"] == "invited"
    assert body["summary"]["invited"] == 1
    invitation_id = body["results"][0]["invitation_id"]
    assert mailer.sent == []  # the request does not wait on mail

    run_stream(stream_batch(seed.org_id))
    [token] = links_to(mailer, "new.person@example.com")
    message = mailer.sent[0]
    assert "Acme" in message.subject and "billing manager" in message.text
    assert "admin@acme.test invited you" in message.text
    assert f"{get_settings().public_base_url}/invitations/{token}" in message.text  # the invitation page
    expires = datetime.now(UTC) + timedelta(days=7)
    assert expires.strftime("%d %B %Y") in message.text and expires.strftime("%d %B %Y") in message.html

    got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key)
    assert got.body["delivery"]["status"] == "sent" and got.body["status"] == "pending"

    preview = api.get(f"/v1/invitations/{token}")
    assert preview.status == 200, preview.body
    assert preview.body["org_name"] == "Acme" and preview.body["email"] == "new.person@example.com"

    accepted = api.post(f"/v1/invitations/{token}/accept")
    assert accepted.status == 200, accepted.body
    assert accepted.body["account_created"] is True and accepted.body["role"] == "billing_manager"
    new_key = accepted.body["api_key"]["secret"]
    me = api.get("/v1/me", new_key)
    assert me.status == 200 and me.body["memberships"][0]["org_id"] == seed.org_id

    member = api.get(f"/v1/orgs/{seed.org_id}/members/{accepted.body['account_id']}", seed.admin.key)
    assert member.status == 200 and member.body["role"] == "billing_manager"
    again = api.post(f"/v1/invitations/{token}/accept")
    assert again.status == 409 and again.code == "already_accepted"
    assert api.get(f"/v1/invitations/{token}").code == "already_accepted"
    listed = api.get(f"/v1/orgs/{seed.org_id}/invitations?status=accepted", seed.admin.key)
    assert [i["invitation_id"] for i in listed.body["items"]] == [invitation_id]
    assert invite(api, seed, "new.person@example.com")["results"][0]["status"] == "already_member"

    actions = [e["action"] for e in api.get(f"/v1/orgs/{seed.org_id}/audit-log", seed.admin.key).body["items"]]
    for action in ("invitation.created", "invitation.email_sent", "invitation.accepted", "member.added"):
        assert action in actions


def test_expiry_refused_before_and_after_job(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invite(api, seed, "late@example.com")
    run_stream(stream_batch(seed.org_id))
    [token] = links_to(mailer, "late@example.com")
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    set_clock(lambda: later)

    before = api.post(f"/v1/invitations/{token}/accept")
    assert before.status == 410 and before.code == "invitation_expired"
    listed = api.get(f"/v1/orgs/{seed.org_id}/invitations?status=expired", seed.admin.key)
    assert [i["email"] for i in listed.body["items"]] == ["late@example.com"]

    assert run_expiry_job()["expired"] == 1
    assert run_expiry_job()["expired"] == 0
    after = api.post(f"/v1/invitations/{token}/accept")
    assert after.status == 410 and after.code == "invitation_expired"
    assert api.get(f"/v1/orgs/{seed.org_id}/invitations?status=pending", seed.admin.key).body["items"] == []


def test_reissue_retires_old_link(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invitation_id = invite(api, seed, "again@example.com")["results"][0]["invitation_id"]
    run_stream(stream_batch(seed.org_id))
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend", seed.admin.key)
    assert r.status == 200, r.body
    assert r.body["issue"] == 2 and r.body["delivery"]["status"] == "queued"
    run_stream(stream_batch(seed.org_id))
    old, new = links_to(mailer, "again@example.com")
    assert old != new
    refused = api.post(f"/v1/invitations/{old}/accept")
    assert refused.status == 410 and refused.code == "invitation_revoked"
    assert api.post(f"/v1/invitations/{new}/accept").status == 200
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend", seed.admin.key)
    assert r.status == 409 and r.code == "already_accepted"
    r = api.delete(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key)
    assert r.status == 409 and r.code == "already_accepted"


def test_remove_refuses_link(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invitation_id = invite(api, seed, "gone@example.com")["results"][0]["invitation_id"]
    run_stream(stream_batch(seed.org_id))
    [token] = links_to(mailer, "gone@example.com")
    assert api.delete(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).status == 204
    assert api.delete(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).status == 204
    refused = api.post(f"/v1/invitations/{token}/accept")
    assert refused.status == 410 and refused.code == "invitation_revoked"
    got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key)
    assert got.body["status"] == "revoked"
