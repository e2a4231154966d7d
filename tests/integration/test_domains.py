"""Verified domains and consent (issue 12, finding 1; invariant 9).

Verification makes a real DNS query to the embedded responder of
local/dns_server.py (started per test process, see tests/dns_support.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.domain.errors import DomainError
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import bootstrap, domains
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.domains import DomainModel
from local.dns_server import DnsResponder, RecordStore
from tests.support.dns_support import publish
from tests.support.helpers import Api, Person, Seed, admin_actor, verify_domain
from tests.support.invitation_support import links_to, run_stream, stream_batch


def attacker(api: Api) -> tuple[str, str]:
    """Any account may create an org: the attacker's org and key."""
    boot = bootstrap.bootstrap("Evil", "mallory@evil.test")
    return boot.org_id, boot.api_key


def audit_actions(org_id: str) -> list[str]:
    return [i.action for i in AuditModel.query(org_id)]


# --- normalization -----------------------------------------------------------------


# --- claim, list, verify, release over HTTP ------------------------------------------


def test_claim_verify_list_release(api: Api, seed: Seed) -> None:
    base = f"/v1/orgs/{seed.org_id}/domains"
    r = api.post(base, seed.admin.key, {"domain": "Corp.Example."})
    assert r.status == 201, r.body
    assert r.body["domain"] == "corp.example" and r.body["status"] == "pending"
    record = r.body["record"]
    assert record["name"] == "_orgs-challenge.corp.example" and record["type"] == "TXT"
    assert record["value"].startswith("orgs-verification=") and len(record["value"]) > 30

    # Not published yet: 409 domain_not_verified saying which record was expected; nothing changes.
    failed = api.post(f"{base}/corp.example/verify", seed.admin.key)
    assert failed.status == 409 and failed.code == "domain_not_verified", failed.body
    assert failed.body["error"]["details"]["record_name"] == "_orgs-challenge.corp.example"
    assert failed.body["error"]["details"]["expected_value"] == record["value"]
    publish(record["name"], "orgs-verification=someone-else")
    failed = api.post(f"{base}/corp.example/verify", seed.admin.key)
    assert failed.code == "domain_not_verified" and failed.body["error"]["details"]["found"]
    assert not domains.is_verified(seed.org_id, "corp.example")

    publish(record["name"], record["value"])
    ok = api.post(f"{base}/CORP.example/verify", seed.admin.key)
    assert ok.status == 200 and ok.body["status"] == "verified" and ok.body["verified_at"], ok.body
    assert api.post(f"{base}/corp.example/verify", seed.admin.key).status == 200  # again: no change

    listed = api.get(base, seed.admin.key)
    assert listed.status == 200
    assert {d["domain"]: d["status"] for d in listed.body["items"]} == {
        "acme.test": "verified",
        "corp.example": "verified",
    }
    assert api.post(base, seed.admin.key, {"domain": "corp.example"}).code == "domain_already_claimed"

    assert api.delete(f"{base}/corp.example", seed.admin.key).status == 204
    assert not domains.is_verified(seed.org_id, "corp.example")
    assert api.delete(f"{base}/corp.example", seed.admin.key).status == 404
    assert "corp.example" not in [d["domain"] for d in api.get(base, seed.admin.key).body["items"]]
    actions = audit_actions(seed.org_id)
    for action in ("domain.claimed", "domain.verified", "domain.released"):
        assert action in actions


@pytest.mark.parametrize("body", [{"domain": "not a domain"}, {"domain": "x@y.example"}, {"domain": "a..b"}])
def test_bad_domains_are_400_and_change_nothing(api: Api, seed: Seed, body: dict[str, Any]) -> None:
    base = f"/v1/orgs/{seed.org_id}/domains"
    before = DomainModel.count(f"org#{seed.org_id}")
    r = api.post(base, seed.admin.key, body)
    assert r.status == 400 and r.code == "invalid_domain", r.body
    assert api.post(f"{base}/a..b/verify", seed.admin.key).code == "invalid_domain"
    assert DomainModel.count(f"org#{seed.org_id}") == before


def test_unknown_claim_is_404(api: Api, seed: Seed) -> None:
    assert api.post(f"/v1/orgs/{seed.org_id}/domains/nowhere.example/verify", seed.admin.key).status == 404


def test_a_domain_is_verified_by_one_org_only(api: Api, seed: Seed) -> None:
    r = api.post(f"/v1/orgs/{seed.other_org_id}/domains", seed.outsider.key, {"domain": "acme.test"})
    assert r.status == 201  # claiming is free; verifying is not
    publish(r.body["record"]["name"], r.body["record"]["value"])  # even with the record in DNS
    taken = api.post(f"/v1/orgs/{seed.other_org_id}/domains/acme.test/verify", seed.outsider.key)
    assert taken.status == 409 and taken.code == "domain_taken", taken.body
    assert domains.is_verified(seed.org_id, "acme.test")
    assert not domains.is_verified(seed.other_org_id, "acme.test")


def test_released_domain_can_be_verified_by_another_org(api: Api, seed: Seed) -> None:
    verify_domain(seed.org_id, seed.admin, "shared.example")
    claimed = api.post(f"/v1/orgs/{seed.other_org_id}/domains", seed.outsider.key, {"domain": "shared.example"})
    publish(claimed.body["record"]["name"], claimed.body["record"]["value"])
    verify = f"/v1/orgs/{seed.other_org_id}/domains/shared.example/verify"
    assert api.post(verify, seed.outsider.key).code == "domain_taken"
    assert api.delete(f"/v1/orgs/{seed.org_id}/domains/shared.example", seed.admin.key).status == 204
    assert api.post(verify, seed.outsider.key).status == 200
    assert domains.is_verified(seed.other_org_id, "shared.example")


def test_resolver_down_is_503_and_changes_nothing(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import reset_settings

    claimed = api.post(f"/v1/orgs/{seed.org_id}/domains", seed.admin.key, {"domain": "down.example"})
    silent = DnsResponder(RecordStore()).start()
    address = silent.address
    silent.stop()  # nothing answers there now
    monkeypatch.setenv("DNS_RESOLVER", address)
    monkeypatch.setattr(domains, "DNS_TIMEOUT_SECONDS", 0.5)
    reset_settings()
    publish(claimed.body["record"]["name"], claimed.body["record"]["value"])
    r = api.post(f"/v1/orgs/{seed.org_id}/domains/down.example/verify", seed.admin.key)
    assert r.status == 503 and r.code == "dns_unavailable", r.body
    assert not domains.is_verified(seed.org_id, "down.example")


# --- consent: the attack of the issue, over HTTP ------------------------------------


def test_attacker_cannot_attach_an_existing_account(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    evil_org, evil_key = attacker(api)
    victim = seed.admin  # admin@acme.test has an account (and an org)
    add = f"/v1/orgs/{evil_org}/members"
    existing = api.post(add, evil_key, {"email": victim.email})
    unknown = api.post(add, evil_key, {"email": "nobody-yet@acme.test"})
    for r in (existing, unknown):
        assert r.status == 202, r.body
        assert r.body["status"] == "invited" and r.body["invitation_id"]
        assert r.body["account_id"] is None and "account_created" not in r.body and "name" not in r.body
    assert set(existing.body) == set(unknown.body)
    assert {k: v for k, v in existing.body.items() if k not in ("email", "invitation_id")} == {
        k: v for k, v in unknown.body.items() if k not in ("email", "invitation_id")
    }
    # The victim's account did not join; no account was made for the unknown email.
    me = api.get("/v1/me", victim.key)
    assert evil_org not in [m["org_id"] for m in me.body["memberships"]], me.body
    from chalicelib.services import accounts

    assert accounts.find_by_email("nobody-yet@acme.test") is None
    # Each got an invitation email instead: joining needs their own click.
    run_stream(stream_batch(evil_org))
    assert links_to(mailer, victim.email) and links_to(mailer, "nobody-yet@acme.test")


def test_onboarding_off_the_verified_domains_invites(api: Api, seed: Seed) -> None:
    evil_org, evil_key = attacker(api)
    r = api.post(
        f"/v1/orgs/{evil_org}/members/onboard",
        evil_key,
        {"emails": [seed.admin.email, "nobody-yet@acme.test"], "issue_token": {"name": "t"}},
    )
    assert r.status == 200, r.body
    items = r.body["items"]
    assert [i["status"] for i in items] == ["invited", "invited"]
    assert items[0].keys() == items[1].keys() and all(i["account_id"] is None for i in items)
    assert all(i["token"] is None and not i["seat"] for i in items)
    assert "account_created" not in items[0]
    me = api.get("/v1/me", seed.admin.key)
    assert evil_org not in [m["org_id"] for m in me.body["memberships"]]


def test_onboarding_mixes_direct_and_invited_in_input_order(api: Api, seed: Seed) -> None:
    r = api.post(
        f"/v1/orgs/{seed.org_id}/members/onboard",
        seed.admin.key,
        {"emails": ["new1@acme.test", "guest@elsewhere.example", "new2@acme.test", "guest@elsewhere.example"]},
    )
    assert [i["status"] for i in r.body["items"]] == ["onboarded", "invited", "onboarded", "duplicate_in_request"]
    assert r.body["items"][0]["account_id"] and r.body["items"][1]["account_id"] is None
    again = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, {"emails": ["guest@elsewhere.example"]})
    assert again.body["items"][0]["status"] == "already_invited"


def test_direct_add_on_a_verified_domain_acts_at_once(api: Api, seed: Seed) -> None:
    r = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "Direct@Acme.test", "assign_seat": True})
    assert r.status == 201 and r.body["status"] == "added" and r.body["account_id"] and r.body["seat"], r.body
    assert "account_created" not in r.body and "name" not in r.body
    again = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "guest@other.example"})
    assert again.status == 202 and again.body["status"] == "invited"
    twice = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "guest@other.example"})
    assert twice.status == 202 and twice.body["status"] == "already_invited"
    member = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": seed.member.email})
    assert member.status == 409 and member.code == "already_member"


def test_scim_create_off_the_verified_domains_is_400(api: Api, seed: Seed) -> None:
    from chalicelib.services import scim_tokens

    _, secret = scim_tokens.issue(seed.org_id, admin_actor(seed.admin), "idp")
    headers = {"Content-Type": "application/scim+json"}
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": seed.outsider.email}
    r = api.post("/scim/v2/Users", secret, user, headers=headers)
    assert r.status == 400, r.body
    assert r.body["scimType"] == "invalidValue" and "not verified" in r.body["detail"]
    assert "urn:ietf:params:scim:api:messages:2.0:Error" in r.body["schemas"]
    me = api.get("/v1/me", seed.outsider.key)
    assert seed.org_id not in [m["org_id"] for m in me.body["memberships"]]
    ok = api.post("/scim/v2/Users", secret, {**user, "userName": "scim-new@acme.test"}, headers=headers)
    assert ok.status == 201, ok.body


# --- invariant: one owner, also under concurrency (DynamoDB Local) --------------------


def _race(org_ids: list[tuple[str, Person]], domain: str) -> list[str]:
    claims = [domains.claim(org_id, admin_actor(admin), domain) for org_id, admin in org_ids]
    for claimed in claims:
        publish(claimed.record_name, claimed.record_value)

    def verify(pair: tuple[str, Person]) -> str:
        try:
            domains.verify(pair[0], admin_actor(pair[1]), domain)
        except DomainError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=len(org_ids)) as pool:
        return list(pool.map(verify, org_ids))


def test_concurrent_verifications_one_wins(local_tables: str) -> None:
    orgs = []
    for i in range(6):
        boot = bootstrap.bootstrap(f"Org {i}", f"admin{i}@org{i}.test")
        orgs.append((boot.org_id, Person(boot.account_id, f"admin{i}@org{i}.test", boot.api_key)))
    for round_ in range(3):
        domain = f"contested{round_}.example"
        results = _race(orgs, domain)
        assert sorted(results) == ["domain_taken"] * 5 + ["ok"], results
        winners = [org_id for org_id, _ in orgs if domains.is_verified(org_id, domain)]
        assert len(winners) == 1
        owner_items = list(DomainModel.query(f"owner#{domain}", consistent_read=True))
        assert len(owner_items) == 1 and owner_items[0].org_id == winners[0]
