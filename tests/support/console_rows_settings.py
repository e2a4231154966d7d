"""Page-matrix rows of the Audit Log and Settings pages (collected by tests/test_console_permissions.py)."""

from __future__ import annotations

import itertools

from chalicelib.services import domains, groups, scim_tokens
from tests.support.console_matrix import Ctx, Row, admin_of
from tests.support.dns_support import publish

_n = itertools.count()


def by_role(admin: int, billing: int, member: int, outsider: int = 404, anonymous: int = 303) -> dict[str, int]:
    return {
        "account_admin": admin,
        "billing_manager": billing,
        "member": member,
        "outsider": outsider,
        "anonymous": anonymous,
    }


def scim_token(ctx: Ctx) -> str:
    return scim_tokens.issue(ctx.seed.org_id, admin_of(ctx.seed), "matrix")[0].token_id


def claimed_domain(ctx: Ctx) -> str:
    """A domain the seeded org has claimed, its TXT record published (so Verify succeeds)."""
    claimed = domains.claim(ctx.seed.org_id, admin_of(ctx.seed), f"page{next(_n)}.claims.test")
    publish(claimed.record_name, claimed.record_value)
    return claimed.domain


def pushed_group(ctx: Ctx) -> str:
    """A group the IdP pushed into the seeded org (no members, no mapping yet)."""

    def want(group: object, holders: object) -> groups.Wanted:
        return groups.Wanted(f"Matrix {next(_n)}", None, set(), None, False)

    return groups.change(ctx.seed.org_id, admin_of(ctx.seed), None, want, action="group.created").group_id


ROWS = [
    Row("GET", "/orgs/{org_id}/audit-log", by_role(200, 403, 403), lambda c: f"/orgs/{c.seed.org_id}/audit-log"),
    Row("GET", "/orgs/{org_id}/settings", by_role(200, 200, 403), lambda c: f"/orgs/{c.seed.org_id}/settings"),
    Row(
        "POST",
        "/orgs/{org_id}/settings/name",
        by_role(200, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/name",
        lambda c: {"name": "Acme"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/capacity",
        by_role(200, 200, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/capacity",
        lambda c: {"capacity": "1000"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/scim-tokens",
        by_role(201, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/scim-tokens",
        lambda c: {"name": "okta"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/scim-tokens/{token_id}/revoke",
        by_role(303, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/scim-tokens/{scim_token(c)}/revoke",
        lambda c: {"confirmed": "yes"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/domains",
        by_role(201, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/domains",
        lambda c: {"domain": f"new{next(_n)}.claims.test"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/domains/{domain}/verify",
        by_role(200, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/domains/{claimed_domain(c)}/verify",
        lambda c: {},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/domains/{domain}/remove",
        by_role(303, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/domains/{claimed_domain(c)}/remove",
        lambda c: {"confirmed": "yes"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/settings/scim-groups/{group_id}",
        by_role(200, 403, 403, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/settings/scim-groups/{pushed_group(c)}",
        lambda c: {"role": "member", "seat": "yes"},
    ),
]
