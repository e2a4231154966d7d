"""Partial batch responses: one failed stream record is retried alone; audit records carry the invocation's id."""

from __future__ import annotations

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail import MailError, Message, reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import seats, tokens
from chalicelib.storage.audit import AuditModel
from tests.support.helpers import Api, Seed, add_person
from tests.support.invitation_support import stream_batch
from tests.support.member_stream import raw_member, record
from tests.support.stream_support import counts, failed, invoke


class DownFor(MemoryMailer):
    """SES throttling mail to one address (a retryable error); everyone else's mail goes out."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address: str | None = address

    def send(self, message: Message) -> str:
        if message.to == self.address:
            raise MailError("SES Throttling", retryable=True)
        return super().send(message)


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def audit_entries(org_id: str, action: str) -> list[AuditModel]:
    return [e for e in AuditModel.query(org_id) if e.action == action]


def test_one_failed_record_is_reported_alone_and_every_effect_happens_once(moto_tables: str, seed: Seed) -> None:
    actor = admin_actor(seed)
    second = add_person(seed.org_id, seed.admin, "second@acme.test", Role.MEMBER)
    third = add_person(seed.org_id, seed.admin, "third@acme.test", Role.MEMBER)
    # The third member had a seat and two tokens; the batch carries that seat's revocation.
    seats.assign(seed.org_id, actor, third.account_id, notify=False)
    for name in ("ci", "laptop"):
        tokens.issue_for(seed.org_id, actor, third.account_id, name)
    changes = []
    for account_id, change in (
        (seed.member.account_id, seats.assign),
        (second.account_id, seats.assign),
        (third.account_id, seats.revoke),
    ):
        before = raw_member(seed.org_id, account_id)
        change(seed.org_id, actor, account_id)
        changes.append(record(before, raw_member(seed.org_id, account_id)))
    _, throttled, revoked = changes

    mailer = DownFor(second.email)
    reset_mailer(mailer)
    try:
        answer = invoke("on_member_change", changes, request_id="req-first")
        # Only the throttled seat email's record goes back to Lambda.
        assert failed(answer) == [throttled["dynamodb"]["SequenceNumber"]]
        assert [m.to for m in mailer.sent] == [seed.member.email]
        [cascade] = audit_entries(seed.org_id, "tokens.revoked")
        assert cascade.details["count"] == 2

        # Lambda delivers again from the failed record: it and the ones after it.
        mailer.address = None
        retry = counts("on_member_change", [throttled, revoked], request_id="req-retry")
        assert retry["seat_emails"] == 1 and retry["tokens_revoked"] == 0 and "failed_records" not in retry
    finally:
        reset_mailer(None)
    assert sorted(m.to for m in mailer.sent) == sorted([seed.member.email, second.email])  # each once
    [cascade] = audit_entries(seed.org_id, "tokens.revoked")  # the cascade did not run again
    assert cascade.request_id == "req-first"


def test_cascade_audit_records_carry_the_invocations_request_id(moto_tables: str, seed: Seed) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    tokens.issue_for(seed.org_id, actor, member, "ci")
    before = raw_member(seed.org_id, member)
    seats.revoke(seed.org_id, actor, member)
    change = record(before, raw_member(seed.org_id, member))
    assert invoke("on_member_change", [change], request_id="req-cascade-1") == {"batchItemFailures": []}
    [entry] = audit_entries(seed.org_id, "tokens.revoked")
    assert (entry.actor, entry.request_id) == ("system:token_cascade", "req-cascade-1")


def test_invitation_email_audit_records_carry_the_invocations_request_id(
    api: Api, seed: Seed, mailer: MemoryMailer
) -> None:
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["new@example.com"]})
    assert r.status == 200, r.body
    answer = invoke("on_invitation_change", stream_batch(seed.org_id)["Records"], request_id="req-invite-7")
    assert answer == {"batchItemFailures": []}
    assert [m.to for m in mailer.sent] == ["new@example.com"]
    [entry] = audit_entries(seed.org_id, "invitation.email_sent")
    assert (entry.actor, entry.request_id) == ("system:invitation_delivery", "req-invite-7")


def test_a_record_that_cannot_be_decoded_fails_alone(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    actor = admin_actor(seed)
    before = raw_member(seed.org_id, seed.member.account_id)
    seats.assign(seed.org_id, actor, seed.member.account_id)
    good = record(before, raw_member(seed.org_id, seed.member.account_id))
    bad = record(before, raw_member(seed.org_id, seed.member.account_id))
    bad["dynamodb"]["NewImage"] = {"org_id": {"S": seed.org_id}, "has_seat": {"S": "not a bool"}}
    answer = invoke("on_member_change", [bad, good])
    assert failed(answer) == [bad["dynamodb"]["SequenceNumber"]]
    assert [m.to for m in mailer.sent] == [seed.member.email]


def test_a_record_chalice_cannot_read_fails_alone(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    actor = admin_actor(seed)
    before = raw_member(seed.org_id, seed.member.account_id)
    seats.assign(seed.org_id, actor, seed.member.account_id)
    good = record(before, raw_member(seed.org_id, seed.member.account_id))
    unreadable = record(before, raw_member(seed.org_id, seed.member.account_id))
    del unreadable["dynamodb"]["StreamViewType"], unreadable["eventSourceARN"]
    answer = invoke("on_member_change", [unreadable, good])
    assert failed(answer) == [unreadable["dynamodb"]["SequenceNumber"]]
    assert [m.to for m in mailer.sent] == [seed.member.email]
