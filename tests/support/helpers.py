"""Test helpers: an HTTP-ish client over chalice.test.Client and a seeded org."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalice.test import Client

from app import app
from chalicelib.domain.models import Actor, Member
from chalicelib.domain.roles import Role
from chalicelib.services import bootstrap, domains, keys, members
from tests.support.dns_support import publish
from tests.support.moto_copies import made_once


@dataclass
class Resp:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None


class Api:
    """Calls the app through chalice.test.Client, as API Gateway would."""

    def __init__(self) -> None:
        self.client = Client(app)

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        json_body: Any = None,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Resp:
        sent = {"Content-Type": "application/json"}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        payload = body if body is not None else (json.dumps(json_body) if json_body is not None else None)
        response = self.client.http.request(method, path, headers=sent, body=payload or b"")
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = text
        return Resp(status=response.status_code, body=parsed, headers=dict(response.headers))

    def get(self, path: str, key: str | None = None, **kw: Any) -> Resp:
        return self.call("GET", path, key, **kw)

    def post(self, path: str, key: str | None = None, json_body: Any = None, **kw: Any) -> Resp:
        return self.call("POST", path, key, json_body, **kw)

    def put(self, path: str, key: str | None = None, json_body: Any = None, **kw: Any) -> Resp:
        return self.call("PUT", path, key, json_body, **kw)

    def patch(self, path: str, key: str | None = None, json_body: Any = None, **kw: Any) -> Resp:
        return self.call("PATCH", path, key, json_body, **kw)

    def delete(self, path: str, key: str | None = None, **kw: Any) -> Resp:
        return self.call("DELETE", path, key, **kw)


@dataclass
class Person:
    account_id: str
    email: str
    key: str


@dataclass
class Seed:
    """An org with one person per role, plus an outsider with an org of their own.

    The org has verified ``acme.test`` (through the domains service and a real
    DNS query), so its people are added directly; other domains are invited.
    """

    org_id: str
    admin: Person
    billing: Person
    member: Person
    outsider: Person
    other_org_id: str
    secrets: list[str]

    def by_role(self, role: str) -> Person:
        return {"account_admin": self.admin, "billing_manager": self.billing, "member": self.member}[role]


def admin_actor(admin: Person) -> Actor:
    return Actor(actor=f"account:{admin.account_id}", request_id="seed", account_id=admin.account_id)


def verify_domain(org_id: str, admin: Person, domain: str) -> domains.Domain:
    """Claim ``domain`` for the org, publish its TXT challenge on the test DNS responder, verify it."""
    claimed = domains.claim(org_id, admin_actor(admin), domain)
    publish(claimed.record_name, claimed.record_value)
    return domains.verify(org_id, admin_actor(admin), domain)


def verify_domain_of(org_id: str, account_id: str, domain: str) -> None:
    """``verify_domain`` for an org made in a test (its admin's account id)."""
    verify_domain(org_id, Person(account_id, "", ""), domain)


def added(outcome: members.AddOutcome) -> Member:
    """The member of a direct add (an invitation here means the test forgot to verify the domain)."""
    assert outcome.member is not None, f"{outcome.email} was invited, not added: verify its domain first"
    return outcome.member


def add_person(org_id: str, admin: Person, email: str, role: Role) -> Person:
    """A direct add: the email must be on a verified domain of the org (acme.test in the seed)."""
    outcome = members.add_member(org_id, admin_actor(admin), email, role)
    member = outcome.member
    assert member is not None, f"{email} was invited, not added: verify its domain first"
    _, secret = keys.issue(member.account_id, "seed")
    return Person(member.account_id, member.email, secret)


def seed_org(api: Api | None = None, capacity: int = 10) -> Seed:
    """The seeded org (made once per process on moto and copied after: tests.support.moto_copies)."""
    return made_once(("seed_org", capacity), lambda: build_seed(capacity))


def build_seed(capacity: int) -> Seed:
    """Seed an org through the services, every time (``seed_org`` copies it where it can)."""
    boot = bootstrap.bootstrap("Acme", "admin@acme.test", seat_capacity=capacity)
    admin = Person(boot.account_id, "admin@acme.test", boot.api_key)
    verify_domain(boot.org_id, admin, "acme.test")
    billing = add_person(boot.org_id, admin, "billing@acme.test", Role.BILLING_MANAGER)
    member = add_person(boot.org_id, admin, "member@acme.test", Role.MEMBER)
    other = bootstrap.bootstrap("Globex", "boss@globex.test")
    outsider = Person(other.account_id, "boss@globex.test", other.api_key)
    verify_domain(other.org_id, outsider, "globex.test")
    return Seed(
        org_id=boot.org_id,
        admin=admin,
        billing=billing,
        member=member,
        outsider=outsider,
        other_org_id=other.org_id,
        secrets=[admin.key, billing.key, member.key, outsider.key],
    )


# The domains SCIM tests provision users on (SCIM create acts only on verified domains).
SCIM_TEST_DOMAINS = ("example.com", "corp.example", "okta.example", "entra.example", "work.example", "other.example")


def scim_seed(api: Api | None = None, capacity: int = 10) -> Seed:
    """``seed_org`` whose org has also verified ``SCIM_TEST_DOMAINS`` (through the service and DNS)."""

    def seeded() -> Seed:
        seed = build_seed(capacity)
        for domain in SCIM_TEST_DOMAINS:
            verify_domain(seed.org_id, seed.admin, domain)
        return seed

    return made_once(("scim_seed", capacity), seeded)


def set_limits(monkeypatch: Any, **values: int) -> None:
    """Set abuse-limit settings (e.g. ``RESEND_COOLDOWN_SECONDS=600``) for one test.

    The settings are read again at once: read later, inside a Chalice test client
    call, they would see the stage's environment instead of the test's tables.
    """
    from chalicelib.config import get_settings, reset_settings

    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
    reset_settings()
    get_settings()
