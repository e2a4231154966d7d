"""The Python SDK: pages against the real app, retries on 429 ``Retry-After`` against the real app, token refresh.

Pagination, API-key auth and the 429 retry run against the app over HTTP on
DynamoDB Local. The OAuth client-credentials token endpoint (RFC 6749 §4.4)
and a server answering 503 are stood in for by ``httpx.MockTransport``: those
fakes are the server, the SDK under test is real.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
from orgmembers_sdk import ApiError, AuthError, Client, ClientCredentialsAuth, NetworkError, RetryPolicy
from orgmembers_sdk import operations as ops

from chalicelib.domain.roles import Role
from chalicelib.services import members
from chalicelib.storage.invitations import InvitationModel
from tests.support.cli_support import Served, served
from tests.support.helpers import admin_actor, set_limits

__all__ = ["served"]


def test_iterators_follow_every_page_of_a_listing(served: Served) -> None:
    seed = served.seed
    for i in range(7):
        members.add_member(seed.org_id, admin_actor(seed.admin), f"paged{i}@acme.test", Role.MEMBER)
    with Client(served.url, api_key=seed.admin.key) as om:
        emails = [m["email"] for m in om.iter_members(seed.org_id, page_size=3)]
        pages = om.requests_sent
        assert sorted(emails) == sorted(
            ["admin@acme.test", "billing@acme.test", "member@acme.test"] + [f"paged{i}@acme.test" for i in range(7)]
        )
        assert len(emails) == len(set(emails)) == 10
        assert pages >= 4  # 10 members, 3 a page
        listed = [p for m, p, _ in served.requests if m == "GET" and "/members" in p]
        assert len(listed) == pages and sum("cursor=" in p for p in listed) == pages - 1
        # The filters reach the server (and are documented, see test_sdk_openapi.py).
        only = [m["email"] for m in om.iter_members(seed.org_id, email_prefix="paged", page_size=2)]
        assert sorted(only) == [f"paged{i}@acme.test" for i in range(7)]
        assert [m["email"] for m in om.iter_members(seed.org_id, role="billing_manager")] == ["billing@acme.test"]


def test_a_429_is_retried_after_its_retry_after(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = served.seed
    set_limits(monkeypatch, RESEND_COOLDOWN_SECONDS=2)  # a resend within 2 s of the issue is 429 resend_too_soon
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with Client(served.url, api_key=seed.admin.key, sleep=sleep) as om:
        [invited] = om.invite(seed.org_id, ["later@invitees.example"])["items"]
        resent = om.resend_invitation(seed.org_id, invited["invitation_id"])
    assert resent["issue"] == 2
    statuses = [s for m, p, s in served.requests if p.endswith("/resend")]
    assert statuses[0] == 429 and statuses[-1] == 200
    assert waits and 1 <= waits[0] <= 2  # the server's Retry-After, not a guess
    [stored] = [i for i in InvitationModel.query(seed.org_id) if i.email == "later@invitees.example"]
    assert stored.issue == 2

    # A wait beyond max_wait is not waited for: the error comes back with its retry_after.
    set_limits(monkeypatch, RESEND_COOLDOWN_SECONDS=600)
    with Client(served.url, api_key=seed.admin.key, sleep=sleep, retry=RetryPolicy(max_wait=30)) as om:
        waits.clear()
        with pytest.raises(ApiError) as refused:
            om.resend_invitation(seed.org_id, invited["invitation_id"])
    assert refused.value.status == 429 and refused.value.code == "resend_too_soon"
    assert refused.value.retry_after is not None and refused.value.retry_after > 500
    assert waits == []


def test_a_wrong_api_key_is_an_api_error_with_the_envelope_code(served: Served) -> None:
    with Client(served.url, api_key="oak_wrong") as om, pytest.raises(ApiError) as failed:
        om.me()
    assert (failed.value.status, failed.value.code) == (401, "unauthenticated")


def _server(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return httpx.MockTransport(handler)


def _unavailable(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    body = {"error": {"code": "service_unavailable", "message": "try again"}}
    return httpx.Response(503, json=body, headers=headers)


def test_503_is_retried_only_where_repeating_is_safe() -> None:
    seen: list[httpx.Request] = []
    waits: list[float] = []
    bulk = {"results": [{"email": "a@x.example", "status": "invited"}], "summary": {"invited": 1}}
    answers = [_unavailable(), _unavailable("3"), httpx.Response(200, json=bulk)]
    om = Client("http://api.test", api_key="k", transport=_server(answers, seen), sleep=waits.append)
    assert om.invite("org_1", ["a@x.example"])["summary"] == {"invited": 1}  # a bulk call: safe to repeat
    assert len(seen) == 3 and waits[1] == 3.0 and 0 < waits[0] <= 0.75  # backoff with jitter, then Retry-After
    assert json.loads(seen[0].content) == {"emails": ["a@x.example"], "role": "member"}

    seen.clear()
    answers[:] = [_unavailable("1")]
    with pytest.raises(ApiError) as failed:
        om.issue_token("org_1", "ci")  # a second try could issue a second token: not retried
    assert failed.value.status == 503 and len(seen) == 1

    seen.clear()
    answers[:] = [_unavailable("0")] * 5
    with pytest.raises(ApiError):
        om.get_org("org_1")
    assert len(seen) == RetryPolicy().attempts


def test_an_unreachable_server_is_a_network_error_after_the_retries() -> None:
    tries: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        tries.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    waits: list[float] = []
    om = Client("http://api.test", api_key="k", transport=httpx.MockTransport(refuse), sleep=waits.append)
    with pytest.raises(NetworkError, match=r"cannot reach http://api\.test"):
        om.me()
    assert len(tries) == RetryPolicy().attempts and len(waits) == RetryPolicy().attempts - 1


def test_the_sdk_refuses_to_send_a_field_its_operation_does_not_declare() -> None:
    om = Client("http://api.test", api_key="k", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(ValueError, match="declares no"):
        om.call(ops.LIST_MEMBERS, {"org_id": "o"}, query={"sort": "email"})


class TokenServer:
    """The RFC 6749 §4.4 token endpoint and a protected API, as a fake server with a clock."""

    def __init__(self, lifetime: int = 120) -> None:
        self.now = 0.0
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.token_requests: list[httpx.Request] = []
        self.api_auth: list[str] = []  # the Authorization of each API request, as it arrived

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth/token":
            self.token_requests.append(request)
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            basic = request.headers.get("Authorization", "")
            who = base64.b64decode(basic.split(" ", 1)[1]).decode() if basic.startswith("Basic ") else None
            if form.get("client_id"):
                who = f"{form['client_id']}:{form.get('client_secret')}"
            if who != "svc_1:s3cret":
                return httpx.Response(401, json={"error": "invalid_client", "error_description": "unknown client"})
            if form.get("grant_type") != "client_credentials":
                return httpx.Response(400, json={"error": "unsupported_grant_type"})
            token = f"at_{len(self.issued)}"
            self.issued.append(token)
            self.valid.add(token)
            body = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "scope": form.get("scope"),
            }
            return httpx.Response(200, json=body)
        self.api_auth.append(request.headers.get("Authorization", ""))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            return httpx.Response(401, json={"error": {"code": "unauthenticated", "message": "no"}})
        return httpx.Response(200, json={"account_id": "svc", "email": "svc@x", "created_at": "", "memberships": []})


def _credentials_client(server: TokenServer) -> tuple[Client, ClientCredentialsAuth]:
    om = Client(
        "http://api.test",
        client_id="svc_1",
        client_secret="s3cret",
        scope="members:read",
        transport=httpx.MockTransport(server),
    )
    assert isinstance(om.auth, ClientCredentialsAuth)
    om.auth._clock = lambda: server.now  # the fake server's clock
    return om, om.auth


def test_client_credentials_are_exchanged_once_and_refreshed_before_expiry() -> None:
    server = TokenServer(lifetime=120)
    om, auth = _credentials_client(server)
    om.me()
    server.now = 90.0
    om.me()  # 30 s left of 120, more than the margin (24 s, a fifth of the lifetime): same token
    assert len(server.token_requests) == 1
    [first] = server.token_requests
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(b"svc_1:s3cret").decode()
    assert parse_qs(first.content.decode()) == {"grant_type": ["client_credentials"], "scope": ["members:read"]}
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"

    server.now = 100.0  # 20 s left: refreshed before use, so no request leaves with a token about to die
    om.me()
    assert len(server.token_requests) == 2
    assert server.api_auth == ["Bearer at_0", "Bearer at_0", "Bearer at_1"]
    assert auth.granted_scope == "members:read"


def test_a_token_revoked_early_is_replaced_once_on_401() -> None:
    server = TokenServer()
    om, _ = _credentials_client(server)
    om.me()
    server.valid.clear()  # the server revoked it
    om.me()
    assert server.api_auth == ["Bearer at_0", "Bearer at_0", "Bearer at_1"]
    server.valid.clear()
    om.me()
    assert len(server.token_requests) == 3 and server.api_auth[-1] == "Bearer at_2"


def test_refused_client_credentials_raise_the_rfc_error() -> None:
    server = TokenServer()
    om = Client("http://api.test", client_id="svc_1", client_secret="wrong", transport=httpx.MockTransport(server))
    with pytest.raises(AuthError) as refused:
        om.me()
    assert (refused.value.error, refused.value.description, refused.value.status) == (
        "invalid_client",
        "unknown client",
        401,
    )
    assert server.api_auth == []


def test_client_authentication_by_form_fields() -> None:
    server = TokenServer()
    auth = ClientCredentialsAuth("svc_1", "s3cret", "http://api.test/v1/oauth/token", send_as="form")
    with httpx.Client(transport=httpx.MockTransport(server), auth=auth) as http:
        assert http.get("http://api.test/v1/me").status_code == 200
    [request] = server.token_requests
    assert "Authorization" not in request.headers
    assert parse_qs(request.content.decode())["client_id"] == ["svc_1"]
