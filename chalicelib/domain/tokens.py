"""Access-token decisions on plain values: a token's status and whether its member still backs it."""

from __future__ import annotations

from datetime import datetime


def token_status(revoked_at: datetime | None, expires_at: datetime, at: datetime) -> str:
    """``revoked`` (flagged), ``expired`` (at or past its expiry) or ``active``."""
    if revoked_at is not None:
        return "revoked"
    return "expired" if expires_at <= at else "active"


def stale_reason(
    token_generation: int,
    token_joined_at: datetime | None,
    member_has_seat: bool,
    member_generation: int,
    member_joined_at: datetime,
) -> str | None:
    """Why the member no longer backs a token stamped with ``token_generation`` and ``token_joined_at``.

    ``member_removed``: the membership was removed and granted again since
    issue (tokens of earlier shape stamp no join time and skip this check);
    ``seat_revoked``: the seat is gone or was revoked and assigned again.
    None: the token still stands.
    """
    if token_joined_at is not None and token_joined_at != member_joined_at:
        return "member_removed"
    if not member_has_seat or token_generation != member_generation:
        return "seat_revoked"
    return None
