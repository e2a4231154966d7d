"""Sign-in link asks: at most one live code per account, limits per email and per source address.

Finding 3 of the security review: 30 asks gave 30 mails, and the first and
the last code both signed in. Now a mailed code retires the older ones, and
asks past a limit are refused with 429 ``too_many_sign_in_requests`` and
``Retry-After``, the same for an email with an account and one without.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clock import set_clock
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.sessions import SessionModel
from tests.support.console_support import SIGNIN_LINK, Browser, deliver_signins
from tests.support.helpers import Api, Seed, set_limits


def ask(api: Api, email: str) -> tuple[int, str | None, str | None]:
    r = api.post("/v1/auth/login-link", None, {"email": email})
    return r.status, r.code, r.headers.get("Retry-After")


def signin_items(email: str) -> int:
    return sum(1 for item in SessionModel.scan(SessionModel.kind == "signin") if item.email == email)


def test_a_newly_mailed_code_ends_the_older_outstanding_codes(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    api.post("/v1/auth/login-link", None, {"email": seed.member.email})
    deliver_signins()
    api.post("/v1/auth/login-link", None, {"email": seed.member.email})
    deliver_signins()
    first, second = [c for m in mailer.sent for c in SIGNIN_LINK.findall(m.text)]
    # Nobody redeemed anything yet: the older code is already dead, the newer one works.
    assert api.post("/v1/auth/login-link/redeem", None, {"code": first}).code == "invalid_code"
    redeemed = api.post("/v1/auth/login-link/redeem", None, {"code": second})
    assert redeemed.status == 201, redeemed.body
    ended = [i.ended_reason for i in SessionModel.scan(SessionModel.kind == "signin") if i.ended_reason]
    assert ended == ["superseded"]


def test_asks_per_email_are_limited_alike_for_known_and_unknown_emails(
    api: Api, seed: Seed, mailer: MemoryMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limits(monkeypatch, SIGNIN_REQUESTS_PER_EMAIL=3)
    for email in (seed.member.email, "nobody@example.com"):
        assert [ask(api, email)[0] for _ in range(3)] == [202, 202, 202]
        status, code, retry_after = ask(api, email)
        assert (status, code) == (429, "too_many_sign_in_requests"), email
        assert retry_after is not None and 1 <= int(retry_after) <= 15 * 60
        assert signin_items(email) == 3  # the refused ask wrote nothing
    deliver_signins()
    assert len(mailer.sent) == 3  # only the member's asks were mailed; the answers never said so
    later = datetime.now(UTC) + timedelta(minutes=16)
    set_clock(lambda: later)
    assert ask(api, seed.member.email)[0] == 202  # a new window


def test_asks_per_source_address_are_limited_whatever_the_email(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limits(monkeypatch, SIGNIN_REQUESTS_PER_ADDRESS=4)
    assert [ask(api, f"person{n}@example.com")[0] for n in range(4)] == [202] * 4
    status, code, retry_after = ask(api, seed.member.email)
    assert (status, code) == (429, "too_many_sign_in_requests") and retry_after
    page = Browser().post("/sign-in", {"email": "someone-else@example.com"})  # the console's form counts too
    assert page.status == 429 and page.headers.get("retry-after")
    assert "Too many sign-in links" in page.text and "Try again in" in page.text
    assert signin_items(seed.member.email) == 0
