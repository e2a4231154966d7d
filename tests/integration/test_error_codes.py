"""Every documented error code is reachable through the HTTP API and answered with its documented status.

The codes come from the domain (``all_error_types()``) and the OpenAPI
document; a code without a scenario here fails the test, so a new error
type needs a way to provoke it before it ships.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection

from chalicelib.clock import set_clock
from chalicelib.config import get_settings
from chalicelib.domain.errors import DnsUnavailable, all_error_types
from chalicelib.http.openapi import RATE_LIMITED, document
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.base import CancelReason, TransactionCancelled, Tx
from tests.support.dns_support import publish
from tests.support.helpers import Api, Resp, Seed, set_limits
from tests.support.invitation_support import links_to, run_stream, stream_batch

# (method, path template or None when the code is not tied to one declared operation, response)
Outcome = tuple[str, str | None, Resp]
Scenario = Callable[[Api, Seed, pytest.MonkeyPatch, MemoryMailer], Outcome]
SCENARIOS: dict[str, Scenario] = {}
# Produced by API Gateway, not the function: checked on the deploy template.
GATEWAY_CODES = {RATE_LIMITED: "tests/test_package.py::test_api_stage_is_throttled_and_429_uses_the_error_envelope"}


def scenario(code: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[code] = fn
        return fn

    return register


def invitation_link(api: Api, seed: Seed, mailer: MemoryMailer, email: str) -> tuple[str, str]:
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": [email]})
    run_stream(stream_batch(seed.org_id))
    return r.body["results"][0]["invitation_id"], links_to(mailer, email)[-1]


def seat(api: Api, seed: Seed, account_id: str) -> Resp:
    return api.post(f"/v1/orgs/{seed.org_id}/members/{account_id}/seat", seed.admin.key)


ORG = "/v1/orgs/{org_id}"
MEMBER = ORG + "/members/{account_id}"


@scenario("invalid_request")
def _invalid_request(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "POST", "/v1/orgs", api.post("/v1/orgs", seed.admin.key, {"name": ""})


@scenario("unauthenticated")
def _unauthenticated(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "GET", "/v1/me", api.get("/v1/me", "oak_not-a-key")


@scenario("forbidden")
def _forbidden(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "GET", ORG + "/invitations", api.get(f"/v1/orgs/{seed.org_id}/invitations", seed.member.key)


@scenario("not_found")
def _not_found(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "GET", MEMBER, api.get(f"/v1/orgs/{seed.org_id}/members/acc_missing", seed.admin.key)


@scenario("method_not_allowed")
def _method_not_allowed(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "PUT", None, api.call("PUT", "/v1/me", seed.admin.key)


@scenario("unsupported_media_type")
def _unsupported_media_type(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    r = api.call("POST", "/v1/orgs", seed.admin.key, body="name=x", headers={"Content-Type": "text/plain"})
    return "POST", "/v1/orgs", r


@scenario("conflict")
def _conflict(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    def always_conflicting(self: Tx, client_request_token: str | None = None) -> None:
        reasons: list[CancelReason | None] = [None] * len(self.items)
        reasons[-1] = CancelReason(code="TransactionConflict", item=None)
        raise TransactionCancelled(reasons)

    mp.setattr(Tx, "commit", always_conflicting)
    return "PATCH", ORG, api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": "Renamed"})


@scenario("payload_too_large")
def _payload_too_large(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    body = "email\n" + "a@example.com\n" * (get_settings().max_body_bytes // 14 + 1)
    r = api.call("POST", f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, body=body, headers=CSV)
    return "POST", ORG + "/invitations", r


CSV = {"Content-Type": "text/csv"}


@scenario("too_many_rows")
def _too_many_rows(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    body = "email\n" + "".join(f"u{i}@example.com\n" for i in range(1001))
    r = api.call("POST", f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, body=body, headers=CSV)
    return "POST", ORG + "/invitations", r


@scenario("invalid_csv")
def _invalid_csv(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    r = api.call("POST", f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, body="email\n\n", headers=CSV)
    return "POST", ORG + "/invitations", r


@scenario("cannot_change_own_role")
def _own_role(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    path = f"/v1/orgs/{seed.org_id}/members/{seed.admin.account_id}/role"
    return "PUT", MEMBER + "/role", api.put(path, seed.admin.key, {"role": "member"})


@scenario("secret_limit_reached")
def _secret_limit_reached(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    base = f"/v1/orgs/{seed.org_id}/service-accounts"
    created = api.post(base, seed.admin.key, {"name": "robot", "scopes": ["members:read"]})
    assert created.status == 201, created.body
    secrets_path = f"{base}/{created.body['client_id']}/secrets"
    assert api.post(secrets_path, seed.admin.key).status == 201  # the second live secret
    return "POST", "/v1/orgs/{org_id}/service-accounts/{client_id}/secrets", api.post(secrets_path, seed.admin.key)


@scenario("last_admin")
def _last_admin(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "DELETE", MEMBER, api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.admin.account_id}", seed.admin.key)


@scenario("already_member")
def _already_member(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": seed.member.email})
    return "POST", ORG + "/members", r


@scenario("capacity_below_usage")
def _capacity_below_usage(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    assert seat(api, seed, seed.member.account_id).status == 200
    return "PUT", ORG + "/seats", api.put(f"/v1/orgs/{seed.org_id}/seats", seed.admin.key, {"capacity": 0})


@scenario("seat_limit_reached")
def _seat_limit_reached(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    assert api.put(f"/v1/orgs/{seed.org_id}/seats", seed.admin.key, {"capacity": 0}).status == 200
    return "POST", MEMBER + "/seat", seat(api, seed, seed.member.account_id)


@scenario("seat_already_assigned")
def _seat_already_assigned(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    assert seat(api, seed, seed.member.account_id).status == 200
    return "POST", MEMBER + "/seat", seat(api, seed, seed.member.account_id)


@scenario("no_seat")
def _no_seat(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    path = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat"
    return "DELETE", MEMBER + "/seat", api.delete(path, seed.admin.key)


@scenario("seat_required")
def _seat_required(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "POST", ORG + "/tokens", api.post(f"/v1/orgs/{seed.org_id}/tokens", seed.member.key, {"name": "laptop"})


@scenario("token_revoked")
def _token_revoked(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    assert seat(api, seed, seed.member.account_id).status == 200
    base = f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens"
    token_id = api.post(base, seed.admin.key, {"name": "ci"}).body["token_id"]
    assert api.delete(f"{base}/{token_id}", seed.admin.key).status == 204
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return (
        "PATCH",
        MEMBER + "/tokens/{token_id}",
        api.patch(f"{base}/{token_id}", seed.admin.key, {"expires_at": later}),
    )


@scenario("already_accepted")
def _already_accepted(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    invitation_id, token = invitation_link(api, seed, mailer, "joiner@example.com")
    assert api.post(f"/v1/invitations/{token}/accept").status == 200
    path = f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend"
    return "POST", ORG + "/invitations/{invitation_id}/resend", api.post(path, seed.admin.key)


@scenario("invitation_expired")
def _invitation_expired(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    _, token = invitation_link(api, seed, mailer, "late@example.com")
    later = datetime.now(UTC) + timedelta(days=get_settings().invitation_ttl_days, minutes=1)
    set_clock(lambda: later)
    return "POST", "/v1/invitations/{invitation_token}/accept", api.post(f"/v1/invitations/{token}/accept")


@scenario("invitation_revoked")
def _invitation_revoked(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    invitation_id, token = invitation_link(api, seed, mailer, "gone@example.com")
    assert api.delete(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).status == 204
    return "GET", "/v1/invitations/{invitation_token}", api.get(f"/v1/invitations/{token}")


@scenario("email_mismatch")
def _email_mismatch(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    _, token = invitation_link(api, seed, mailer, "someone@example.com")
    r = api.post(f"/v1/invitations/{token}/accept", seed.outsider.key)
    return "POST", "/v1/invitations/{invitation_token}/accept", r


@scenario("invalid_code")
def _invalid_code(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    r = api.post("/v1/auth/login-link/redeem", json_body={"code": "olc_" + "x" * 43})
    return "POST", "/v1/auth/login-link/redeem", r


@scenario("service_unavailable")
def _service_unavailable(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    def throttled(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, operation)

    mp.setattr(Connection, "_make_api_call", throttled)
    return "GET", "/v1/me", api.get("/v1/me", seed.admin.key)


DOMAINS = ORG + "/domains"
VERIFY = DOMAINS + "/{domain}/verify"


def _claim(api: Api, seed: Seed, domain: str) -> Resp:
    return api.post(f"/v1/orgs/{seed.org_id}/domains", seed.admin.key, {"domain": domain})


@scenario("invalid_domain")
def _invalid_domain(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "POST", DOMAINS, _claim(api, seed, "not a domain")


@scenario("domain_already_claimed")
def _domain_already_claimed(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "POST", DOMAINS, _claim(api, seed, "acme.test")  # the seed verified it


@scenario("domain_not_verified")
def _domain_not_verified(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    assert _claim(api, seed, "unpublished.example").status == 201
    return "POST", VERIFY, api.post(f"/v1/orgs/{seed.org_id}/domains/unpublished.example/verify", seed.admin.key)


@scenario("domain_taken")
def _domain_taken(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    claimed = api.post(f"/v1/orgs/{seed.other_org_id}/domains", seed.outsider.key, {"domain": "acme.test"})
    publish(claimed.body["record"]["name"], claimed.body["record"]["value"])
    r = api.post(f"/v1/orgs/{seed.other_org_id}/domains/acme.test/verify", seed.outsider.key)
    return "POST", VERIFY, r


@scenario("dns_unavailable")
def _dns_unavailable(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    from chalicelib.services import domains

    assert _claim(api, seed, "quiet.example").status == 201

    def no_answer(name: str) -> list[str]:
        raise DnsUnavailable()

    mp.setattr(domains, "lookup_txt", no_answer)  # the real resolver failure is in test_domains.py
    return "POST", VERIFY, api.post(f"/v1/orgs/{seed.org_id}/domains/quiet.example/verify", seed.admin.key)


@scenario("org_name_not_allowed")
def _org_name_not_allowed(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    return "POST", "/v1/orgs", api.post("/v1/orgs", seed.admin.key, {"name": "Sign in at evil.example"})


@scenario("resend_too_soon")
def _resend_too_soon(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    set_limits(mp, RESEND_COOLDOWN_SECONDS=600)
    invitation_id, _ = invitation_link(api, seed, mailer, "soon@example.com")
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend", seed.admin.key)
    return "POST", "/v1/orgs/{org_id}/invitations/{invitation_id}/resend", r


@scenario("too_many_sign_in_requests")
def _too_many_sign_in_requests(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    set_limits(mp, SIGNIN_REQUESTS_PER_EMAIL=1)
    api.post("/v1/auth/login-link", None, {"email": "often@example.com"})
    return "POST", "/v1/auth/login-link", api.post("/v1/auth/login-link", None, {"email": "often@example.com"})


@scenario("resend_quota_exceeded")
def _resend_quota_exceeded(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    set_limits(mp, RESENDS_PER_NEW_ORG_DAY=0)
    invitation_id, _ = invitation_link(api, seed, mailer, "again@example.com")
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend", seed.admin.key)
    return "POST", "/v1/orgs/{org_id}/invitations/{invitation_id}/resend", r


@scenario("invitation_quota_exceeded")
def _invitation_quota_exceeded(api: Api, seed: Seed, mp: pytest.MonkeyPatch, mailer: MemoryMailer) -> Outcome:
    set_limits(mp, INVITATIONS_PER_NEW_ORG_DAY=0)
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "over@example.com"})
    return "POST", "/v1/orgs/{org_id}/members", r


def documented_codes() -> dict[str, int]:
    codes: dict[str, int] = dict(document()["components"]["x-error-codes"])
    for methods in document()["paths"].values():
        for op in methods.values():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                for code in (
                    schema.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
                ):
                    assert codes.get(code) == int(status), f"{code} documented as {status} and {codes.get(code)}"
    return codes


def test_every_code_has_a_scenario() -> None:
    domain = {cls.code: cls.status for cls in all_error_types()}
    documented = documented_codes()
    assert domain.items() <= documented.items()
    missing = set(documented) - set(SCENARIOS) - set(GATEWAY_CODES)
    assert not missing, f"error codes without a scenario: {sorted(missing)}"


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_code_is_produced_with_its_documented_status(
    code: str, api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch, mailer: MemoryMailer
) -> None:
    method, path, r = SCENARIOS[code](api, seed, monkeypatch, mailer)
    status = documented_codes()[code]
    assert (r.status, r.code) == (status, code), r.body
    if path is not None:
        response = document()["paths"][path][method.lower()]["responses"][str(status)]
        assert (
            code
            in response["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"]
        ), f"{code} not documented on {method} {path}"
