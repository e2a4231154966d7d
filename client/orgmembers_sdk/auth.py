"""Credentials: a personal API key, or OAuth 2.0 client credentials (RFC 6749 §4.4) refreshed before they expire."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from .errors import AuthError

TOKEN_PATH = "/v1/oauth/token"


class ApiKeyAuth(httpx.Auth):
    """``Authorization: Bearer <key>`` on every request."""

    def __init__(self, api_key: str) -> None:
        self._header = f"Bearer {api_key}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class ClientCredentialsAuth(httpx.Auth):
    """Client credentials grant: one access token, fetched when needed and refreshed before it expires.

    The token is refreshed once less than ``refresh_margin`` seconds (at most a
    fifth of its lifetime) remain, so a request never leaves with a token about
    to die in flight; a 401 on a request made with a cached token gets one
    fresh token and one retry (the server may have revoked it early). Client
    authentication is HTTP Basic (§2.3.1) unless ``send_as="form"``.
    """

    requires_response_body = True

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_url: str,
        *,
        scope: str | None = None,
        refresh_margin: float = 60.0,
        send_as: str = "basic",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if send_as not in ("basic", "form"):
            raise ValueError("send_as is 'basic' or 'form'")
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.send_as = send_as
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self.granted_scope: str | None = None
        self.tokens_fetched = 0

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self.send_as == "form":
            form.update(client_id=self.client_id, client_secret=self._client_secret)
        else:
            basic = httpx.BasicAuth(self.client_id, self._client_secret)
            headers["Authorization"] = basic._auth_header
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _store(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            raise AuthError(str(error or "invalid_token_response"), description, response.status_code)
        if str(body.get("token_type", "")).lower() != "bearer":
            raise AuthError("unsupported_token_type", f"token_type {body.get('token_type')!r}", response.status_code)
        lifetime = float(body.get("expires_in") or 3600)
        self._token = str(body["access_token"])
        self._refresh_at = self._clock() + lifetime - min(self.refresh_margin, lifetime / 5)
        self.granted_scope = body.get("scope")
        self.tokens_fetched += 1

    def _needs_token(self) -> bool:
        return self._token is None or self._clock() >= self._refresh_at

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        fetched_now = False
        if self._needs_token():
            self._store((yield self._token_request()))
            fetched_now = True
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and not fetched_now:
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
