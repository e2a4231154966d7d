"""Bad input: every write route answers 400 invalid_request with field details and changes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.config import get_settings
from chalicelib.http.routing import declared_routes
from chalicelib.http.schemas import ListQuery
from tests.support.helpers import Api, Seed
from tests.support.permission_table import CASES, Case, Ctx
from tests.support.table_scan import snapshot

# Write routes with a JSON body, called by a caller allowed to use them (the token endpoint's form
# body and its RFC 6749 errors are tested in test_service_accounts.py).
BODY_CASES = [c for c in CASES if c.body is not None and not c.form]
ROUTES = declared_routes()
ROUTE_BODIES = {(r.method, r.path): r.body for r in ROUTES if r.body is not None}
# Wrong values per field: wrong JSON types, out-of-range, badly formed.
WRONG: dict[str, list[Any]] = {
    "name": [None, 123, 1.5, True, [], {}, "", "   ", "a" * 201, "bad\x00name", "tab\tname"],
    "capacity": [None, "12", "ten", 1.5, True, -1, 1_000_001, [], {}],
    "email": [None, 5, True, [], "", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "a@-x-.com"],
    "role": [None, "owner", "ACCOUNT_ADMIN", 1, [], {}],
    "assign_seat": [None, "yes", 1, "true", []],
    "emails": [None, "a@b.com", 5, {}, [], [5], [None], [["a@b.com"]]],
    "invitation_ids": [None, "inv_x", 5, {}, [], [5], [None]],
    "code": [None, 5, [], {}, ""],
    "account_ids": [None, "acc_x", 5, {}, [], [5], [None], ["acc_x"] * 501],
    "notify": [None, "yes", 1, "true", []],
    "expires_at": [5, True, [], "tomorrow", "2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2030-01-01T00:00:00"],
    "token": [None, 5, [], {}, "oat_" + "x" * 600],
    # Types and lengths; a string that is no domain is 400 invalid_domain (test_domains.py).
    "domain": [None, 5, True, 1.5, [], {}, "", "a" * 301],
    "scopes": [None, "members:read", 5, {}, [], ["scim"], [5], [None], ["members:read"] * 7],
    "disabled": [None, "yes", 1, "true", []],
}


def admin_ctx(world: tuple[Api, Seed]) -> Ctx:
    api, seed = world
    return Ctx(api, seed, "account_admin", seed.admin)


def assert_invalid(r: Any, field_prefix: str | None = None) -> None:
    assert r.status == 400, (r.status, r.body)
    assert r.code == "invalid_request", r.body
    details = r.body["error"]["details"]
    assert isinstance(details, list) and details, r.body
    for d in details:
        assert isinstance(d["field"], str) and d["field"] and d["problem"], d
    if field_prefix:
        assert any(d["field"].startswith(field_prefix) for d in details), details


def raw_bodies() -> list[tuple[str, str | bytes, str]]:
    """(label, body, field the details must name)."""
    deep = "[" * 100_000 + "]" * 100_000
    return [
        ("malformed", '{"name": ', "body"),
        ("trailing-garbage", '{"name": "x"} x', "body"),
        ("single-quotes", "{'name': 'x'}", "body"),
        ("empty", "", "body"),
        ("whitespace", "   \n", "body"),
        ("null", "null", "body"),
        ("array", "[]", "body"),
        ("string", '"name"', "body"),
        ("number", "42", "body"),
        ("bool", "true", "body"),
        ("not-utf8", b'{"name": "\xff\xfe"}', "body"),
        ("deeply-nested", '{"name": ' + deep + "}", "body"),
        (
            "lone-surrogate",
            '{"name": "\\ud800", "capacity": "\\udfff", "email": "\\ud800@x.com", "role": "\\ud800"}',
            "",
        ),
        ("nan", '{"name": NaN, "capacity": NaN, "email": NaN, "role": NaN}', ""),
        ("huge-integer", '{"name": 1' + "0" * 5000 + "}", "body"),  # over int's 4,300 digits: ValueError (was 500)
    ]


@pytest.mark.parametrize("label,body,field", raw_bodies(), ids=[b[0] for b in raw_bodies()])
@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.id)
def test_unreadable_bodies(world: tuple[Api, Seed], case: Case, label: str, body: str | bytes, field: str) -> None:
    ctx = admin_ctx(world)
    url = case.url(ctx)
    before = snapshot()
    r = ctx.api.call(case.method, url, ctx.key, body=body if body != "" else None)
    assert_invalid(r, field or None)
    assert snapshot() == before


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.id)
def test_unknown_fields_and_wrong_types(world: tuple[Api, Seed], case: Case) -> None:
    ctx = admin_ctx(world)
    assert case.body is not None
    url = case.url(ctx)
    good = case.body(ctx)
    before = snapshot()
    r = ctx.api.call(case.method, url, ctx.key, {**good, "unexpected": 1})
    assert_invalid(r, "unexpected")
    assert r.body["error"]["details"][0]["problem"] == "extra_forbidden"
    fields = [f for f in good if f in WRONG]
    assert fields, f"no wrong values listed for {case.id}"
    for name in fields:
        for value in WRONG[name]:
            r = ctx.api.call(case.method, url, ctx.key, {**good, name: value})
            assert r.status == 400, (name, value, r.status, r.body)
            assert_invalid(r, name)
    # Required fields missing (the route's body model says which are required).
    model = ROUTE_BODIES[case.route]
    required = [name for name in good if model.model_fields[name].is_required()]
    for name in required:
        partial = {k: v for k, v in good.items() if k != name}
        r = ctx.api.call(case.method, url, ctx.key, partial)
        assert_invalid(r, name)
    assert snapshot() == before


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.id)
def test_oversized_body(world: tuple[Api, Seed], case: Case) -> None:
    ctx = admin_ctx(world)
    size = get_settings().max_body_bytes
    body = json.dumps({"name": "x" * size})
    url = case.url(ctx)
    before = snapshot()
    r = ctx.api.call(case.method, url, ctx.key, body=body)
    assert_invalid(r, "body")
    assert r.body["error"]["details"][0]["problem"] == "too_large"
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1",
        "limit=201",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "seat=maybe",
        "seat=",
        "role=owner",
        "email_prefix=",
        "email_prefix=" + "a" * 300,
        "cursor=" + "a" * 3000,
        "unknown=1",
    ],
)
def test_bad_member_list_queries(world: tuple[Api, Seed], query: str) -> None:
    api, seed = world
    r = api.get(f"/v1/orgs/{seed.org_id}/members?{query}", seed.admin.key)
    assert_invalid(r, "query." + query.split("=")[0])


# --- cursors: any malformed one is 400, on every list route ------------------------

LIST_ROUTES = [r.path for r in ROUTES if r.method == "GET" and r.query is not None and issubclass(r.query, ListQuery)]
# Key attributes of each list's cursor (besides org_id), as the services decode them.
CURSOR_KEYS = {"audit-log": ["sk"], "invitations": ["invitation_id"], "members": ["account_id"], "tokens": []}


def b64(raw: str | bytes) -> str:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def bad_cursors(org_id: str, names: list[str]) -> list[tuple[str, str]]:
    """(label, cursor): each decodes to something no list of ours ever handed out (all under 2,048 chars)."""

    def key(value: str) -> str:
        return json.dumps({"org_id": {"S": org_id}, **{n: {"S": value} for n in names}})

    return [
        ("1530-brackets", b64("[" * 1530)),
        ("1000-braces", b64('{"a":' * 300)),
        ("deep-value", b64('{"org_id": ' + "[" * 700 + "]" * 700 + "}")),
        ("lone-surrogate", b64(key("\ud800"))),  # the JSON escape, as a forger would write it
        ("blank", b64(key("   "))),
        ("overlong", b64(key("a" * 1100))),
    ]


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_malformed_cursors_are_invalid_request(world: tuple[Api, Seed], path: str) -> None:
    # Found by hand: "[" * 1530 hit RecursionError in the cursor's JSON (500); forged keys reached the engine.
    api, seed = world
    url = path.replace("{org_id}", seed.org_id).replace("{account_id}", seed.member.account_id)
    names = CURSOR_KEYS[path.rsplit("/", 1)[-1]]
    urls = [url + "?"] + ([url + "?email_prefix=m&"] if path.endswith("/members") else [])
    before = snapshot()
    for label, cursor in bad_cursors(seed.org_id, names):
        assert len(cursor) <= 2048, label
        for prefix in urls:
            r = api.get(f"{prefix}cursor={cursor}", seed.admin.key)
            assert_invalid(r)
            assert r.body["error"]["details"][0] == {"field": "cursor", "problem": "malformed"}, (label, r.body)
    assert snapshot() == before


# --- property: random JSON never gives a 5xx -----------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(["name", "capacity", "email", "role", "assign_seat", "extra", ""])
BODIES = st.one_of(
    JSON_VALUES,
    st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=4),
    st.dictionaries(
        FIELD_NAMES,
        st.one_of(
            st.sampled_from(["member", "account_admin", "billing_manager", "x@acme.test", "New Name", 0, 5]),
            JSON_SCALARS,
        ),
        max_size=4,
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(BODY_CASES), body=BODIES)
def test_random_json_never_5xx(world: tuple[Api, Seed], case: Case, body: Any) -> None:
    ctx = admin_ctx(world)
    r = ctx.api.call(case.method, case.url(ctx), ctx.key, body=json.dumps(body))
    assert r.status < 500, (case.id, body, r.status, r.body)
    if r.status == 400:
        assert_invalid(r)


@pytest.mark.parametrize("org_id", ["\t", " ", "%09"])
def test_blank_path_id_is_404_not_a_dynamodb_error(api: Api, seed: Seed, org_id: str) -> None:
    # Found by the fuzzer: a blank id reached DynamoDB as an empty key value (ValidationException, 500).
    r = api.get(f"/v1/orgs/{org_id}/members", seed.admin.key)
    assert (r.status, r.code) == (404, "not_found"), r.body
