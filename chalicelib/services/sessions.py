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

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..clock import now
from ..domain.models import Principal
from ..secrets import hash_secret, new_id, new_secret
from ..storage.base import Tx, is_condition_failure
from ..storage.sessions import SESSION, SessionModel

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


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def csrf_token(secret: str) -> str:
    """The per-session CSRF token: derived from the cookie secret, never stored."""
    digest = hmac.new(secret.encode(), b"console-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(secret: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(secret).encode(), (token or "").encode())


def new_session_item(account_id: str, email: str) -> tuple[SessionModel, str]:
    """A session item (to put, alone or in a transaction) and its cookie secret."""
    secret = new_secret(SESSION_PREFIX)
    stamp = now()
    idle, absolute = stamp + IDLE, stamp + ABSOLUTE
    item = SessionModel(
        hash_secret(secret),
        item_id=new_id("ses"),
        kind=SESSION,
        email=email,
        account_id=account_id,
        created_at=stamp,
        last_seen_at=stamp,
        idle_expires_at=idle,
        expires_at=absolute,
        expires_ttl=epoch(min(idle, absolute)),
    )
    return item, secret


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
    item, secret = new_session_item(account_id, email)
    tx.put(item, condition=SessionModel.secret_hash.does_not_exist())
    return secret


def start(account_id: str, email: str) -> str:
    item, secret = new_session_item(account_id, email)
    item.save(condition=SessionModel.secret_hash.does_not_exist())
    return secret


def _live(item: SessionModel, at: datetime) -> bool:
    return (
        item.kind == SESSION
        and item.ended_reason is None
        and item.account_id is not None
        and item.expires_at > at
        and (item.idle_expires_at is None or item.idle_expires_at > at)
    )


def resolve(secret: str | None) -> ConsoleSession | None:
    """The live session behind a cookie, or None (unknown, ended, idle too long, or too old)."""
    if not secret or not _SECRET_SHAPE.match(secret):
        return None
    try:
        # Consistent: a session ended a moment ago (sign out, sign out everywhere) is refused.
        item = SessionModel.get(hash_secret(secret), consistent_read=True)
    except DoesNotExist:
        return None
    stamp = now()
    if not _live(item, stamp):
        return None
    if item.last_seen_at is None or stamp - item.last_seen_at >= TOUCH_EVERY:
        _touch(item, stamp)
    assert item.account_id is not None
    return ConsoleSession(
        session_id=item.item_id,
        account_id=item.account_id,
        email=item.email,
        csrf_token=csrf_token(secret),
        expires_at=min(item.expires_at, item.idle_expires_at or item.expires_at),
    )


def _touch(item: SessionModel, at: datetime) -> None:
    """Slide the idle expiry (never past the absolute one); a lost race is harmless."""
    idle = min(at + IDLE, item.expires_at)
    try:
        item.update(
            actions=[
                SessionModel.last_seen_at.set(at),
                SessionModel.idle_expires_at.set(idle),
                SessionModel.expires_ttl.set(epoch(idle)),
            ],
            condition=SessionModel.ended_reason.does_not_exist() & SessionModel.secret_hash.exists(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def end(secret: str | None, reason: str = "signed_out") -> None:
    """End one session (sign out); unknown or already ended sessions are fine."""
    if not secret or not _SECRET_SHAPE.match(secret):
        return
    _end_by_hash(hash_secret(secret), reason)


def _end_by_hash(secret_hash: str, reason: str) -> bool:
    """End one live session; False when it was already ended (or already gone with its TTL)."""
    try:
        SessionModel(secret_hash).update(
            actions=[SessionModel.ended_reason.set(reason), SessionModel.expires_ttl.set(epoch(now()))],
            condition=SessionModel.secret_hash.exists()
            & (SessionModel.kind == SESSION)
            & SessionModel.ended_reason.does_not_exist(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def end_all(account_id: str, reason: str = "signed_out_everywhere") -> int:
    """End every live session of an account ("sign out everywhere"); returns how many it ended.

    The account index is eventually consistent and still lists sessions ended
    earlier (until their TTL deletes them): only the ones this call ended count.
    """
    ended = 0
    for key in SessionModel.by_account.query(account_id, SessionModel.item_id.startswith("ses_")):
        ended += _end_by_hash(key.secret_hash, reason)
    return ended
