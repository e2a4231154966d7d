"""Access-token status and staleness, on plain values (no AWS, no mock)."""

from datetime import UTC, datetime, timedelta

from chalicelib.domain.tokens import stale_reason, token_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_status_revoked_wins_over_expiry() -> None:
    assert token_status(T0, T0 - timedelta(days=1), T0) == "revoked"


def test_status_expires_at_its_expiry_instant() -> None:
    assert token_status(None, T0, T0) == "expired"
    assert token_status(None, T0, T0 - timedelta(seconds=1)) == "active"


def test_token_backed_by_the_same_seat_and_membership_stands() -> None:
    assert stale_reason(2, T0, True, 2, T0) is None


def test_token_after_a_seat_revoke_is_stale_even_when_reassigned() -> None:
    assert stale_reason(2, T0, False, 2, T0) == "seat_revoked"
    assert stale_reason(2, T0, True, 3, T0) == "seat_revoked"


def test_token_after_the_member_left_and_rejoined_is_stale() -> None:
    rejoined = T0 + timedelta(hours=1)
    assert stale_reason(0, T0, True, 0, rejoined) == "member_removed"


def test_token_without_a_join_stamp_is_judged_by_the_seat_only() -> None:
    assert stale_reason(1, None, True, 1, T0 + timedelta(days=3)) is None
    assert stale_reason(1, None, True, 2, T0) == "seat_revoked"
