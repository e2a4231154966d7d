"""Console sessions and sign-in requests as stored, and the decisions on them.

A session is keyed by the SHA-256 of its cookie secret (``secret_hash``), a
sign-in request by the SHA-256 of its one-time code; neither secret is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class StoredSession:
    """One console sign-in: its public handle (``session_id``), who it is, and its expiries."""

    secret_hash: str
    session_id: str
    account_id: str
    email: str
    created_at: datetime
    expires_at: datetime  # absolute
    idle_expires_at: datetime | None
    last_seen_at: datetime | None = None
    ended_reason: str | None = None

    @property
    def ends_at(self) -> datetime:
        """The earlier of the two expiries."""
        return min(self.expires_at, self.idle_expires_at or self.expires_at)


def live(session: StoredSession, at: datetime) -> bool:
    """Not ended, not past its absolute expiry, not idle too long."""
    return (
        session.ended_reason is None
        and session.expires_at > at
        and (session.idle_expires_at is None or session.idle_expires_at > at)
    )


def needs_touch(session: StoredSession, at: datetime, every: timedelta) -> bool:
    """Whether a page view at ``at`` writes the session's last sight (at most once per ``every``)."""
    return session.last_seen_at is None or at - session.last_seen_at >= every


def slid_idle(session: StoredSession, at: datetime, idle: timedelta) -> datetime:
    """The idle expiry after a sight at ``at``: ``idle`` later, never past the absolute expiry."""
    return min(at + idle, session.expires_at)


@dataclass(frozen=True)
class SignInRequest:
    """One ask for a sign-in link: ``request_id`` (``sir_…``, sortable by time) rebuilds its code.

    ``mailed``: what became of it (sending, sent, no_account, limited, failed);
    ``account_id`` is learnt when it is mailed.
    """

    secret_hash: str
    request_id: str
    email: str
    created_at: datetime
    expires_at: datetime
    account_id: str | None = None
    mailed: str | None = None
    used_at: datetime | None = None
    ended_reason: str | None = None
