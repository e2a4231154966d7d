"""Console session decisions on plain records: live or not, when a sight is written, how far idle slides
(no AWS, no mock)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain.sessions import StoredSession, live, needs_touch, slid_idle

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDLE, EVERY = timedelta(hours=12), timedelta(minutes=5)
SESSION = StoredSession(
    secret_hash="h",
    session_id="ses_1",
    account_id="acc_1",
    email="a@example.com",
    created_at=T0,
    expires_at=T0 + timedelta(days=7),
    idle_expires_at=T0 + IDLE,
    last_seen_at=T0,
)


def test_a_session_is_live_until_either_expiry_or_its_end() -> None:
    assert live(SESSION, T0)
    assert not live(SESSION, T0 + IDLE)  # idle too long, at the very instant
    assert live(replace(SESSION, idle_expires_at=None), T0 + IDLE)
    assert not live(replace(SESSION, idle_expires_at=None), SESSION.expires_at)  # too old
    assert not live(replace(SESSION, ended_reason="signed_out"), T0)


def test_a_sight_is_written_at_most_once_per_interval() -> None:
    assert not needs_touch(SESSION, T0 + EVERY - timedelta(seconds=1), EVERY)
    assert needs_touch(SESSION, T0 + EVERY, EVERY)
    assert needs_touch(replace(SESSION, last_seen_at=None), T0, EVERY)


def test_idle_slides_but_never_past_the_absolute_expiry() -> None:
    assert slid_idle(SESSION, T0 + timedelta(hours=1), IDLE) == T0 + timedelta(hours=13)
    late = SESSION.expires_at - timedelta(hours=1)
    assert slid_idle(SESSION, late, IDLE) == SESSION.expires_at


def test_a_session_ends_at_the_earlier_expiry() -> None:
    assert SESSION.ends_at == T0 + IDLE
    assert replace(SESSION, idle_expires_at=None).ends_at == SESSION.expires_at
