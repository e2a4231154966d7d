"""Bearer-credential records and decisions on plain values: a token's status, whether its member
still backs it, and whether a stored access token verifies.

``StoredToken`` is a row of the Tokens table as the repository
(``storage.tokens``) returns it; services turn it into what they answer
(``AccessToken``, ``ApiKey``, ``ScimToken``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class TokenKind(StrEnum):
    API_KEY = "api_key"  # oak_
    ACCESS_TOKEN = "access_token"  # oat_
    SCIM_TOKEN = "scim_token"  # osc_


@dataclass(frozen=True)
class StoredToken:
    """One bearer credential as stored: never its secret, only the secret's SHA-256 (``token_hash``)."""

    token_hash: str
    token_id: str
    kind: str
    owner: str
    created_at: datetime
    account_id: str | None = None
    org_id: str | None = None
    name: str | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    seat_generation: int = 0
    member_joined_at: datetime | None = None
    created_by: str | None = None
    notice_pending: str | None = None
    awaiting_handover: bool = False


@dataclass(frozen=True)
class SeatStamp:
    """What of a member item decides whether its access tokens still stand."""

    has_seat: bool
    seat_generation: int
    joined_at: datetime


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


def ended_with(token: StoredToken, joined_at: datetime, generation: int | None) -> bool:
    """Whether a token predates the seat (``generation``, the one raised by the revocation) or the
    membership (``joined_at``; ``generation`` None: the membership ended) that ended: the cascade's choice."""
    if token.member_joined_at is None or token.member_joined_at < joined_at:
        return True
    if token.member_joined_at > joined_at:
        return False  # issued in a later membership
    return generation is None or token.seat_generation < generation


def usable_access_token(token: StoredToken, at: datetime, org_id: str | None = None) -> bool:
    """Whether a stored token is a live access token (of ``org_id`` when given), before its member is asked."""
    return (
        token.kind == TokenKind.ACCESS_TOKEN
        and not token.awaiting_handover
        and token.revoked_at is None
        and token.expires_at is not None
        and token.expires_at > at
        and bool(token.org_id)
        and bool(token.account_id)
        and (org_id is None or org_id == token.org_id)
    )


def backed(token: StoredToken, member: SeatStamp | None) -> bool:
    """Whether the member item still backs the token (its seat and membership are the ones stamped)."""
    return member is not None and (
        stale_reason(
            token.seat_generation, token.member_joined_at, member.has_seat, member.seat_generation, member.joined_at
        )
        is None
    )


def usable_api_key(token: StoredToken, at: datetime) -> bool:
    """Whether a stored token is an unrevoked, unexpired personal API key."""
    return (
        token.kind == TokenKind.API_KEY
        and token.revoked_at is None
        and bool(token.account_id)
        and (token.expires_at is None or token.expires_at > at)
    )


def usable_scim_token(token: StoredToken) -> bool:
    """Whether a stored token is an unrevoked SCIM token of an org (its maker is asked apart)."""
    return token.kind == TokenKind.SCIM_TOKEN and token.revoked_at is None and bool(token.org_id)


def needs_touch(last_used_at: datetime | None, at: datetime, every: timedelta) -> bool:
    """Whether a use at ``at`` should be written: at most one write per ``every`` and token."""
    return last_used_at is None or last_used_at <= at - every
