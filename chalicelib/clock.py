"""The one source of "now", so tests can move time (invitation expiry, token lifetimes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _utc_now


def now() -> datetime:
    """Current UTC time (timezone-aware)."""
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the real one); used by tests."""
    global _now
    _now = fn or _utc_now


def moved() -> bool:
    """True while a test has replaced the clock (what is made at "now" then differs from real time)."""
    return _now is not _utc_now


def iso(value: datetime) -> str:
    """ISO 8601 UTC with a Z suffix, millisecond precision (sorts lexically)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (f"{value.microsecond // 1000:03d}Z")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
