"""Permission rows of the Users pages (collected by tests/test_console_permissions.py).

Admins may do everything; a billing manager reads (403 on every change); a
member gets 403 everywhere; an outsider 404; anonymous is sent to sign in
(GET) or refused (POST, 401). Each call gets a fresh target user.
"""

from __future__ import annotations

from chalicelib.domain.roles import Role
from chalicelib.services import seats, tokens
from tests.support.console_matrix import Ctx, Row, admin_of, in_org
from tests.support.permission_table import new_person

READ = {**in_org(200), "member": 403}


def change(status: int) -> dict[str, int]:
    """Only an admin may change anything."""
    return {**in_org(403, anonymous=401), "account_admin": status}


def fresh(ctx: Ctx, seat: bool = False) -> str:
    account_id = new_person(ctx.seed, Role.MEMBER, "users-row").account_id
    if seat:
        seats.assign(ctx.seed.org_id, admin_of(ctx.seed), account_id, notify=False)
    return account_id


def users(ctx: Ctx) -> str:
    return f"/orgs/{ctx.seed.org_id}/users"


def token_of(ctx: Ctx, action: str = "revoke") -> str:
    account_id = fresh(ctx, seat=True)
    token, _ = tokens.issue_for(ctx.seed.org_id, admin_of(ctx.seed), account_id, "row")
    return f"{users(ctx)}/{account_id}/tokens/{token.token_id}/{action}"


CONFIRMED = {"confirmed": "yes"}

ROWS = [
    Row("GET", "/orgs/{org_id}/users", READ, users),
    Row("GET", "/orgs/{org_id}/users/{account_id}", READ, lambda c: f"{users(c)}/{fresh(c)}"),
    Row("POST", "/orgs/{org_id}/users/{account_id}/seat", change(200), lambda c: f"{users(c)}/{fresh(c)}/seat"),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/seat/revoke",
        change(200),
        lambda c: f"{users(c)}/{fresh(c, seat=True)}/seat/revoke",
        lambda c: CONFIRMED,
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/role/{role}",
        change(200),
        lambda c: f"{users(c)}/{fresh(c)}/role/billing_manager",
        lambda c: CONFIRMED,
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/remove",
        change(200),
        lambda c: f"{users(c)}/{fresh(c)}/remove",
        lambda c: CONFIRMED,
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/seats/assign",
        change(200),
        lambda c: f"{users(c)}/seats/assign",
        lambda c: {"account_id": [fresh(c), fresh(c)], **CONFIRMED},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/seats/revoke",
        change(200),
        lambda c: f"{users(c)}/seats/revoke",
        lambda c: {"account_id": [fresh(c, seat=True)], **CONFIRMED},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/tokens",
        change(201),
        lambda c: f"{users(c)}/{fresh(c, seat=True)}/tokens",
        lambda c: {"name": "matrix", "days": "30"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/tokens/{token_id}/revoke",
        change(303),
        token_of,
        lambda c: CONFIRMED,
    ),
    Row(
        "POST",
        "/orgs/{org_id}/users/{account_id}/tokens/{token_id}/renew",
        change(200),
        lambda c: token_of(c, "renew"),
        lambda c: {"days": "30"},
    ),
]
