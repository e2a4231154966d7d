"""Sign-in links: asked for by email, mailed by the stream, redeemed once for a session or an API key.

Asking writes one sign-in request item, the same single write whether or
not an account has the email, so neither the answer nor its timing tells
an outsider anything (invariant 9). The Sessions stream hands the new item
to ``deliver``, which looks the account up and, within a rate limit, mails
the link. The code is HMAC(server key, request id): the handler rebuilds it
from the item, and the table holds only its SHA-256 (invariant 3).
A code lives ``login_link_minutes`` and is redeemed at most once (the
redeeming transaction marks it used under a condition); mailing a new code
retires the account's older outstanding codes, and redeeming one retires
all the others, so at most one code of an account works at a time.

Asking is limited per email and per source address: two counters of the
current 15-minute window (Quotas table) rise in the same transaction as the
request item, each conditioned on staying within its limit, so concurrent
asks never pass it together and a refused ask counts nothing. A refusal is
429 ``too_many_sign_in_requests`` with ``Retry-After`` (the window's end),
the same for every email, so it tells nothing about accounts either. The
per-email counter's key holds a hash of the email, not the email.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..clock import now
from ..config import get_settings, link_signing_key
from ..domain.emails import normalize_email
from ..domain.errors import InvalidCode, TooManySignInRequests
from ..domain.sessions import SignInRequest
from ..domain.windows import window_of
from ..mail import get_mailer, templates
from ..secrets import hash_secret
from ..storage import quotas
from ..storage import sessions as session_rows
from ..storage.base import TransactionCancelled, Tx, retry_races
from ..storage.quotas import quota_id
from ..storage.sessions import SIGNIN
from . import accounts, keys, sessions
from .abuse_limits import in_words

if TYPE_CHECKING:
    from chalice.app import DynamoDBRecord

log = logging.getLogger(__name__)

CODE_PREFIX = "olc"
_CODE_SHAPE = re.compile(r"^olc_[A-Za-z0-9_-]{20,100}$")
# At most this many sign-in emails per account in one window: the rest are refused silently.
MAILS_PER_WINDOW = 5
WINDOW = timedelta(minutes=15)
ASK_KIND = "signin-requests"
SENT, NO_ACCOUNT, LIMITED, FAILED, SENDING = "sent", "no_account", "limited", "failed", "sending"


def code_for(request_id: str) -> str:
    """The one-time code of a sign-in request (rebuilt from its id with the server key)."""
    mac = hmac.new(link_signing_key().encode(), f"signin-link\n{request_id}".encode(), hashlib.sha256).digest()
    return f"{CODE_PREFIX}_{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def _request_id(at: datetime) -> str:
    """Sortable by time, so an account's recent requests are one key-range query."""
    return f"sir_{int(at.timestamp() * 1000):013x}{secrets.token_hex(8)}"


def signin_url(code: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/sign-in/{code}"


def _count_ask(tx: Tx, owner: str, limit: int, window: str, expires_ttl: int, refusal: Callable[[], Exception]) -> None:
    """One more ask for ``owner`` in this window, refused (``refusal``) once ``limit`` asks were counted."""
    counter = quota_id("signin", owner, ASK_KIND, window)
    quotas.charge_in(tx, counter, 1, limit, expires_ttl, on_fail=lambda _reason: refusal())


def request_link(email: str, source_address: str | None = None) -> None:
    """Record a sign-in request; the stream mails it if an account has this email.

    One transaction whatever the email: the per-email and per-address
    counters and the request item (429 ``too_many_sign_in_requests`` when a
    counter is at its limit; then nothing is written).
    """
    settings = get_settings()
    stamp = now()
    address = normalize_email(email)
    window, wait = window_of(stamp, int(WINDOW.total_seconds()))
    expires_ttl = int(stamp.timestamp()) + wait + 86_400

    def refusal() -> Exception:
        return TooManySignInRequests(
            f"Too many sign-in links were asked for; try again {in_words(wait)}.", retry_after=wait
        )

    email_key = "email-" + hashlib.sha256(address.encode()).hexdigest()[:40]

    def attempt() -> None:
        tx = Tx()
        _count_ask(tx, email_key, settings.signin_requests_per_email, window, expires_ttl, refusal)
        if source_address:
            owner = "ip-" + source_address[:64]
            _count_ask(tx, owner, settings.signin_requests_per_address, window, expires_ttl, refusal)
        request_id = _request_id(stamp)
        expires = stamp + timedelta(minutes=settings.login_link_minutes)
        request = SignInRequest(
            secret_hash=hash_secret(code_for(request_id)),
            request_id=request_id,
            email=address,
            created_at=stamp,
            expires_at=expires,
        )
        session_rows.add_signin_in(tx, request)
        tx.commit()

    # Asks from one office at the same moment share the address counter: a conflict is a lost race.
    retry_races(attempt)


# --- delivery (Sessions stream) ----------------------------------------------------------------------


def _mark(request: SignInRequest, outcome: str, *, account_id: str | None = None, claim: bool = False) -> bool:
    """Record what became of a request; with ``claim``, only if nobody handled it yet. False: lost."""
    return session_rows.mark_signin(request.secret_hash, outcome, account_id=account_id, claim=claim)


def _recent_requests(account_id: str, at: datetime) -> int:
    return session_rows.signins_since(account_id, _request_id(at - WINDOW)[:17])  # "sir_" + 13 hex digits of time


def deliver(item: SignInRequest) -> str:
    """Mail the link of one new request once (a replayed record finds it claimed); returns the outcome."""
    if item.mailed is not None:
        return "skipped"
    account = accounts.find_by_email(item.email)
    if account is None:
        _mark(item, NO_ACCOUNT, claim=True)
        return NO_ACCOUNT
    stamp = now()
    if _recent_requests(account.account_id, stamp) >= MAILS_PER_WINDOW:
        _mark(item, LIMITED, claim=True)
        log.info("sign-in mail rate-limited", extra={"account_id": account.account_id})
        return LIMITED
    if not _mark(item, SENDING, account_id=account.account_id, claim=True):
        return "skipped"
    # Only the older codes: two asks delivered out of order never leave the newer mail useless.
    session_rows.retire_signins(account.account_id, item, up_to=item.request_id)
    code = code_for(item.request_id)
    message = templates.login_code(
        to=account.email,
        code=code,
        signin_url=signin_url(code),
        redeem_url=f"{get_settings().public_base_url.rstrip('/')}/v1/auth/login-link/redeem",
        expires_at=item.expires_at,
    )
    try:
        get_mailer().send(message)
    except Exception as exc:  # the person asks again; the other records of the batch are not rerun
        log.warning("sign-in mail failed", extra={"account_id": account.account_id, "error": type(exc).__name__})
        _mark(item, FAILED)
        return FAILED
    _mark(item, SENT)
    return SENT


def handle_record(record: DynamoDBRecord) -> str | None:
    """A new sign-in request: mail it once; None for Sessions' own changes (ignored)."""
    image = record.new_image
    if record.event_name != "INSERT" or not image or image.get("kind", {}).get("S") != SIGNIN:
        return None
    request = session_rows.signin_of_image(image)
    return deliver(request) if request is not None else None


# --- redeem ------------------------------------------------------------------------------------------


def _redeemable(code: str) -> SignInRequest:
    if not _CODE_SHAPE.match(code or ""):
        raise InvalidCode()
    item = session_rows.signin_request(hash_secret(code))
    if item is None or item.used_at is not None or item.ended_reason or not item.account_id:
        raise InvalidCode()
    # "sending" too: the mail can be in the person's hands before the stream records that it went out.
    if item.mailed not in (SENDING, SENT) or item.expires_at <= now():
        raise InvalidCode()
    return item


def _redeem(code: str, add: Any) -> tuple[SignInRequest, Any]:
    """Mark the code used and add what it buys, in one transaction (one winner under concurrency).

    Then the account's other outstanding codes are retired: at most one code works at a time.
    """
    item = _redeemable(code)
    assert item.account_id is not None
    tx = Tx()
    session_rows.redeem_signin_in(tx, item, now())
    bought = add(tx, item)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        raise InvalidCode() from exc
    session_rows.retire_signins(item.account_id, item)
    return item, bought


@dataclass(frozen=True)
class Redeemed:
    account_id: str
    key: keys.ApiKey
    secret: str


def redeem(code: str) -> Redeemed:
    """Exchange an unused, unexpired code for a new API key (400 ``invalid_code`` otherwise)."""

    def add_key(tx: Tx, item: SignInRequest) -> tuple[Any, str]:
        return keys.add_new_key_to(tx, str(item.account_id), "sign-in link")

    item, (key_item, secret) = _redeem(code, add_key)
    return Redeemed(
        account_id=str(item.account_id),
        key=keys.ApiKey(
            key_id=key_item.token_id,
            name=key_item.name or "",
            created_at=key_item.created_at,
            last_used_at=None,
            revoked_at=None,
        ),
        secret=secret,
    )


def redeem_for_session(code: str) -> tuple[str, str, str]:
    """Exchange a code for a console session: (cookie secret, account id, email)."""
    item, secret = _redeem(code, lambda tx, item: sessions.add_session_to(tx, str(item.account_id), item.email))
    return str(secret), str(item.account_id), item.email


def is_live(code: str) -> bool:
    """Whether a code would still sign in (the sign-in page says so before the button)."""
    try:
        _redeemable(code)
    except InvalidCode:
        return False
    return True
