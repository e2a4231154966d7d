"""The client: one method per API operation, page iterators, and retries with backoff on 429/503."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

import httpx

from . import operations as ops
from .auth import TOKEN_PATH, ApiKeyAuth, ClientCredentialsAuth
from .errors import ApiError, NetworkError
from .operations import Operation
from .types import (
    AuditEntry,
    Bulk,
    Invitation,
    Me,
    Member,
    Org,
    Token,
)

USER_AGENT = "orgmembers-sdk/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How 429, 503 and unreachable servers are retried.

    ``Retry-After`` (seconds or an HTTP date) is honoured when present; a wait
    longer than ``max_wait`` is not waited for (the error is raised with its
    ``retry_after``, e.g. a resend cooldown of ten minutes). Without the
    header the wait is ``backoff * 2**attempt`` with jitter, at most
    ``max_wait``. A POST is retried after a 503 or a lost answer only when the
    API documents it as safe to repeat (bulk calls); a 429 was refused before
    anything ran, so it is always retried.
    """

    attempts: int = 5
    backoff: float = 0.5
    max_wait: float = 60.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message, details = str(error.get("code")), str(error.get("message", "")), error.get("details")
    else:
        code, message, details = f"http_{response.status_code}", response.reason_phrase or "error", None
    return ApiError(response.status_code, code, message, details, _retry_after(response))


class Client:
    """orgmembers API client. Give exactly one credential: ``api_key``, or ``client_id`` + ``client_secret``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        auth: httpx.Auth | None = None
        if api_key and (client_id or client_secret):
            raise ValueError("give an API key or client credentials, not both")
        if api_key:
            auth = ApiKeyAuth(api_key)
        elif client_id or client_secret:
            if not (client_id and client_secret):
                raise ValueError("client credentials need both client_id and client_secret")
            auth = ClientCredentialsAuth(client_id, client_secret, self.base_url + TOKEN_PATH, scope=scope)
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._on_request = on_request
        self.requests_sent = 0
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the one place requests are sent -----------------------------------------------------------

    def call(
        self,
        op: Operation,
        path: dict[str, str] | None = None,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """Send one operation (with retries) and return its decoded JSON body (None for 204)."""
        query = {k: v for k, v in (query or {}).items() if v is not None}
        body = {k: v for k, v in body.items() if v is not None} if body is not None else None
        undeclared = set(query) - set(op.query) | (set(body or {}) - set(op.body))
        if undeclared:
            raise ValueError(f"{op.method} {op.path} declares no {sorted(undeclared)}")
        url = op.path.format(**{k: quote(str(v), safe="") for k, v in (path or {}).items()})
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()}
        safe = op.method in ("GET", "PUT", "DELETE") or op.repeat_safe
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(op.method, url, params=params, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing reached the server
                failure: Exception = exc
                wait = None
            except httpx.TransportError as exc:  # sent, answer lost: repeat only what is safe to repeat
                if not safe:
                    raise NetworkError(f"{op.method} {url}: {exc or type(exc).__name__}") from exc
                failure, wait = exc, None
            else:
                self.requests_sent += 1
                if self._on_request:
                    self._on_request(op.method, url, response.status_code)
                if response.status_code < 400:
                    return response.json() if response.content else None
                error = _api_error(response)
                retryable = response.status_code == 429 or (response.status_code == 503 and safe)
                if not retryable or attempt >= self.retry.attempts:
                    raise error
                if error.retry_after is not None and error.retry_after > self.retry.max_wait:
                    raise error
                failure, wait = error, error.retry_after
            if attempt >= self.retry.attempts:
                if isinstance(failure, httpx.TransportError):
                    raise NetworkError(
                        f"cannot reach {self.base_url}: {failure or type(failure).__name__}"
                    ) from failure
                raise failure
            if wait is None:
                wait = min(self.retry.max_wait, self.retry.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            self._sleep(wait)

    def pages(
        self, op: Operation, path: dict[str, str], query: dict[str, Any] | None = None, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``next_cursor``."""
        query = dict(query or {}, limit=page_size)
        while True:
            page = cast(dict[str, Any], self.call(op, path, query=query))
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return
            query["cursor"] = cursor

    def items(
        self, op: Operation, path: dict[str, str], query: dict[str, Any] | None = None, page_size: int | None = None
    ) -> Iterator[Any]:
        for page in self.pages(op, path, query, page_size):
            yield from page["items"]

    # -- account -----------------------------------------------------------------------------------

    def me(self) -> Me:
        return cast(Me, self.call(ops.ME))

    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.call(ops.HEALTH))

    def request_login_code(self, email: str) -> None:
        """Ask for a sign-in code by email (the answer is the same whether or not an account has it)."""
        self.call(ops.LOGIN_LINK, body={"email": email})

    def redeem_login_code(self, code: str) -> dict[str, Any]:
        """Exchange the emailed code for a new personal API key (``secret``, shown once)."""
        return cast(dict[str, Any], self.call(ops.REDEEM_LOGIN_LINK, body={"code": code}))

    # -- orgs ----------------------------------------------------------------------------------------

    def get_org(self, org_id: str) -> Org:
        return cast(Org, self.call(ops.GET_ORG, {"org_id": org_id}))

    def create_org(self, name: str) -> Org:
        return cast(Org, self.call(ops.CREATE_ORG, body={"name": name}))

    def set_seat_capacity(self, org_id: str, capacity: int) -> Org:
        return cast(Org, self.call(ops.SET_CAPACITY, {"org_id": org_id}, body={"capacity": capacity}))

    # -- invitations --------------------------------------------------------------------------------

    def invite(self, org_id: str, emails: list[str], role: str = "member") -> Bulk:
        """Invite up to ``ops.INVITE_MAX`` addresses; per-address results in ``results``."""
        answer = self.call(ops.INVITE, {"org_id": org_id}, body={"emails": emails, "role": role})
        return {"items": answer["results"], "summary": answer["summary"]}

    def iter_invitations(
        self, org_id: str, status: str | None = None, page_size: int | None = None
    ) -> Iterator[Invitation]:
        return self.items(ops.LIST_INVITATIONS, {"org_id": org_id}, {"status": status}, page_size)

    def resend_invitations(self, org_id: str, invitation_ids: list[str]) -> Bulk:
        answer = self.call(ops.RESEND_INVITATIONS, {"org_id": org_id}, body={"invitation_ids": invitation_ids})
        return {"items": answer["results"], "summary": answer["summary"]}

    def remove_invitations(self, org_id: str, invitation_ids: list[str]) -> Bulk:
        answer = self.call(ops.REMOVE_INVITATIONS, {"org_id": org_id}, body={"invitation_ids": invitation_ids})
        return {"items": answer["results"], "summary": answer["summary"]}

    def resend_invitation(self, org_id: str, invitation_id: str) -> Invitation:
        path = {"org_id": org_id, "invitation_id": invitation_id}
        return cast(Invitation, self.call(ops.RESEND_INVITATION, path))

    # -- members and seats --------------------------------------------------------------------------

    def iter_members(
        self,
        org_id: str,
        *,
        role: str | None = None,
        seat: bool | None = None,
        email_prefix: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Member]:
        query = {"role": role, "seat": seat, "email_prefix": email_prefix}
        return self.items(ops.LIST_MEMBERS, {"org_id": org_id}, query, page_size)

    def add_member(self, org_id: str, email: str, role: str = "member", assign_seat: bool = False) -> dict[str, Any]:
        body = {"email": email, "role": role, "assign_seat": assign_seat}
        return cast(dict[str, Any], self.call(ops.ADD_MEMBER, {"org_id": org_id}, body=body))

    def get_member(self, org_id: str, account_id: str) -> Member:
        return cast(Member, self.call(ops.GET_MEMBER, {"org_id": org_id, "account_id": account_id}))

    def onboard(
        self,
        org_id: str,
        emails: list[str],
        role: str = "member",
        token_name: str | None = None,
        token_expires_at: str | None = None,
    ) -> Bulk:
        """Onboard up to ``ops.ONBOARD_MAX`` people; with ``token_name`` each seated one gets a token (its
        ``secret`` is in this answer only)."""
        issue = {"name": token_name, "expires_at": token_expires_at} if token_name else None
        if issue and issue["expires_at"] is None:
            del issue["expires_at"]
        body = {"emails": emails, "role": role, "issue_token": issue}
        return cast(Bulk, self.call(ops.ONBOARD, {"org_id": org_id}, body=body))

    def assign_seats(self, org_id: str, account_ids: list[str], notify: bool = True) -> Bulk:
        body = {"account_ids": account_ids, "notify": notify}
        return cast(Bulk, self.call(ops.ASSIGN_SEATS, {"org_id": org_id}, body=body))

    def revoke_seats(self, org_id: str, account_ids: list[str]) -> Bulk:
        return cast(Bulk, self.call(ops.REVOKE_SEATS, {"org_id": org_id}, body={"account_ids": account_ids}))

    # -- tokens --------------------------------------------------------------------------------------

    def issue_token(
        self, org_id: str, name: str, *, account_id: str | None = None, expires_at: str | None = None
    ) -> Token:
        """Issue an access token: your own, or (as an admin) a member's. The ``secret`` is shown once."""
        body = {"name": name, "expires_at": expires_at}
        if account_id:
            return cast(
                Token, self.call(ops.ISSUE_MEMBER_TOKEN, {"org_id": org_id, "account_id": account_id}, body=body)
            )
        return cast(Token, self.call(ops.ISSUE_OWN_TOKEN, {"org_id": org_id}, body=body))

    def iter_tokens(
        self, org_id: str, *, account_id: str | None = None, page_size: int | None = None
    ) -> Iterator[Token]:
        if account_id:
            return self.items(ops.LIST_MEMBER_TOKENS, {"org_id": org_id, "account_id": account_id}, None, page_size)
        return self.items(ops.LIST_OWN_TOKENS, {"org_id": org_id}, None, page_size)

    def revoke_token(self, org_id: str, token_id: str, *, account_id: str | None = None) -> None:
        if account_id:
            self.call(ops.REVOKE_MEMBER_TOKEN, {"org_id": org_id, "account_id": account_id, "token_id": token_id})
        else:
            self.call(ops.REVOKE_OWN_TOKEN, {"org_id": org_id, "token_id": token_id})

    def verify_token(self, token: str, org_id: str | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], self.call(ops.VERIFY_TOKEN, body={"token": token, "org_id": org_id}))

    # -- audit ---------------------------------------------------------------------------------------

    def iter_audit_log(
        self,
        org_id: str,
        *,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[AuditEntry]:
        query = {"action": action, "actor": actor, "target": target, "since": since}
        return self.items(ops.AUDIT_LOG, {"org_id": org_id}, query, page_size)
