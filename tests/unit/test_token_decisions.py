"""Token decisions on plain values: status, staleness, which stored tokens verify or authenticate,
when a use is written, what the cascade ends (no AWS, no mock)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain.tokens import (
    SeatStamp,
    StoredToken,
    TokenKind,
    backed,
    ended_with,
    needs_touch,
    stale_reason,
    token_status,
    usable_access_token,
    usable_api_key,
    usable_scim_token,
)

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


# Stored tokens: which verify, which authenticate, and when a use is written (no AWS, no mock).

ACCESS = StoredToken(
    token_hash="h",
    token_id="tok_1",
    kind=TokenKind.ACCESS_TOKEN,
    owner="org#o#acct#a",
    created_at=T0,
    org_id="org_1",
    account_id="acc_1",
    expires_at=T0 + timedelta(days=30),
    seat_generation=2,
    member_joined_at=T0,
)


def test_a_live_access_token_verifies_in_its_own_org_only() -> None:
    assert usable_access_token(ACCESS, T0)
    assert usable_access_token(ACCESS, T0, org_id="org_1")
    assert not usable_access_token(ACCESS, T0, org_id="org_2")


def test_an_access_token_stops_at_revocation_expiry_or_before_handover() -> None:
    assert not usable_access_token(replace(ACCESS, revoked_at=T0), T0)
    assert not usable_access_token(ACCESS, ACCESS.expires_at or T0)
    assert not usable_access_token(replace(ACCESS, expires_at=None), T0)
    assert not usable_access_token(replace(ACCESS, awaiting_handover=True), T0)


def test_other_kinds_never_verify_as_access_tokens() -> None:
    assert not usable_access_token(replace(ACCESS, kind=TokenKind.API_KEY), T0)
    assert not usable_access_token(replace(ACCESS, kind=TokenKind.SCIM_TOKEN), T0)


def test_a_token_is_backed_only_by_the_seat_and_membership_it_stamped() -> None:
    assert backed(ACCESS, SeatStamp(has_seat=True, seat_generation=2, joined_at=T0))
    assert not backed(ACCESS, None)
    assert not backed(ACCESS, SeatStamp(has_seat=False, seat_generation=2, joined_at=T0))
    assert not backed(ACCESS, SeatStamp(has_seat=True, seat_generation=3, joined_at=T0))
    assert not backed(ACCESS, SeatStamp(has_seat=True, seat_generation=2, joined_at=T0 + timedelta(hours=1)))


def test_api_keys_without_expiry_last_until_revoked() -> None:
    key = StoredToken(
        token_hash="k", token_id="key_1", kind=TokenKind.API_KEY, owner="acct#a", created_at=T0, account_id="acc_1"
    )
    assert usable_api_key(key, T0 + timedelta(days=3650))
    assert not usable_api_key(replace(key, revoked_at=T0), T0)
    assert not usable_api_key(replace(key, expires_at=T0), T0)
    assert usable_api_key(replace(key, expires_at=T0 + timedelta(seconds=1)), T0)
    assert not usable_api_key(replace(key, kind=TokenKind.ACCESS_TOKEN), T0)
    assert not usable_api_key(replace(key, account_id=None), T0)


def test_scim_tokens_need_an_org_and_no_revocation() -> None:
    scim = StoredToken(token_hash="s", token_id="sct_1", kind=TokenKind.SCIM_TOKEN, owner="org#o#scim", created_at=T0)
    assert not usable_scim_token(scim)
    assert usable_scim_token(replace(scim, org_id="org_1"))
    assert not usable_scim_token(replace(scim, org_id="org_1", revoked_at=T0))
    assert not usable_scim_token(replace(scim, org_id="org_1", kind=TokenKind.API_KEY))


def test_a_use_is_written_at_most_once_per_hour() -> None:
    hour = timedelta(hours=1)
    assert needs_touch(None, T0, hour)
    assert not needs_touch(T0, T0 + timedelta(minutes=59), hour)
    assert needs_touch(T0, T0 + hour, hour)


def test_the_cascade_ends_tokens_of_the_seat_or_membership_that_ended_only() -> None:
    later_membership = T0 + timedelta(days=1)
    # Removal (no generation): every token of that membership or an earlier one.
    assert ended_with(ACCESS, T0, None)
    assert ended_with(replace(ACCESS, member_joined_at=None), T0, None)
    assert not ended_with(replace(ACCESS, member_joined_at=later_membership), T0, None)
    # Seat revoked, generation raised to 3: the tokens stamped before it.
    assert ended_with(ACCESS, T0, 3)
    assert not ended_with(replace(ACCESS, seat_generation=3), T0, 3)
