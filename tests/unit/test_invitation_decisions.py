"""An invitation's status and its email's delivery, on plain values (no AWS, no mock)."""

from datetime import UTC, datetime, timedelta

from chalicelib.domain.invitations import (
    ACCEPTED,
    EXPIRED,
    FAILED,
    PENDING,
    QUEUED,
    REVOKED,
    SENDING,
    SENT,
    STUCK_SEND,
    delivery_at,
    status_at,
)

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
