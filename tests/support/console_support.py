"""A browser-like client for the console over chalice.test.Client: a cookie jar, CSRF tokens, same-origin posts."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

from app import app
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.sessions import SessionModel
from tests.support.stream_support import counts

ORIGIN = "http://127.0.0.1:8000"
SIGNIN_LINK = re.compile(r"/sign-in/(olc_[A-Za-z0-9_-]+)")

SESSIONS_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2026-01-01T00:00:00.000"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str]

    @property
    def text(self) -> str:
        """The visible words, roughly: tags dropped, entities decoded, spaces collapsed."""
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", self.html, flags=re.S)
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()

    @property
    def csrf(self) -> str:
        match = CSRF.search(self.html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """Keeps the session cookie like a browser does; posts forms from our own origin unless told otherwise."""

    def __init__(self) -> None:
        self.client = Client(app)
        self.cookie: str | None = None
        self.csrf: str = ""

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "text/html"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        headers.update(extra or {})
        return headers

    def _keep(self, response: Any) -> Page:
        body = response.body.decode() if isinstance(response.body, bytes) else (response.body or "")
        headers = {k.lower(): v for k, v in dict(response.headers).items()}
        for cookie in set_cookies(response):
            name_value = cookie.split(";", 1)[0]
            name, _, value = name_value.partition("=")
            self.cookie = None if "Max-Age=0" in cookie or not value else f"{name}={value}"
        page = Page(response.status_code, body, headers)
        match = CSRF.search(body)
        if match:
            self.csrf = match.group(1)
        return page

    def get(self, path: str, headers: dict[str, str] | None = None) -> Page:
        return self._keep(self.client.http.get(path, headers=self._headers(headers)))

    def post(
        self,
        path: str,
        form: dict[str, Any] | None = None,
        *,
        csrf: bool = True,
        origin: str | None = ORIGIN,
        site: str | None = "same-origin",
        headers: dict[str, str] | None = None,
    ) -> Page:
        fields = dict(form or {})
        if csrf and self.csrf and "csrf_token" not in fields:
            fields["csrf_token"] = self.csrf
        sent = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin is not None:
            sent["Origin"] = origin
        if site is not None:
            sent["Sec-Fetch-Site"] = site
        sent.update(headers or {})
        body = urlencode(fields, doseq=True)
        return self._keep(self.client.http.post(path, headers=self._headers(sent), body=body))


def set_cookies(response: Any) -> list[str]:
    """The Set-Cookie headers of a test-client response, one string each."""
    raw = dict(response.headers).get("Set-Cookie") or dict(response.headers).get("set-cookie")
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def deliver_signins() -> Any:
    """Run the Sessions stream handler's batch processing over every sign-in request not yet handled."""
    records = []
    for item in SessionModel.scan(SessionModel.kind == "signin"):
        if item.mailed is None:
            records.append(
                {
                    "eventID": uuid.uuid4().hex,
                    "eventName": "INSERT",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "ApproximateCreationDateTime": 1_700_000_000,
                        "Keys": {"secret_hash": {"S": item.secret_hash}},
                        "NewImage": item.serialize(),
                        "SequenceNumber": str(uuid.uuid4().int)[:21],
                        "SizeBytes": 300,
                        "StreamViewType": "NEW_IMAGE",
                    },
                    "eventSourceARN": SESSIONS_STREAM,
                }
            )
    return counts("on_session_change", records)


def signin_code(mailer: MemoryMailer, email: str) -> str:
    """The code of the newest sign-in link mailed to an address."""
    codes = [m for message in mailer.sent if message.to == email for m in SIGNIN_LINK.findall(message.text)]
    assert codes, f"no sign-in link was mailed to {email}"
    return codes[-1]


def sign_in(browser: Browser, mailer: MemoryMailer, email: str) -> Page:
    """The whole sign-in, as a person does it: ask, read the mail, open the link, press Sign in."""
    browser.post("/sign-in", {"email": email})
    deliver_signins()
    code = signin_code(mailer, email)
    page = browser.get(f"/sign-in/{code}")
    assert "Sign in" in page.text
    return browser.post(f"/sign-in/{code}")
