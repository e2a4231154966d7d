"""The permission table of docs/api.md, as test data: one row per (route, variant).

``tests/test_permissions.py`` generates the permission matrix from ``CASES``
and fails when a route registered in ``chalicelib.http.routing.ROUTES`` has
no row here, so a new route cannot be forgotten.

To add a route: append a ``Case`` with the route's method and path exactly as
registered, the callers that may call it, and functions that build its path
parameters and body from a ``Ctx`` (the seeded org, see tests/helpers.Seed).
Each call gets fresh targets from those functions, so a destructive route
(remove a member, revoke a key) can be called by every caller in turn.

Callers: the three roles of the seeded org, ``outsider`` (an admin of another
org) and ``anonymous`` (no key). A caller not in ``allowed`` must get the
default refusal for its kind (anonymous 401, outsider 403/404 with no data,
an in-org role 403); an allowed caller gets the route's success status.
``statuses`` overrides either for one caller (e.g. a call that is allowed
but refused by a business rule for that caller).

The JSON API's matrix (tests/test_permissions.py) also has one service
account caller per scope (``SERVICE_CALLERS``: a fresh service account of the
seeded org holding that one scope, with an access token from the token
endpoint). It may call the routes of its row's ``scope`` and every route that
takes no credential; everything else answers 403. ``scope`` must be the scope
the route registry declares for the route.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role, Scope
from chalicelib.mail import get_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import (
    domains,
    groups,
    invitation_links,
    invitations,
    keys,
    login_links,
    members,
    scim_tokens,
    seats,
    service_accounts,
    tokens,
)
from chalicelib.storage.invitations import InvitationModel
from chalicelib.storage.orgs import OrgModel
from tests.support.console_support import deliver_signins
from tests.support.dns_support import publish
from tests.support.helpers import Api, Person, Resp, Seed

ROLES = ("account_admin", "billing_manager", "member")
CALLERS = (*ROLES, "outsider", "anonymous")
SERVICE_PREFIX = "service:"
SERVICE_CALLERS = tuple(f"{SERVICE_PREFIX}{s.value}" for s in Scope)
EVERYONE = frozenset(CALLERS)
SIGNED_IN = frozenset({*ROLES, "outsider"})
ORG_MEMBERS = frozenset(ROLES)
ADMIN = frozenset({"account_admin"})
ADMIN_BILLING = frozenset({"account_admin", "billing_manager"})

_counter = itertools.count()


@dataclass
class Ctx:
    """What a row needs to build a request: the seeded org and the caller.

    ``person`` is the caller: for a role, a member of the seeded org with that
    role (the matrix test gives each call a fresh one, so a call that changes
    its caller, like leaving, does not affect the next); the outsider is an
    admin of another org; anonymous has no key.
    """

    api: Api
    seed: Seed
    caller: str
    person: Person | None

    @property
    def key(self) -> str | None:
        return self.person.key if self.person else None

    @property
    def org_id(self) -> str:
        return self.seed.org_id

    def fresh_member(self, role: Role = Role.MEMBER) -> str:
        """A new member of the seeded org (a target the call may remove or change)."""
        return new_person(self.seed, role, "target").account_id

    def fresh_key_id(self) -> str:
        """A new API key of the caller (or of the admin for anonymous and service callers)."""
        owner = self.person if self.person and not self.caller.startswith(SERVICE_PREFIX) else self.seed.admin
        key, _ = keys.issue(owner.account_id, "perm-target")
        return key.key_id

    def unique(self, stem: str) -> str:
        return f"{stem}{next(_counter)}@acme.test"

    def fresh_invitation(self) -> InvitationModel:
        """A new pending invitation of the seeded org, to an email nobody holds yet."""
        admin = self.seed.admin
        actor = Actor(actor=f"account:{admin.account_id}", request_id="perm-setup", account_id=admin.account_id)
        outcome = invitations.invite(self.org_id, actor, [invitations.InviteItem(email=self.unique("invitee"))])
        invitation_id = outcome.results[0].invitation_id
        assert invitation_id is not None
        return InvitationModel.get(self.org_id, invitation_id)

    def admin_actor(self) -> Actor:
        admin = self.seed.admin
        return Actor(actor=f"account:{admin.account_id}", request_id="perm-setup", account_id=admin.account_id)

    def seated(self, account_id: str) -> str:
        """Give a member a seat unless they hold one (capacity grows first: the matrix seats many people)."""
        member = members.find(self.org_id, account_id)
        if member is not None and member.has_seat:
            return account_id
        OrgModel(self.org_id).update(actions=[OrgModel.seat_capacity.add(1)])
        seats.assign(self.org_id, self.admin_actor(), account_id, notify=False)
        return account_id

    def token_of(self, account_id: str) -> str:
        """A new access token of a seated member; returns its id."""
        token, _ = tokens.issue_for(self.org_id, self.admin_actor(), account_id, "perm-target")
        return token.token_id

    def fresh_service_account(self, scopes: frozenset[Scope] = frozenset({Scope.MEMBERS_READ})) -> tuple[str, str]:
        """A new service account of the seeded org: (client id, client secret)."""
        account, _, secret = service_accounts.create(self.org_id, self.admin_actor(), "perm-target", scopes)
        return account.sa_id, secret

    def fresh_login_code(self) -> str:
        """A one-time sign-in code for a new member (each within the mail rate limit), from the recorded mail."""
        mailer = get_mailer()
        assert isinstance(mailer, MemoryMailer)
        login_links.request_link(new_person(self.seed, Role.MEMBER, "login").email)
        deliver_signins()
        match = re.search(r"olc_[A-Za-z0-9_-]+", mailer.sent[-1].text)
        assert match is not None
        return match.group(0)


def new_person(seed: Seed, role: Role, stem: str) -> Person:
    """A new member of the seeded org with ``role`` and an API key."""
    admin = seed.admin
    actor = Actor(actor=f"account:{admin.account_id}", request_id="perm-setup", account_id=admin.account_id)
    member = members.add_member(seed.org_id, actor, f"{stem}{next(_counter)}@acme.test", role).member
    assert member is not None
    _, secret = keys.issue(member.account_id, "perm")
    return Person(member.account_id, member.email, secret)


def service_caller(seed: Seed, scope: Scope) -> Person:
    """A new service account of the seeded org with one scope, as a caller: its access token is the key."""
    actor = Actor(actor=f"account:{seed.admin.account_id}", request_id="perm-setup", account_id=seed.admin.account_id)
    account, _, secret = service_accounts.create(seed.org_id, actor, f"perm-{scope.value}", frozenset({scope}))
    granted = service_accounts.grant(account.sa_id, secret, None, basic=False)
    return Person(account.sa_id, "", granted.access_token)


def caller_person(seed: Seed, caller: str) -> Person | None:
    """The person behind a kind of caller: fresh for a role, the outsider, a service account, or None."""
    if caller == "anonymous":
        return None
    if caller.startswith(SERVICE_PREFIX):
        return service_caller(seed, Scope(caller.removeprefix(SERVICE_PREFIX)))
    if caller == "outsider":
        return seed.outsider
    return new_person(seed, Role(caller), caller.replace("_", "-"))


ParamsFn = Callable[[Ctx], dict[str, str]]
BodyFn = Callable[[Ctx], Any]


def org_only(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id}


def no_params(ctx: Ctx) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: frozenset[str]
    params: ParamsFn = no_params
    body: BodyFn | None = None
    query: str = ""
    variant: str = ""
    # Expected status for one caller instead of the default (success or refusal).
    statuses: Mapping[str, int] = field(default_factory=dict)
    # Expected error code for a caller whose status is overridden (e.g. email_mismatch).
    codes: Mapping[str, str] = field(default_factory=dict)
    # The service-account scope that opens the route (as the route registry declares it).
    scope: Scope | None = None
    # The body is a form, sent without the caller's key (the OAuth token endpoint).
    form: bool = False

    @property
    def route(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")

    def url(self, ctx: Ctx) -> str:
        path = self.path.format(**self.params(ctx))
        return f"{path}?{self.query}" if self.query else path

    def send(self, api: Api, url: str, key: str | None, body: Any) -> Resp:
        """The row's request: JSON with the caller's key, or a form without it."""
        if self.form:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            return api.call(self.method, url, None, body=urlencode(body or {}), headers=headers)
        return api.call(self.method, url, key, body)

    def allows(self, caller: str) -> bool:
        """Whether a caller may call the row's route (a service caller: its scope, or an open route)."""
        if caller.startswith(SERVICE_PREFIX):
            open_route = set(CALLERS) <= self.allowed
            return open_route or (self.scope is not None and caller == f"{SERVICE_PREFIX}{self.scope.value}")
        return caller in self.allowed


def _member_target(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id, "account_id": ctx.fresh_member()}


def _self_target(ctx: Ctx) -> dict[str, str]:
    person = ctx.person
    if ctx.caller.startswith(SERVICE_PREFIX):
        return _member_target(ctx)  # no self to aim at: a fresh member (a service caller may remove it)
    # Anonymous and outsiders aim at a real member of the org: they must still be refused.
    target = person.account_id if person and ctx.caller in ROLES else ctx.seed.member.account_id
    return {"org_id": ctx.org_id, "account_id": target}


def _own_key(ctx: Ctx) -> dict[str, str]:
    return {"key_id": ctx.fresh_key_id()}


def _invitation_target(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id, "invitation_id": ctx.fresh_invitation().invitation_id}


def _invitation_link(ctx: Ctx) -> dict[str, str]:
    item = ctx.fresh_invitation()
    assert item.link_nonce is not None
    return {"invitation_token": invitation_links.token_for(item.org_id, item.invitation_id, item.link_nonce)}


SIGNED_IN_MISMATCH = {caller: 403 for caller in SIGNED_IN}


def _seated_member(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id, "account_id": ctx.seated(ctx.fresh_member())}


def _member_token(ctx: Ctx) -> dict[str, str]:
    account_id = ctx.seated(ctx.fresh_member())
    return {"org_id": ctx.org_id, "account_id": account_id, "token_id": ctx.token_of(account_id)}


def _seated_caller(ctx: Ctx) -> dict[str, str]:
    """Own-token routes: the caller holds a seat (outsiders and anonymous hold none here)."""
    if ctx.person is not None and ctx.caller in ROLES:
        ctx.seated(ctx.person.account_id)
    return {"org_id": ctx.org_id}


def _own_token(ctx: Ctx) -> dict[str, str]:
    """A token of the caller (for outsiders and anonymous: of a seated member they must not touch)."""
    if ctx.person is not None and ctx.caller in ROLES:
        owner = ctx.seated(ctx.person.account_id)
    else:
        owner = ctx.seated(ctx.fresh_member())
    return {"org_id": ctx.org_id, "token_id": ctx.token_of(owner)}


def _new_domain(ctx: Ctx) -> str:
    return f"d{next(_counter)}.claims.test"


def _claimed_domain(ctx: Ctx) -> dict[str, str]:
    """A domain the seeded org has claimed, with its TXT challenge published (so verifying succeeds)."""
    claimed = domains.claim(ctx.org_id, ctx.admin_actor(), _new_domain(ctx))
    publish(claimed.record_name, claimed.record_value)
    return {"org_id": ctx.org_id, "domain": claimed.domain}


def _scim_token(ctx: Ctx) -> dict[str, str]:
    token, _ = scim_tokens.issue(ctx.org_id, ctx.admin_actor(), "perm-target")
    return {"org_id": ctx.org_id, "token_id": token.token_id}


def _new_group(ctx: Ctx) -> str:
    """A new pushed SCIM group of the seeded org, mapped to nothing (a target to map or unmap)."""
    name = f"perm-group-{next(_counter)}"

    def want(group: object, holders: object) -> groups.Wanted:
        return groups.Wanted(name, None, set(), None, False)

    return groups.change(ctx.org_id, ctx.admin_actor(), None, want, action="group.created").group_id


def _group_mapping(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id, "group_id": _new_group(ctx)}


def _service_account(ctx: Ctx) -> dict[str, str]:
    return {"org_id": ctx.org_id, "client_id": ctx.fresh_service_account()[0]}


def _service_account_secret(ctx: Ctx) -> dict[str, str]:
    client_id, _ = ctx.fresh_service_account()
    [secret] = service_accounts.get(ctx.org_id, ctx.admin_actor(), client_id).secrets
    return {"org_id": ctx.org_id, "client_id": client_id, "secret_id": secret.secret_id}


def _client_credentials(ctx: Ctx) -> dict[str, str]:
    client_id, secret = ctx.fresh_service_account()
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def _future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


CASES: list[Case] = [
    # --- accounts and keys -------------------------------------------------
    Case("GET", "/v1/me", SIGNED_IN),
    Case("POST", "/v1/me/api-keys", SIGNED_IN, body=lambda ctx: {"name": "ci"}),
    Case("GET", "/v1/me/api-keys", SIGNED_IN),
    Case("DELETE", "/v1/me/api-keys/{key_id}", SIGNED_IN, params=_own_key),
    # --- organizations -------------------------------------------------------
    Case("POST", "/v1/orgs", SIGNED_IN, body=lambda ctx: {"name": "New Co"}),
    Case("GET", "/v1/orgs/{org_id}", ORG_MEMBERS, params=org_only),
    Case("PATCH", "/v1/orgs/{org_id}", ADMIN, params=org_only, body=lambda ctx: {"name": "Acme Renamed"}),
    Case("PUT", "/v1/orgs/{org_id}/seats", ADMIN_BILLING, params=org_only, body=lambda ctx: {"capacity": 12}),
    # --- members -------------------------------------------------------------
    Case("GET", "/v1/orgs/{org_id}/members", ADMIN_BILLING, params=org_only),
    Case(
        "POST",
        "/v1/orgs/{org_id}/members",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"email": ctx.unique("added"), "role": "member"},
    ),
    Case("GET", "/v1/orgs/{org_id}/members/{account_id}", ADMIN_BILLING, params=_member_target, variant="other"),
    Case("GET", "/v1/orgs/{org_id}/members/{account_id}", ORG_MEMBERS, params=_self_target, variant="self"),
    Case(
        "PUT",
        "/v1/orgs/{org_id}/members/{account_id}/role",
        ADMIN,
        params=_member_target,
        body=lambda ctx: {"role": "billing_manager"},
    ),
    Case("DELETE", "/v1/orgs/{org_id}/members/{account_id}", ADMIN, params=_member_target, variant="other"),
    Case("DELETE", "/v1/orgs/{org_id}/members/{account_id}", ORG_MEMBERS, params=_self_target, variant="leave"),
    # --- seats and onboarding ----------------------------------------------------
    Case("POST", "/v1/orgs/{org_id}/members/{account_id}/seat", ADMIN, params=_member_target, query="notify=false"),
    Case("DELETE", "/v1/orgs/{org_id}/members/{account_id}/seat", ADMIN, params=_seated_member),
    Case(
        "POST",
        "/v1/orgs/{org_id}/seats/assign",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"account_ids": [ctx.fresh_member()], "notify": False},
    ),
    Case(
        "POST",
        "/v1/orgs/{org_id}/seats/revoke",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"account_ids": [ctx.seated(ctx.fresh_member())]},
    ),
    Case(
        "POST",
        "/v1/orgs/{org_id}/members/onboard",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"emails": [ctx.unique("onboarded")]},
        # Onboarding seats everyone it adds: members:write alone is not enough (seats:write too).
        statuses={"service:members:write": 403},
    ),
    # --- access tokens ---------------------------------------------------------------
    Case("POST", "/v1/orgs/{org_id}/tokens", ORG_MEMBERS, params=_seated_caller, body=lambda ctx: {"name": "ci"}),
    Case("GET", "/v1/orgs/{org_id}/tokens", ORG_MEMBERS, params=org_only),
    Case("DELETE", "/v1/orgs/{org_id}/tokens/{token_id}", ORG_MEMBERS, params=_own_token),
    Case(
        "POST",
        "/v1/orgs/{org_id}/members/{account_id}/tokens",
        ADMIN,
        params=_seated_member,
        body=lambda ctx: {"name": "ci"},
    ),
    Case("GET", "/v1/orgs/{org_id}/members/{account_id}/tokens", ADMIN, params=_seated_member),
    Case(
        "PATCH",
        "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}",
        ADMIN,
        params=_member_token,
        body=lambda ctx: {"expires_at": _future()},
    ),
    Case("DELETE", "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}", ADMIN, params=_member_token),
    # Channel servers verify without a credential; the answer reveals nothing to a non-holder.
    Case("POST", "/v1/tokens/verify", EVERYONE, body=lambda ctx: {"token": "oat_" + "x" * 43}),
    # --- invitations -------------------------------------------------------------
    Case(
        "POST",
        "/v1/orgs/{org_id}/invitations",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"emails": [ctx.unique("invited")]},
    ),
    Case("GET", "/v1/orgs/{org_id}/invitations", ADMIN, params=org_only),
    Case("GET", "/v1/orgs/{org_id}/invitations/{invitation_id}", ADMIN, params=_invitation_target),
    Case("POST", "/v1/orgs/{org_id}/invitations/{invitation_id}/resend", ADMIN, params=_invitation_target),
    Case("DELETE", "/v1/orgs/{org_id}/invitations/{invitation_id}", ADMIN, params=_invitation_target),
    Case(
        "POST",
        "/v1/orgs/{org_id}/invitations/resend",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"invitation_ids": [ctx.fresh_invitation().invitation_id]},
    ),
    Case(
        "POST",
        "/v1/orgs/{org_id}/invitations/remove",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"invitation_ids": [ctx.fresh_invitation().invitation_id]},
    ),
    # Anyone with the link may preview; accepting needs the invited email (a key of
    # another account is refused with email_mismatch), so only the anonymous call joins.
    Case("GET", "/v1/invitations/{invitation_token}", EVERYONE, params=_invitation_link),
    Case(
        "POST",
        "/v1/invitations/{invitation_token}/accept",
        frozenset({"anonymous"}),
        params=_invitation_link,
        statuses=SIGNED_IN_MISMATCH,
        codes={caller: "email_mismatch" for caller in SIGNED_IN},
    ),
    # A new address each time: the module's callers share one world, and asks are limited per email.
    Case("POST", "/v1/auth/login-link", EVERYONE, body=lambda ctx: {"email": f"ask{next(_counter)}@acme.test"}),
    Case("POST", "/v1/auth/login-link/redeem", EVERYONE, body=lambda ctx: {"code": ctx.fresh_login_code()}),
    # --- SCIM tokens ----------------------------------------------------------------
    Case("POST", "/v1/orgs/{org_id}/scim-tokens", ADMIN, params=org_only, body=lambda ctx: {"name": "okta"}),
    Case("GET", "/v1/orgs/{org_id}/scim-tokens", ADMIN, params=org_only),
    Case("DELETE", "/v1/orgs/{org_id}/scim-tokens/{token_id}", ADMIN, params=_scim_token),
    # --- service accounts and the token endpoint --------------------------------------
    Case(
        "POST",
        "/v1/orgs/{org_id}/service-accounts",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"name": "deployer", "scopes": ["members:read"]},
    ),
    Case("GET", "/v1/orgs/{org_id}/service-accounts", ADMIN, params=org_only),
    Case("GET", "/v1/orgs/{org_id}/service-accounts/{client_id}", ADMIN, params=_service_account),
    Case(
        "PATCH",
        "/v1/orgs/{org_id}/service-accounts/{client_id}",
        ADMIN,
        params=_service_account,
        body=lambda ctx: {"name": "renamed", "scopes": ["members:read", "audit:read"], "disabled": False},
    ),
    Case("DELETE", "/v1/orgs/{org_id}/service-accounts/{client_id}", ADMIN, params=_service_account),
    Case("POST", "/v1/orgs/{org_id}/service-accounts/{client_id}/secrets", ADMIN, params=_service_account),
    Case(
        "DELETE",
        "/v1/orgs/{org_id}/service-accounts/{client_id}/secrets/{secret_id}",
        ADMIN,
        params=_service_account_secret,
    ),
    # The client authenticates itself (form fields of a fresh service account); no caller key is sent.
    Case("POST", "/v1/oauth/token", EVERYONE, body=_client_credentials, form=True),
    # --- SCIM group mappings ---------------------------------------------------------
    Case("GET", "/v1/orgs/{org_id}/scim/group-mappings", ADMIN, params=org_only),
    Case(
        "PUT",
        "/v1/orgs/{org_id}/scim/group-mappings",
        ADMIN,
        params=org_only,
        body=lambda ctx: {"group": _new_group(ctx), "role": "billing_manager", "seat": False},
    ),
    Case("DELETE", "/v1/orgs/{org_id}/scim/group-mappings/{group_id}", ADMIN, params=_group_mapping),
    # --- domains -------------------------------------------------------------------
    Case("POST", "/v1/orgs/{org_id}/domains", ADMIN, params=org_only, body=lambda ctx: {"domain": _new_domain(ctx)}),
    Case("GET", "/v1/orgs/{org_id}/domains", ADMIN, params=org_only),
    Case("POST", "/v1/orgs/{org_id}/domains/{domain}/verify", ADMIN, params=_claimed_domain),
    Case("DELETE", "/v1/orgs/{org_id}/domains/{domain}", ADMIN, params=_claimed_domain),
    # --- audit and operations -------------------------------------------------
    Case("GET", "/v1/orgs/{org_id}/audit-log", ADMIN, params=org_only),
    Case("GET", "/v1/health", EVERYONE),
    Case("GET", "/openapi.json", EVERYONE),
    Case("GET", "/docs", EVERYONE),
]


# The scope column: which service-account scope opens each route (none: service accounts get 403).
ROUTE_SCOPES: dict[tuple[str, str], Scope] = {
    ("GET", "/v1/orgs/{org_id}"): Scope.MEMBERS_READ,
    ("GET", "/v1/orgs/{org_id}/members"): Scope.MEMBERS_READ,
    ("GET", "/v1/orgs/{org_id}/members/{account_id}"): Scope.MEMBERS_READ,
    ("POST", "/v1/orgs/{org_id}/members"): Scope.MEMBERS_WRITE,
    ("PUT", "/v1/orgs/{org_id}/members/{account_id}/role"): Scope.MEMBERS_WRITE,
    ("DELETE", "/v1/orgs/{org_id}/members/{account_id}"): Scope.MEMBERS_WRITE,
    ("POST", "/v1/orgs/{org_id}/members/onboard"): Scope.MEMBERS_WRITE,
    ("POST", "/v1/orgs/{org_id}/members/{account_id}/seat"): Scope.SEATS_WRITE,
    ("DELETE", "/v1/orgs/{org_id}/members/{account_id}/seat"): Scope.SEATS_WRITE,
    ("POST", "/v1/orgs/{org_id}/seats/assign"): Scope.SEATS_WRITE,
    ("POST", "/v1/orgs/{org_id}/seats/revoke"): Scope.SEATS_WRITE,
    ("POST", "/v1/orgs/{org_id}/members/{account_id}/tokens"): Scope.TOKENS_ISSUE,
    ("GET", "/v1/orgs/{org_id}/members/{account_id}/tokens"): Scope.TOKENS_ISSUE,
    ("PATCH", "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}"): Scope.TOKENS_ISSUE,
    ("DELETE", "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}"): Scope.TOKENS_ISSUE,
    ("POST", "/v1/orgs/{org_id}/invitations"): Scope.INVITATIONS_WRITE,
    ("GET", "/v1/orgs/{org_id}/invitations"): Scope.INVITATIONS_WRITE,
    ("GET", "/v1/orgs/{org_id}/invitations/{invitation_id}"): Scope.INVITATIONS_WRITE,
    ("POST", "/v1/orgs/{org_id}/invitations/{invitation_id}/resend"): Scope.INVITATIONS_WRITE,
    ("DELETE", "/v1/orgs/{org_id}/invitations/{invitation_id}"): Scope.INVITATIONS_WRITE,
    ("POST", "/v1/orgs/{org_id}/invitations/resend"): Scope.INVITATIONS_WRITE,
    ("POST", "/v1/orgs/{org_id}/invitations/remove"): Scope.INVITATIONS_WRITE,
    ("GET", "/v1/orgs/{org_id}/audit-log"): Scope.AUDIT_READ,
}
CASES = [replace(case, scope=ROUTE_SCOPES.get(case.route)) for case in CASES]
