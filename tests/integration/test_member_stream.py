"""The Members stream handler on real-shaped records: token cascade and seat-assigned email (invariant 6)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail import MailError, Message, reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import members, seats, tokens
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.base import client
from chalicelib.storage.tokens import TokenModel, access_token_owner
from tests.support.helpers import Seed
from tests.support.member_stream import deliver, raw_member, record
from tests.support.stream_support import failed, invoke


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def token_items(seed: Seed, account_id: str) -> list[TokenModel]:
    return list(TokenModel.by_owner.query(access_token_owner(seed.org_id, account_id)))


def table_dump(model: Any) -> list[dict]:
    return sorted(
        (i for p in client().get_paginator("scan").paginate(TableName=model.Meta.table_name) for i in p["Items"]),
        key=repr,
    )


def issue_many(seed: Seed, account_id: str, n: int) -> list[str]:
    actor = admin_actor(seed)
    return [tokens.issue_for(seed.org_id, actor, account_id, f"t{i}")[1] for i in range(n)]


def test_seat_revocation_cascades_to_every_token_once(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    secrets = issue_many(seed, member, 30)
    before = raw_member(seed.org_id, member)
    seats.revoke(seed.org_id, actor, member)
    after = raw_member(seed.org_id, member)
    batch = record(before, after)

    result = deliver(batch)
    assert result["tokens_revoked"] == 30
    items = token_items(seed, member)
    assert len(items) == 30
    assert all(i.revoked_at is not None and i.revoked_reason == "seat_revoked" for i in items)
    assert all(tokens.verify(s) == {"active": False} for s in secrets)
    audit_before = table_dump(AuditModel)
    tokens_before = table_dump(TokenModel)
    assert sum(1 for i in audit_before if i["action"]["S"] == "tokens.revoked") == 1

    replay = deliver(batch)
    assert replay["tokens_revoked"] == 0
    assert table_dump(TokenModel) == tokens_before
    assert table_dump(AuditModel) == audit_before
    assert mailer.sent == []


def test_removal_cascades_with_member_removed(moto_tables: str, seed: Seed) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    issue_many(seed, member, 30)
    before = raw_member(seed.org_id, member)
    members.remove_member(seed.org_id, actor, member)
    assert raw_member(seed.org_id, member) is None
    batch = record(before, None)
    assert deliver(batch)["tokens_revoked"] == 30
    assert {i.revoked_reason for i in token_items(seed, member)} == {"member_removed"}
    snapshot = table_dump(TokenModel)
    assert deliver(batch)["tokens_revoked"] == 0
    assert table_dump(TokenModel) == snapshot


def test_late_cascade_spares_tokens_of_a_new_seat(moto_tables: str, seed: Seed) -> None:
    """Revoke, re-assign and issue before the stream runs: only the old tokens are marked revoked."""
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    old = issue_many(seed, member, 2)
    before = raw_member(seed.org_id, member)
    seats.revoke(seed.org_id, actor, member)
    revoked = raw_member(seed.org_id, member)
    seats.assign(seed.org_id, actor, member, notify=False)
    new = issue_many(seed, member, 1)
    assert deliver(record(before, revoked))["tokens_revoked"] == 2
    assert all(tokens.verify(s) == {"active": False} for s in old)
    assert tokens.verify(new[0])["active"] is True
    assert sum(1 for i in token_items(seed, member) if i.revoked_at is None) == 1


def test_late_cascade_spares_tokens_of_a_new_membership(moto_tables: str, seed: Seed) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    old = issue_many(seed, member, 2)
    before = raw_member(seed.org_id, member)
    members.remove_member(seed.org_id, actor, member)
    members.add_member(seed.org_id, actor, seed.member.email, Role.MEMBER, seat=True)
    new = issue_many(seed, member, 1)
    assert deliver(record(before, None))["tokens_revoked"] == 2
    assert all(tokens.verify(s) == {"active": False} for s in old)
    assert tokens.verify(new[0])["active"] is True


def test_seat_email_is_sent_once_per_assignment(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    before = raw_member(seed.org_id, member)
    seats.assign(seed.org_id, actor, member)
    batch = record(before, raw_member(seed.org_id, member))
    assert deliver(batch)["seat_emails"] == 1
    assert deliver(batch)["seat_emails"] == 0
    assert len(mailer.sent) == 1
    message: Message = mailer.sent[0]
    assert message.to == seed.member.email
    assert "Acme" in message.subject
    assert f"http://127.0.0.1:8000/orgs/{seed.org_id}/tokens" in message.text  # the Token Access page
    assert f"http://127.0.0.1:8000/orgs/{seed.org_id}/tokens" in message.html
    # The claim itself is a member change; its record sends nothing.
    claimed = raw_member(seed.org_id, member)
    assert deliver(record(batch["dynamodb"]["NewImage"], claimed))["seat_emails"] == 0

    # A new assignment after a revocation is a new email, once.
    seats.revoke(seed.org_id, actor, member)
    revoked = raw_member(seed.org_id, member)
    seats.assign(seed.org_id, actor, member)
    again = record(revoked, raw_member(seed.org_id, member))
    assert deliver(again, again)["seat_emails"] == 1
    assert len(mailer.sent) == 2


def test_no_seat_email_when_not_asked(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    member = seed.member.account_id
    before = raw_member(seed.org_id, member)
    seats.assign(seed.org_id, admin_actor(seed), member, notify=False)
    assert deliver(record(before, raw_member(seed.org_id, member)))["seat_emails"] == 0
    assert mailer.sent == []


def test_member_inserted_with_a_seat_gets_the_email(moto_tables: str, seed: Seed, mailer: MemoryMailer) -> None:
    added = members.add_member(seed.org_id, admin_actor(seed), "fresh@acme.test", Role.MEMBER, seat=True).member
    assert added is not None
    insert = record(None, raw_member(seed.org_id, added.account_id))
    assert deliver(insert)["seat_emails"] == 1
    assert deliver(insert)["seat_emails"] == 0
    assert [m.to for m in mailer.sent] == ["fresh@acme.test"]


class FlakyMailer:
    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.fail = True

    def send(self, message: Message) -> str:
        if self.fail:
            raise MailError("SES Throttling", retryable=True)
        self.sent.append(message)
        return "ok"


def test_retryable_mail_failure_fails_the_record_and_the_retry_sends(moto_tables: str, seed: Seed) -> None:
    flaky = FlakyMailer()
    reset_mailer(flaky)
    try:
        member = seed.member.account_id
        before = raw_member(seed.org_id, member)
        seats.assign(seed.org_id, admin_actor(seed), member)
        batch = record(before, raw_member(seed.org_id, member))
        answer = invoke("on_member_change", [batch])
        assert failed(answer) == [batch["dynamodb"]["SequenceNumber"]]  # Lambda retries this record
        flaky.fail = False
        assert deliver(batch)["seat_emails"] == 1
        assert deliver(batch)["seat_emails"] == 0
        assert len(flaky.sent) == 1
    finally:
        reset_mailer(None)


def test_other_member_changes_touch_no_token_and_send_nothing(
    moto_tables: str, seed: Seed, mailer: MemoryMailer
) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    secrets = issue_many(seed, member, 3)
    before = raw_member(seed.org_id, member)
    members.change_role(seed.org_id, actor, member, Role.BILLING_MANAGER)
    snapshot = table_dump(TokenModel)
    result = deliver(record(before, raw_member(seed.org_id, member)))
    assert result == {
        "records": 1,
        "tokens_revoked": 0,
        "seat_emails": 0,
        "scim_tokens_revoked": 0,
        "service_accounts_disabled": 0,
    }
    assert table_dump(TokenModel) == snapshot
    assert all(tokens.verify(s)["active"] for s in secrets)
    assert mailer.sent == []


def test_no_seat_email_when_the_seat_is_gone_before_the_record_arrives(
    moto_tables: str, seed: Seed, mailer: MemoryMailer
) -> None:
    actor = admin_actor(seed)
    member = seed.member.account_id
    before = raw_member(seed.org_id, member)
    seats.assign(seed.org_id, actor, member)
    assigned = record(before, raw_member(seed.org_id, member))
    seats.revoke(seed.org_id, actor, member)
    assert deliver(assigned)["seat_emails"] == 0
    assert mailer.sent == []


def test_stream_log_lines_carry_ids_as_fields_not_in_their_text(
    moto_tables: str, seed: Seed, caplog: pytest.LogCaptureFixture
) -> None:
    """Lambda's JSON log format writes ``extra`` as keys: ids stay searchable, messages stay one text."""
    actor = admin_actor(seed)
    member = seed.member.account_id
    seats.assign(seed.org_id, actor, member, notify=False)
    issue_many(seed, member, 2)
    before = raw_member(seed.org_id, member)
    seats.revoke(seed.org_id, actor, member)
    with caplog.at_level(logging.INFO):
        deliver(record(before, raw_member(seed.org_id, member)))
    [cascade] = [r for r in caplog.records if r.getMessage() == "tokens revoked"]
    assert (cascade.org_id, cascade.account_id, cascade.count, cascade.reason) == (  # type: ignore[attr-defined]
        seed.org_id,
        member,
        2,
        "seat_revoked",
    )
    [summary] = [r for r in caplog.records if r.getMessage() == "stream batch handled"]
    assert summary.counts["tokens_revoked"] == 2  # type: ignore[attr-defined]
    assert summary.failed == 0  # type: ignore[attr-defined]
    for line in (r.getMessage() for r in caplog.records):
        assert seed.org_id not in line and member not in line, line
