"""Sign-in links: a one-time code by email that buys a new API key.

For a member who lost their key. Asking always succeeds (no account
enumeration); the code is stored only as its SHA-256 (Tokens table, kind
``login_code``), lives ``login_link_minutes``, and is redeemed at most once:
the redeeming transaction marks it used under a condition and puts the new
key, so concurrent redeems of one code yield one key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from ..clock import now
from ..config import get_settings
from ..domain.emails import normalize_email
from ..domain.errors import InvalidCode
from ..mail import get_mailer, templates
from ..secrets import hash_secret, new_id, new_secret
from ..storage.base import TransactionCancelled, Tx
from ..storage.tokens import TokenModel
from . import accounts, keys

log = logging.getLogger(__name__)

CODE_PREFIX = "olc"
KIND = "login_code"
_CODE_SHAPE = re.compile(r"^olc_[A-Za-z0-9_-]{20,100}$")


def login_owner(account_id: str) -> str:
    return f"login#{account_id}"


def request_link(email: str) -> None:
    """Email a one-time code when an account has this email; silently nothing otherwise."""
    account = accounts.find_by_email(normalize_email(email))
    if account is None:
        return
    code = new_secret(CODE_PREFIX)
    stamp = now()
    expires = stamp + timedelta(minutes=get_settings().login_link_minutes)
    TokenModel(
        hash_secret(code),
        token_id=new_id("lnk"),
        kind=KIND,
        owner=login_owner(account.account_id),
        account_id=account.account_id,
        created_at=stamp,
        expires_at=expires,
    ).save(condition=TokenModel.token_hash.does_not_exist())
    redeem_url = f"{get_settings().public_base_url.rstrip('/')}/v1/auth/login-link/redeem"
    message = templates.login_code(to=account.email, code=code, redeem_url=redeem_url, expires_at=expires)
    try:
        get_mailer().send(message)
    except Exception as exc:  # the caller always gets 202; the failure is for operators
        log.warning("login code email to account %s failed: %s", account.account_id, type(exc).__name__)


@dataclass(frozen=True)
class Redeemed:
    account_id: str
    key: keys.ApiKey
    secret: str


def redeem(code: str) -> Redeemed:
    """Exchange an unused, unexpired code for a new API key (400 ``invalid_code`` otherwise)."""
    if not _CODE_SHAPE.match(code or ""):
        raise InvalidCode()
    try:
        item = TokenModel.get(hash_secret(code), consistent_read=True)
    except DoesNotExist as exc:
        raise InvalidCode() from exc
    stamp = now()
    if item.kind != KIND or item.revoked_at is not None or not item.account_id:
        raise InvalidCode()
    if item.expires_at is None or item.expires_at <= stamp:
        raise InvalidCode()
    key_item, secret = keys.new_api_key_item(item.account_id, "sign-in link")
    tx = Tx()
    tx.update(
        item,
        [TokenModel.revoked_at.set(stamp), TokenModel.revoked_reason.set("used"), TokenModel.last_used_at.set(stamp)],
        condition=(TokenModel.kind == KIND) & TokenModel.revoked_at.does_not_exist() & (TokenModel.expires_at > stamp),
    )
    tx.put(key_item, condition=TokenModel.token_hash.does_not_exist())
    try:
        tx.commit()
    except TransactionCancelled as exc:
        raise InvalidCode() from exc
    return Redeemed(
        account_id=item.account_id,
        key=keys.ApiKey(
            key_id=key_item.token_id,
            name=key_item.name or "",
            created_at=key_item.created_at,
            last_used_at=None,
            revoked_at=None,
        ),
        secret=secret,
    )
