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
Sessions and sign-in requests are read and written only through this
module's functions, which take and return ``domain.sessions.StoredSession``
and ``SignInRequest``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain.sessions import SignInRequest, StoredSession
from .base import Failure, Tx, TxItem, register, update_if

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


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _session_item(session: StoredSession) -> SessionModel:
    return SessionModel(
        session.secret_hash,
        item_id=session.session_id,
        kind=SESSION,
        email=session.email,
        account_id=session.account_id,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        idle_expires_at=session.idle_expires_at,
        expires_at=session.expires_at,
        expires_ttl=_epoch(session.ends_at),
    )


def add_session_in(tx: Tx, session: StoredSession) -> TxItem:
    """Put a new session in the transaction (a secret's hash is never reused)."""
    return tx.put(_session_item(session), condition=SessionModel.secret_hash.does_not_exist())


def save_session(session: StoredSession) -> None:
    """Put a new session on its own."""
    _session_item(session).save(condition=SessionModel.secret_hash.does_not_exist())


def session(secret_hash: str) -> StoredSession | None:
    """The session with this hash, read consistently (None: none, or not a session item)."""
    try:
        item = SessionModel.get(secret_hash, consistent_read=True)
    except DoesNotExist:
        return None
    if item.kind != SESSION or item.account_id is None:
        return None
    return StoredSession(
        secret_hash=item.secret_hash,
        session_id=item.item_id,
        account_id=item.account_id,
        email=item.email,
        created_at=item.created_at,
        expires_at=item.expires_at,
        idle_expires_at=item.idle_expires_at,
        last_seen_at=item.last_seen_at,
        ended_reason=item.ended_reason,
    )


def touch_session(secret_hash: str, at: datetime, idle_expires_at: datetime) -> None:
    """Record a sight of a live session and slide its idle expiry; a lost race (ended meanwhile) is harmless."""
    update_if(
        SessionModel(secret_hash),
        [
            SessionModel.last_seen_at.set(at),
            SessionModel.idle_expires_at.set(idle_expires_at),
            SessionModel.expires_ttl.set(_epoch(idle_expires_at)),
        ],
        SessionModel.ended_reason.does_not_exist() & SessionModel.secret_hash.exists(),
    )


def end_session(secret_hash: str, reason: str, at: datetime) -> bool:
    """End one live session; False when it was already ended (or already gone with its TTL)."""
    return update_if(
        SessionModel(secret_hash),
        [SessionModel.ended_reason.set(reason), SessionModel.expires_ttl.set(_epoch(at))],
        SessionModel.secret_hash.exists() & (SessionModel.kind == SESSION) & SessionModel.ended_reason.does_not_exist(),
    )


def session_hashes_of(account_id: str) -> list[str]:
    """The hashes of an account's sessions, ended ones included (the index is eventually consistent)."""
    return [k.secret_hash for k in SessionModel.by_account.query(account_id, SessionModel.item_id.startswith("ses_"))]


def _request(item: SessionModel) -> SignInRequest | None:
    if item.kind != SIGNIN:
        return None
    return SignInRequest(
        secret_hash=item.secret_hash,
        request_id=item.item_id,
        email=item.email,
        created_at=item.created_at,
        expires_at=item.expires_at,
        account_id=item.account_id,
        mailed=item.mailed,
        used_at=item.used_at,
        ended_reason=item.ended_reason,
    )


def add_signin_in(tx: Tx, request: SignInRequest) -> TxItem:
    """Put a new sign-in request in the transaction (its stream record mails it)."""
    item = SessionModel(
        request.secret_hash,
        item_id=request.request_id,
        kind=SIGNIN,
        email=request.email,
        created_at=request.created_at,
        expires_at=request.expires_at,
        expires_ttl=_epoch(request.expires_at),
    )
    return tx.put(item, condition=SessionModel.secret_hash.does_not_exist())


def signin_request(secret_hash: str) -> SignInRequest | None:
    """The sign-in request of a code's hash, read consistently (None: none, or not a request)."""
    try:
        return _request(SessionModel.get(secret_hash, consistent_read=True))
    except DoesNotExist:
        return None


def signin_of_image(image: dict[str, Any]) -> SignInRequest | None:
    """A stream record's new image, when it is a sign-in request."""
    return _request(SessionModel.from_raw_data(image))


def mark_signin(secret_hash: str, outcome: str, *, account_id: str | None = None, claim: bool = False) -> bool:
    """Record what became of a request; with ``claim``, only if nobody handled it yet. False: lost."""
    actions: list[Any] = [SessionModel.mailed.set(outcome)]
    if account_id:
        actions.append(SessionModel.account_id.set(account_id))
    condition = SessionModel.secret_hash.exists()
    if claim:
        condition &= SessionModel.mailed.does_not_exist()
    return update_if(SessionModel(secret_hash), actions, condition)


def signins_since(account_id: str, first_request_id: str) -> int:
    """How many of the account's requests sort at or after ``first_request_id`` (a time prefix)."""
    query = SessionModel.by_account.query(account_id, SessionModel.item_id >= first_request_id)
    return sum(1 for _ in query)


def redeem_signin_in(tx: Tx, request: SignInRequest, at: datetime) -> TxItem:
    """Mark the request's code used in the transaction: only while unused, not ended and unexpired."""
    return tx.update(
        SessionModel(request.secret_hash),
        [SessionModel.used_at.set(at), SessionModel.expires_ttl.set(_epoch(request.expires_at))],
        condition=(SessionModel.kind == SIGNIN)
        & SessionModel.used_at.does_not_exist()
        & SessionModel.ended_reason.does_not_exist()
        & (SessionModel.expires_at > at),
    )


def retire_signins(account_id: str, kept: SignInRequest, *, up_to: str | None = None) -> None:
    """End the account's other outstanding codes (all, or those whose request id sorts up to ``up_to``)."""
    condition = SessionModel.item_id.between("sir_", up_to) if up_to else SessionModel.item_id.startswith("sir_")
    for key in SessionModel.by_account.query(account_id, condition):
        if key.secret_hash == kept.secret_hash:
            continue
        update_if(
            SessionModel(key.secret_hash),
            [SessionModel.ended_reason.set("superseded")],
            # exists(): a code TTL already deleted is not written back as a stub.
            SessionModel.secret_hash.exists()
            & SessionModel.used_at.does_not_exist()
            & SessionModel.ended_reason.does_not_exist(),
        )
