"""The permission matrix: every route x every kind of caller, from one table."""

from __future__ import annotations

import json

import pytest

from chalicelib.http.routing import declared_routes
from tests.support.helpers import Api, Seed
from tests.support.permission_table import CALLERS, CASES, SERVICE_CALLERS, Case, Ctx, caller_person, no_params
from tests.support.table_scan import snapshot

ROUTES = declared_routes()
SPECS = {(r.method, r.path): r for r in ROUTES}
API_CALLERS = (*CALLERS, *SERVICE_CALLERS)


def test_every_registered_route_has_a_row() -> None:
    rows = {c.route for c in CASES}
    missing = sorted(set(SPECS) - rows)
    assert not missing, f"routes without a row in tests/support/permission_table.py: {missing}"


def test_every_row_names_a_registered_route() -> None:
    stale = sorted({c.route for c in CASES} - set(SPECS))
    assert not stale, f"rows for routes that are not registered: {stale}"


def test_rows_are_distinct_and_name_known_callers() -> None:
    assert len({c.id for c in CASES}) == len(CASES), "two rows for one route need different variants"
    for case in CASES:
        assert case.allowed <= set(CALLERS) and set(case.statuses) <= set(API_CALLERS), case.id
        assert "{" not in case.path or case.params is not no_params, f"{case.id}: path params need a params function"


def test_each_rows_scope_is_the_one_the_route_registry_declares() -> None:
    wrong = [(c.id, c.scope, SPECS[c.route].scope) for c in CASES if c.scope != SPECS[c.route].scope]
    assert not wrong, f"scope in tests/permission_table.py vs the route registry: {wrong}"


def test_no_scope_opens_personal_org_or_credential_routes() -> None:
    """A service account never acts as a person, creates orgs, buys seats, renames the org, or manages
    service accounts, SCIM tokens, domains or its own tokens, whatever its scopes."""
    never = {("PATCH", "/v1/orgs/{org_id}"), ("PUT", "/v1/orgs/{org_id}/seats"), ("POST", "/v1/orgs")}
    for spec in ROUTES:
        closed = (
            (spec.method, spec.path) in never
            or spec.path.startswith(("/v1/me", "/v1/orgs/{org_id}/tokens"))
            or any(part in spec.path for part in ("/service-accounts", "/scim-tokens", "/scim/", "/domains"))
        )
        if closed:
            assert spec.scope is None, (spec.method, spec.path, spec.scope)


def expected_status(case: Case, caller: str) -> int:
    if caller in case.statuses:
        return case.statuses[caller]
    if case.allows(caller):
        return SPECS[case.route].status
    if caller == "anonymous":
        return 401
    if caller == "outsider":
        return 404
    return 403


@pytest.mark.parametrize("caller", API_CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_permission_matrix(world: tuple[Api, Seed], case: Case, caller: str) -> None:
    api, seed = world
    ctx = Ctx(api, seed, caller, caller_person(seed, caller))
    url = case.url(ctx)
    body = case.body(ctx) if case.body else None
    writes = case.method != "GET"
    before = snapshot() if writes else None
    r = case.send(api, url, ctx.key, body)
    expected = expected_status(case, caller)
    if caller == "outsider" and caller not in case.allowed and caller not in case.statuses:
        assert r.status in (403, 404), (r.status, r.body)
    else:
        assert r.status == expected, (r.status, r.body)
    if r.status >= 400:
        assert set(r.body) == {"error"}, r.body
        assert set(r.body["error"]) <= {"code", "message", "details"}
        if writes:
            assert snapshot() == before, "a refused call changed the tables"
        text = json.dumps(r.body)
        for person in (seed.admin, seed.billing, seed.member):
            assert person.email not in text and person.account_id not in text
        assert "Acme" not in text and "@acme.test" not in text
    if caller in case.codes:
        assert r.code == case.codes[caller], r.body
    elif r.status == 401:
        assert r.code == "unauthenticated"
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    elif r.status == 403 and (caller in ("account_admin", "billing_manager", "member") or caller in SERVICE_CALLERS):
        assert r.code == "forbidden"
    elif r.status == 404:
        assert r.code == "not_found"
