"""An admin's power ends everywhere at once (issue 12, findings 4 and 11).

Finding 4: a SCIM token outlived the admin who made it (removed, the admin
provisioned themselves back into account-admins with it). Now the token is
refused from the moment the removal or demotion returns, and the Members
stream marks it revoked, audits it and tells the remaining admins. A
service account an admin made follows the same rule (its scenario is in
test_service_accounts.py; here it is one more lost-power caller).

Finding 11: admin writes checked the caller's role only before their
transaction, so a demoted admin's in-flight call completed. Now every admin
write conditions its own transaction (each chunk's, for bulk calls) on the
caller's membership still carrying the permission: demoted between
authorization and the write, the call answers 403 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import members
from tests.support.helpers import Api, Person, Seed, add_person
from tests.support.member_stream import deliver, raw_member, record
from tests.support.permission_table import ADMIN, ADMIN_BILLING, CASES, Case, Ctx, new_person
from tests.support.scim_helpers import PATCH_OP, USER_SCHEMA, Scim, issue_scim_token
from tests.support.stream_support import failed, invoke
from tests.support.table_scan import snapshot


def actor_of(person: Person) -> Actor:
    return Actor(actor=f"account:{person.account_id}", request_id="test", account_id=person.account_id)


# --- finding 4: credentials die with their maker's power ------------------------------


def _remove_rest(api: Api, seed: Seed, a: Person) -> None:
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{a.account_id}", seed.admin.key).status == 204


def _demote_rest(api: Api, seed: Seed, a: Person) -> None:
    path = f"/v1/orgs/{seed.org_id}/members/{a.account_id}/role"
    assert api.put(path, seed.admin.key, {"role": "member"}).status == 200


def _delete_scim(api: Api, seed: Seed, a: Person) -> None:
    _, secret = issue_scim_token(seed)
    assert Scim(api, secret).delete(f"/Users/{a.account_id}").status == 204


def _leave_admin_group_scim(api: Api, seed: Seed, a: Person) -> None:
    _, secret = issue_scim_token(seed)
    r = Scim(api, secret).patch(
        "/Groups/account-admins", [{"op": "remove", "path": f'members[value eq "{a.account_id}"]'}]
    )
    assert r.status == 200, r.body


LOSSES: dict[str, tuple[Callable[[Api, Seed, Person], None], str]] = {
    "removed (REST)": (_remove_rest, "maker_removed"),
    "demoted (REST)": (_demote_rest, "maker_demoted"),
    "deleted (SCIM)": (_delete_scim, "maker_removed"),
    "left account-admins (SCIM)": (_leave_admin_group_scim, "maker_demoted"),
}


@pytest.mark.parametrize("loss", list(LOSSES))
def test_scim_token_dies_with_its_makers_power(api: Api, seed: Seed, mailer: MemoryMailer, loss: str) -> None:
    change, reason = LOSSES[loss]
    second = add_person(seed.org_id, seed.admin, "second-admin@acme.test", Role.ACCOUNT_ADMIN)
    a = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    made = api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", a.key, {"name": "mallory-idp"})
    assert made.status == 201, made.body
    token_id, secret = made.body["token_id"], made.body["secret"]
    scim = Scim(api, secret)
    assert scim.get("/Users").status == 200

    before = raw_member(seed.org_id, a.account_id)
    change(api, seed, a)
    after = raw_member(seed.org_id, a.account_id)

    # Refused at once, before the stream has run: no way back in with it.
    assert scim.get("/Users").status == 401
    back = scim.patch("/Groups/account-admins", [{"op": "add", "value": [{"value": a.account_id}]}])
    assert back.status == 401
    assert scim.post("/Users", {"schemas": [USER_SCHEMA], "userName": "mallory@acme.test"}).status == 401

    mailer.sent.clear()
    outcome = deliver(record(before, after))
    assert outcome["scim_tokens_revoked"] == 1

    listed = api.get(f"/v1/orgs/{seed.org_id}/scim-tokens", seed.admin.key).body["items"]
    [mine] = [t for t in listed if t["token_id"] == token_id]
    assert mine["status"] == "revoked"
    log = api.get(f"/v1/orgs/{seed.org_id}/audit-log?action=scim_token.revoked", seed.admin.key).body["items"]
    [entry] = [e for e in log if e["target"] == token_id]
    assert entry["actor"] == "system:credential_cascade"
    assert entry["details"]["reason"] == reason and entry["details"]["maker"] == a.account_id

    notices = [m for m in mailer.sent if m.tags.get("kind") == "credentials_revoked"]
    assert sorted(m.to for m in notices) == sorted([seed.admin.email, second.email])
    assert all(token_id in m.text and "mallory-idp" in m.text and a.email in m.text for m in notices)
    assert "removed" in notices[0].text if reason == "maker_removed" else "no longer" in notices[0].text

    # A replay (the stream retries whole batches) revokes, audits and mails nothing more.
    mailer.sent.clear()
    assert deliver(record(before, after))["scim_tokens_revoked"] == 0
    assert not [m for m in mailer.sent if m.tags.get("kind") == "credentials_revoked"]
    again = api.get(f"/v1/orgs/{seed.org_id}/audit-log?action=scim_token.revoked", seed.admin.key).body["items"]
    assert len([e for e in again if e["target"] == token_id]) == 1


def test_other_admins_tokens_and_members_tokens_stay(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    """Only the SCIM tokens the lost admin made end; tokens an admin issued for members are theirs."""
    a = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    _, kept_secret = issue_scim_token(seed)
    made = api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", a.key, {"name": "mallory-idp"})
    api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat?notify=false", seed.admin.key)
    issued = api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens", a.key, {"name": "ci"})
    assert issued.status == 201, issued.body
    before = raw_member(seed.org_id, a.account_id)
    _remove_rest(api, seed, a)
    deliver(record(before, None))
    assert Scim(api, kept_secret).get("/Users").status == 200
    assert Scim(api, made.body["secret"]).get("/Users").status == 401
    assert api.post("/v1/tokens/verify", None, {"token": issued.body["secret"]}).body["active"] is True


def test_a_mail_failure_is_retried_and_mails_once(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    from chalicelib.mail import MailError

    a = add_person(seed.org_id, seed.admin, "mallory@acme.test", Role.ACCOUNT_ADMIN)
    api.post(f"/v1/orgs/{seed.org_id}/scim-tokens", a.key, {"name": "mallory-idp"})
    before = raw_member(seed.org_id, a.account_id)
    _remove_rest(api, seed, a)
    batch = record(before, None)
    real = mailer.send

    def down(message: Any) -> str:
        raise MailError("SES Throttling", retryable=True)

    mailer.send = down  # type: ignore[method-assign]
    # The handler reports the record as failed so that the stream retries it.
    assert failed(invoke("on_member_change", [batch])) == [batch["dynamodb"]["SequenceNumber"]]
    mailer.send = real  # type: ignore[method-assign]
    deliver(batch)
    deliver(batch)
    assert len([m for m in mailer.sent if m.tags.get("kind") == "credentials_revoked"]) == 1


# --- the permission matrix gains the callers who lost their power ------------------------

SPECS_BY_CALLER = {
    "removed admin": "outsider",
    "demoted admin": "member",
    "SCIM token of a removed admin": "anonymous",
    "service account of a removed admin": "anonymous",
}
# The made-up credential of the same kind each "anonymous" caller is compared with.
MADE_UP = {
    "SCIM token of a removed admin": "osc_" + "x" * 43,
    "service account of a removed admin": "osa_" + "0" * 60 + "x" * 43,
}


def _lost_power_caller(seed: Seed, caller: str) -> Person:
    admin = new_person(seed, Role.ACCOUNT_ADMIN, "fallen")
    scim_secret = None
    if caller == "SCIM token of a removed admin":
        _, scim_secret = issue_scim_token_by(seed, admin)
    if caller == "service account of a removed admin":
        scim_secret = service_account_token_by(seed, admin)
    if caller == "demoted admin":
        members.change_role(seed.org_id, actor_of(seed.admin), admin.account_id, Role.MEMBER)
    else:
        members.remove_member(seed.org_id, actor_of(seed.admin), admin.account_id)
    return Person(admin.account_id, admin.email, scim_secret or admin.key)


def issue_scim_token_by(seed: Seed, admin: Person) -> tuple[str, str]:
    from chalicelib.services import scim_tokens

    token, secret = scim_tokens.issue(seed.org_id, actor_of(admin), "fallen-idp")
    return token.token_id, secret


def service_account_token_by(seed: Seed, admin: Person) -> str:
    """An access token with every scope of a service account ``admin`` created."""
    from chalicelib.domain.roles import Scope
    from chalicelib.services import service_accounts

    account, _, secret = service_accounts.create(seed.org_id, actor_of(admin), "fallen-robot", frozenset(Scope))
    return service_accounts.grant(account.sa_id, secret, None, basic=True).access_token


@pytest.mark.parametrize("caller", list(SPECS_BY_CALLER))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_permission_matrix_for_lost_power(world: tuple[Api, Seed], case: Case, caller: str) -> None:
    """Each route answers a removed admin as a non-member, a demoted one as a member, and the
    SCIM token or the service account's access token of a removed admin as an invalid credential
    (the matrix of test_permissions)."""
    from tests.integration.test_permissions import expected_status

    api, seed = world
    equivalent = SPECS_BY_CALLER[caller]
    person = _lost_power_caller(seed, caller)
    ctx = Ctx(api, seed, equivalent, person)
    url = case.url(ctx)
    body = case.body(ctx) if case.body else None
    writes = case.method != "GET"
    before = snapshot() if writes else None
    r = case.send(api, url, ctx.key, body)
    expected = expected_status(case, equivalent)
    if r.status >= 400 and writes:
        assert snapshot() == before, "a refused call changed the tables"
    if equivalent == "anonymous":
        # As for any invalid credential: the same call (fresh targets) with a made-up one of its kind.
        ctx_again = Ctx(api, seed, equivalent, Person("", "", MADE_UP[caller]))
        again = case.send(api, case.url(ctx_again), ctx_again.key, case.body(ctx_again) if case.body else None)
        assert r.status == again.status and r.code == again.code, (r.status, r.body, again.status, again.body)
    elif equivalent == "outsider" and equivalent not in case.allowed and equivalent not in case.statuses:
        assert r.status == 404, (r.status, r.body)  # not even a 403: no confirmation the org exists
    else:
        assert r.status == expected, (r.status, r.body)


SCIM_CALLS = [
    ("GET", "/Users", None),
    ("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "back@acme.test"}),
    ("GET", "/Groups", None),
    ("PATCH", "/Groups/account-admins", {"schemas": [PATCH_OP], "Operations": [{"op": "add", "value": []}]}),
    ("GET", "/ServiceProviderConfig", None),
    ("POST", "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), SCIM_CALLS, ids=lambda v: str(v)[:40])
def test_scim_token_of_a_removed_or_demoted_admin_is_an_invalid_token(
    world: tuple[Api, Seed], method: str, path: str, body: Any
) -> None:
    import json

    api, seed = world
    for caller in ("SCIM token of a removed admin", "demoted"):
        admin = new_person(seed, Role.ACCOUNT_ADMIN, "fallen")
        _, secret = issue_scim_token_by(seed, admin)
        if caller == "demoted":
            members.change_role(seed.org_id, actor_of(seed.admin), admin.account_id, Role.BILLING_MANAGER)
        else:
            members.remove_member(seed.org_id, actor_of(seed.admin), admin.account_id)
        sent = json.dumps(body) if body is not None else None
        r = api.call(method, "/scim/v2" + path, secret, body=sent, headers={"Content-Type": "application/scim+json"})
        assert r.status == 401, (caller, r.status, r.body)
        assert r.body["status"] == "401"


# --- finding 11: a demoted admin's in-flight call writes nothing -----------------------------

ADMIN_WRITES = [c for c in CASES if c.method != "GET" and c.allowed in (ADMIN, ADMIN_BILLING)]


def _demote_after_authorize(monkeypatch: pytest.MonkeyPatch, seed: Seed, caller: Person) -> dict[str, Any]:
    """Demote ``caller`` the moment their call has been authorized (their role read as admin)."""
    real = members.authorize
    state: dict[str, Any] = {"fired": False, "snapshot": None}

    def authorize(org_id: str, actor: Actor, permission: Any) -> Any:
        result = real(org_id, actor, permission)
        if actor.account_id == caller.account_id and not state["fired"]:
            state["fired"] = True
            members.change_role(seed.org_id, actor_of(seed.admin), caller.account_id, Role.MEMBER)
            state["snapshot"] = snapshot()
        return result

    monkeypatch.setattr(members, "authorize", authorize)
    return state


@pytest.mark.parametrize("case", ADMIN_WRITES, ids=lambda c: c.id)
def test_demoted_mid_call_writes_nothing(api: Api, seed: Seed, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    caller = new_person(seed, Role.ACCOUNT_ADMIN, "inflight")
    ctx = Ctx(api, seed, "account_admin", caller)
    url = case.url(ctx)
    body = case.body(ctx) if case.body else None
    state = _demote_after_authorize(monkeypatch, seed, caller)
    r = api.call(case.method, url, ctx.key, body)
    assert state["fired"], "the call never authorized its caller"
    if case.path.endswith("/onboard"):
        # Onboarding answers per email; the refused ones were not added, nor their accounts created.
        assert r.status == 200 and {i["status"] for i in r.body["items"]} == {"forbidden"}, r.body
    else:
        assert r.status == 403 and r.code == "forbidden", (r.status, r.body)
        assert "role" in r.body["error"]["message"]
    # Direct add and onboarding create a new email's account in the join's own transaction: none either.
    assert snapshot() == state["snapshot"], "the refused call changed the tables"


def test_bulk_seats_refused_in_a_later_chunk_keep_the_earlier_ones(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chunk's transaction checks the caller: demoted after the first chunk, the rest answer forbidden."""
    from chalicelib.services import seats
    from chalicelib.storage.orgs import OrgModel

    OrgModel(seed.org_id).update(actions=[OrgModel.seat_capacity.set(200)])
    caller = add_person(seed.org_id, seed.admin, "bulk-admin@acme.test", Role.ACCOUNT_ADMIN)
    people = [add_person(seed.org_id, seed.admin, f"p{i}@acme.test", Role.MEMBER) for i in range(60)]
    real = seats.Tx.commit
    commits = {"n": 0}

    def commit(self: Any, client_request_token: str | None = None) -> None:
        commits["n"] += 1
        if commits["n"] == 2:
            members.change_role(seed.org_id, actor_of(seed.admin), caller.account_id, Role.MEMBER)
        real(self, client_request_token)

    monkeypatch.setattr(seats.Tx, "commit", commit)
    r = api.post(f"/v1/orgs/{seed.org_id}/seats/assign", caller.key, {"account_ids": [p.account_id for p in people]})
    assert r.status == 200, r.body
    statuses = [i["status"] for i in r.body["items"]]
    assert statuses == ["assigned"] * seats.CHUNK + ["forbidden"] * (60 - seats.CHUNK)
    assert OrgModel.get(seed.org_id).seats_used == seats.CHUNK


# SCIM writes of a token whose maker loses the power between authentication and the write.
SCIM_WRITES: dict[str, Callable[[Scim, str, str], Any]] = {
    "re-admit the maker through account-admins": lambda scim, maker, user: scim.patch(
        "/Groups/account-admins", [{"op": "add", "path": "members", "value": [{"value": maker}]}]
    ),
    "provision a user": lambda scim, maker, user: scim.create_user("late-arrival@acme.test"),
    "seat a user": lambda scim, maker, user: scim.patch(
        f"/Users/{user}", [{"op": "replace", "path": "active", "value": True}]
    ),
    "deprovision a user": lambda scim, maker, user: scim.delete(f"/Users/{user}"),
    "rename a user": lambda scim, maker, user: scim.patch(
        f"/Users/{user}", [{"op": "replace", "path": "displayName", "value": "Renamed"}]
    ),
    "push a group": lambda scim, maker, user: scim.post(
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Late", "members": []},
    ),
}


@pytest.mark.parametrize("write", list(SCIM_WRITES))
def test_a_scim_write_stands_on_its_makers_power_at_commit(
    api: Api, seed: Seed, write: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The maker is demoted after the token authenticated: the write's own transaction refuses it (403),
    nothing changes (the token made by a removed admin must not re-admit them, finding 4 mid-call)."""
    from chalicelib.services import scim_tokens

    maker = new_person(seed, Role.ACCOUNT_ADMIN, "scim-maker")
    _, secret = scim_tokens.issue(seed.org_id, actor_of(maker), "idp")
    scim = Scim(api, secret)
    user = scim.create_user("seatless@acme.test", active=False).body["id"]
    real = scim_tokens.authenticate_with_maker
    state: dict[str, Any] = {}

    def demoted_after(secret_: str | None, request_id: str) -> Any:
        found = real(secret_, request_id)
        if not state:
            members.change_role(seed.org_id, actor_of(seed.admin), maker.account_id, Role.MEMBER)
            state["snapshot"] = snapshot()
        return found

    monkeypatch.setattr(scim_tokens, "authenticate_with_maker", demoted_after)
    r = SCIM_WRITES[write](scim, maker.account_id, user)
    assert state, "the call never authenticated"
    assert r.status == 403, (r.status, r.body)
    assert r.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    # Provisioning creates the account in the membership's transaction: no account is left either.
    assert snapshot() == state["snapshot"], "the refused call changed the tables"
    assert members.find(seed.org_id, maker.account_id).role == Role.MEMBER  # type: ignore[union-attr]
