"""An invitation's status, its email's delivery, and why a resend or a removal was refused,
on plain values (no AWS, no mock)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain.invitations import (
    ACCEPTED,
    EXPIRED,
    FAILED,
    NO_INVITATION,
    PENDING,
    QUEUED,
    REVOKED,
    SENDING,
    SENT,
    STUCK_SEND,
    StoredInvitation,
    claim_still_wanted,
    cooldown_left,
    delivery_at,
    remove_refusal,
    resend_refusal,
    status_at,
    wants_email,
)
from chalicelib.domain.outcomes import Outcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def test_a_pending_invitation_expires_at_its_expiry_instant_without_the_job() -> None:
    assert status_at("pending", T0, T0 - timedelta(seconds=1)) == PENDING
    assert status_at("pending", T0, T0) == EXPIRED


def test_only_pending_invitations_expire_by_time() -> None:
    assert status_at("accepted", T0, T0 + timedelta(days=30)) == ACCEPTED
    assert status_at("revoked", T0, T0 + timedelta(days=30)) == REVOKED
    assert status_at("pending", None, T0) == PENDING


def test_a_send_claimed_longer_than_its_lease_ago_reads_failed() -> None:
    assert delivery_at("sending", None, T0, LEASE, T0 + LEASE - timedelta(seconds=1)) == (SENDING, None)
    assert delivery_at("sending", None, T0, LEASE, T0 + LEASE) == (FAILED, STUCK_SEND)


def test_other_deliveries_read_as_stored() -> None:
    assert delivery_at("queued", None, None, LEASE, T0) == (QUEUED, None)
    assert delivery_at("sent", None, T0, LEASE, T0 + timedelta(days=1)) == (SENT, None)
    assert delivery_at("failed", "mailbox unavailable", None, LEASE, T0) == (FAILED, "mailbox unavailable")
    assert delivery_at(None, None, None, LEASE, T0) == (None, None)
    assert delivery_at("sending", None, None, LEASE, T0) == (SENDING, None)


QUEUED_ONE = StoredInvitation(
    org_id="org_1",
    invitation_id="inv_1",
    email="a@example.com",
    status=PENDING,
    role="member",
    expires_at=T0 + timedelta(days=7),
    issue=2,
    link_nonce="n2",
    issued_at=T0,
    delivery_status=QUEUED,
    delivered_issue=1,
)


def test_a_queued_pending_issue_not_yet_claimed_wants_its_email() -> None:
    assert wants_email(QUEUED_ONE)
    assert not wants_email(replace(QUEUED_ONE, delivered_issue=2))  # this issue was claimed: a replay
    assert not wants_email(replace(QUEUED_ONE, delivery_status=SENT))
    assert not wants_email(replace(QUEUED_ONE, status=REVOKED))
    assert not wants_email(replace(QUEUED_ONE, link_nonce=None))  # superseded by joining another way
    assert not wants_email(replace(QUEUED_ONE, expires_at=None))


def test_a_dead_claim_is_sent_again_only_for_the_pending_issue_it_claimed() -> None:
    claimed = replace(QUEUED_ONE, delivery_status=SENDING, delivered_issue=2, send_claimed_at=T0)
    assert claim_still_wanted(claimed)
    assert not claim_still_wanted(replace(claimed, issue=3))  # reissued since: its own email is queued
    assert not claim_still_wanted(replace(claimed, status=ACCEPTED))
    assert not claim_still_wanted(replace(claimed, delivered_issue=None))


def test_a_refused_resend_is_named_from_the_slot_as_it_was() -> None:
    assert resend_refusal(None, by_service_account=False) == Outcome.NOT_FOUND
    assert resend_refusal(replace(QUEUED_ONE, status=NO_INVITATION), False) == Outcome.NOT_FOUND
    assert resend_refusal(replace(QUEUED_ONE, status=ACCEPTED), False) == Outcome.ALREADY_ACCEPTED
    joined = replace(QUEUED_ONE, status=NO_INVITATION, member_account_id="acc_9")
    assert resend_refusal(joined, False) == Outcome.NOT_FOUND  # a member's mark is no invitation
    assert resend_refusal(replace(QUEUED_ONE, member_account_id="acc_9"), False) == Outcome.ALREADY_MEMBER
    assert resend_refusal(QUEUED_ONE, False) == Outcome.RESEND_TOO_SOON
    admin = replace(QUEUED_ONE, role="account_admin")
    assert resend_refusal(admin, by_service_account=True) == Outcome.FORBIDDEN
    assert resend_refusal(admin, by_service_account=False) == Outcome.RESEND_TOO_SOON


def test_a_refused_removal_is_named_from_the_slot_as_it_was() -> None:
    assert remove_refusal(None) == Outcome.NOT_FOUND
    assert remove_refusal(replace(QUEUED_ONE, status=NO_INVITATION)) == Outcome.NOT_FOUND
    assert remove_refusal(replace(QUEUED_ONE, status=ACCEPTED)) == Outcome.ALREADY_ACCEPTED
    assert remove_refusal(replace(QUEUED_ONE, status=REVOKED)) == Outcome.ALREADY_REMOVED


def test_the_cooldown_left_is_whole_seconds_rounded_up_and_never_zero() -> None:
    cooldown = timedelta(seconds=60)
    assert cooldown_left(QUEUED_ONE, T0 + timedelta(seconds=10), cooldown) == 50
    assert cooldown_left(QUEUED_ONE, T0 + timedelta(seconds=10, milliseconds=500), cooldown) == 50
    assert cooldown_left(QUEUED_ONE, T0 + timedelta(seconds=59, milliseconds=1), cooldown) == 1
    assert cooldown_left(QUEUED_ONE, T0 + timedelta(seconds=75), cooldown) == 1  # ready, but the race was lost
    assert cooldown_left(replace(QUEUED_ONE, issued_at=None), T0, cooldown) == 1
    assert cooldown_left(None, T0, cooldown) == 1
