"""Sessions table (stream: NEW_IMAGE; TTL on ``expires_ttl``).

Two kinds of item, both keyed by the SHA-256 of a secret the person holds:
- ``session``: a console sign-in. The secret is the session cookie; the
  item holds the account, the idle and absolute expiries, and when it was
  last seen. The CSRF token is derived from the cookie secret, so nothing
  that protects a session is stored.
- ``signin``: a request for a sign-in link. Written for every request,
  whether or not an account has the email, so the answer and its timing
  say nothing; the stream handler (``services.signin_requests``) looks the
  account up and mails the link. The code is HMAC(server key, request id),
  rebuilt by that handler: a table dump alone cannot make a code.
Keys: ``secret_hash`` (hash). Index: GSI ``by_account`` on
(``account_id``, ``item_id``) for "sign out everywhere" and for retiring
the other sign-in codes of an account once one is used.
DynamoDB TTL deletes items after ``expires_ttl`` (epoch seconds); the
server checks the expiries itself, since TTL deletion may lag by days.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from .base import Failure, Tx, TxItem, register

SESSION, SIGNIN, ONCE = "session", "signin", "once"


class SessionsByAccount(GlobalSecondaryIndex["SessionModel"]):
    class Meta:
        index_name = "by_account"
        projection = KeysOnlyProjection()

    account_id = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)


@register
class SessionModel(Model):
    class Meta:
        base_name = "sessions"
        table_name = "sessions"
        stream_view_type = "NEW_IMAGE"
        ttl_attribute = "expires_ttl"

    secret_hash = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute()  # ses_… or sir_…: a public handle, never a credential
    kind = UnicodeAttribute()
    email = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)  # a sign-in request learns it only when mailed
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute(null=True)
    idle_expires_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()  # absolute expiry
    used_at = UTCDateTimeAttribute(null=True)
    ended_reason = UnicodeAttribute(null=True)
    mailed = UnicodeAttribute(null=True)  # sign-in requests: "sent", "no_account", "failed", "limited"
    expires_ttl = NumberAttribute()

    by_account = SessionsByAccount()


def add_once_marker_in(tx: Tx, marker_hash: str, at: datetime, expires_at: datetime, on_fail: Failure) -> TxItem:
    """Put a form's once-marker in the change's transaction (``on_fail``: the marker exists, the form was sent).

    The marker holds only a hash and means nothing else; TTL deletes it after ``expires_at``.
    """
    marker = SessionModel(
        marker_hash,
        item_id=ONCE,
        kind=ONCE,
        email="",
        created_at=at,
        expires_at=expires_at,
        expires_ttl=int(expires_at.timestamp()),
    )
    return tx.put(marker, condition=SessionModel.secret_hash.does_not_exist(), on_fail=on_fail)
