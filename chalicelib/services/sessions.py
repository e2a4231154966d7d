"""Console sessions: a cookie secret, stored only as its SHA-256, with idle and absolute expiry.

A session is started by redeeming a sign-in link or by accepting an
invitation as a new account (the link came to that mailbox). Resolving a
session is one consistent read; the idle expiry slides forward at most every
``TOUCH_EVERY`` so that page views do not each cost a write. The CSRF token
is HMAC(cookie secret): the server recomputes it from the cookie, so neither
is stored (invariant 3). Sessions stand on the account only: what a person
may do in an org is read from the membership on every request (invariant 10).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..clock import now
from ..domain.models import Principal
from ..domain.sessions import StoredSession, live, needs_touch, slid_idle
from ..secrets import hash_secret, new_id, new_secret
from ..storage import sessions as session_rows
from ..storage.base import Tx

SESSION_PREFIX = "ose"
IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)
_SECRET_SHAPE = re.compile(r"^ose_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in person, as the console sees them."""

    session_id: str
    account_id: str
    email: str
    csrf_token: str
    expires_at: datetime

    @property
    def principal(self) -> Principal:
        return Principal(account_id=self.account_id, email=self.email, key_id=self.session_id)


def csrf_token(secret: str) -> str:
    """The per-session CSRF token: derived from the cookie secret, never stored."""
    digest = hmac.new(secret.encode(), b"console-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(secret: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(secret).encode(), (token or "").encode())


def new_session(account_id: str, email: str) -> tuple[StoredSession, str]:
    """A new session (to put, alone or in a transaction) and its cookie secret."""
    secret = new_secret(SESSION_PREFIX)
    stamp = now()
    session = StoredSession(
        secret_hash=hash_secret(secret),
        session_id=new_id("ses"),
        account_id=account_id,
        email=email,
        created_at=stamp,
        last_seen_at=stamp,
        idle_expires_at=stamp + IDLE,
        expires_at=stamp + ABSOLUTE,
    )
    return session, secret


def describe(secret: str, account_id: str, email: str) -> ConsoleSession:
    """The session just started with ``secret`` (no read: it was written a moment ago)."""
    return ConsoleSession(
        session_id="new",
        account_id=account_id,
        email=email,
        csrf_token=csrf_token(secret),
        expires_at=now() + IDLE,
    )


def add_session_to(tx: Tx, account_id: str, email: str) -> str:
    """Put a new session into a transaction; returns the cookie secret."""
    session, secret = new_session(account_id, email)
    session_rows.add_session_in(tx, session)
    return secret


def start(account_id: str, email: str) -> str:
    session, secret = new_session(account_id, email)
    session_rows.save_session(session)
    return secret


def resolve(secret: str | None) -> ConsoleSession | None:
    """The live session behind a cookie, or None (unknown, ended, idle too long, or too old)."""
    if not secret or not _SECRET_SHAPE.match(secret):
        return None
    # Consistent: a session ended a moment ago (sign out, sign out everywhere) is refused.
    session = session_rows.session(hash_secret(secret))
    stamp = now()
    if session is None or not live(session, stamp):
        return None
    if needs_touch(session, stamp, TOUCH_EVERY):
        session_rows.touch_session(session.secret_hash, stamp, slid_idle(session, stamp, IDLE))
    return ConsoleSession(
        session_id=session.session_id,
        account_id=session.account_id,
        email=session.email,
        csrf_token=csrf_token(secret),
        expires_at=session.ends_at,
    )


def end(secret: str | None, reason: str = "signed_out") -> None:
    """End one session (sign out); unknown or already ended sessions are fine."""
    if not secret or not _SECRET_SHAPE.match(secret):
        return
    session_rows.end_session(hash_secret(secret), reason, now())


def end_all(account_id: str, reason: str = "signed_out_everywhere") -> int:
    """End every live session of an account ("sign out everywhere"); returns how many it ended.

    The account index is eventually consistent and still lists sessions ended
    earlier (until their TTL deletes them): only the ones this call ended count.
    """
    stamp = now()
    return sum(session_rows.end_session(h, reason, stamp) for h in session_rows.session_hashes_of(account_id))
