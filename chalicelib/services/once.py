"""Form posts that must not take effect twice: a reload of the page that showed a new secret re-posts its form.

A page puts a random nonce in such a form; the service writes a marker for
(session, nonce) in the same transaction as the change, conditioned on there
being none, so the second post of the same form changes nothing and says so.
The marker holds only a hash, lives a day (Sessions table TTL) and means
nothing else.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from ..clock import now
from ..secrets import hash_secret
from ..storage import sessions as session_rows
from ..storage.base import Tx, TxItem

LIFETIME = timedelta(days=1)


class AlreadyDone(Exception):
    """This very form was already sent and took effect; nothing was done again."""


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def add_marker_to(tx: Tx, key: str) -> TxItem:
    """Add the marker put to a transaction; a failed condition there makes the commit raise AlreadyDone."""
    stamp = now()
    marker = hash_secret(f"once\n{key}")
    return session_rows.add_once_marker_in(tx, marker, stamp, stamp + LIFETIME, on_fail=AlreadyDone)
