"""SCIM bad input: each refusal is a 400 SCIM error (RFC 7644 §3.12) with a stable scimType, and changes nothing.

Found by hand: bodies nested 5,000 deep (500), ``userName sw ""`` (an empty
DynamoDB key condition, 500), lone surrogates stored by POST /Users (201 on
DynamoDB Local, 500 on moto), a 20,000-term filter (seconds of CPU), and
/.search turning every member into a resource whatever the page.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from chalicelib.scim.api import MAX_BODY_DEPTH
from chalicelib.scim.filters import MAX_FILTER_CHARS, MAX_FILTER_TERMS
from tests.support.helpers import Api, Resp, Seed, scim_seed
from tests.support.scim_helpers import PATCH_OP, SCIM, SCIM_JSON, USER_SCHEMA, Scim, issue_scim_token
from tests.support.table_scan import snapshot

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def seed(api: Api) -> Seed:
    """The seeded org with the SCIM test domains verified (SCIM create acts only on verified domains)."""
    return scim_seed(api)


@pytest.fixture
def scim(api: Api, seed: Seed) -> Scim:
    return Scim(api, issue_scim_token(seed)[1])


@pytest.fixture
def user_id(scim: Scim) -> str:
    created = scim.create_user("target@acme.test", displayName="Target")
    assert created.status == 201, created.body
    return str(created.body["id"])


def send(scim: Scim, method: str, path: str, body: str) -> Resp:
    """A raw body, exactly as written (JSON escapes such as \\ud800 kept)."""
    return scim.api.call(method, SCIM + path, scim.token, body=body, headers={"Content-Type": SCIM_JSON})


def assert_scim_error(r: Resp, scim_type: str) -> None:
    assert r.status == 400, (r.status, r.body)
    assert r.headers.get("Content-Type", r.headers.get("content-type")) == SCIM_JSON, r.headers
    assert r.body["schemas"] == [ERROR_SCHEMA] and r.body["status"] == "400", r.body
    assert r.body["scimType"] == scim_type and r.body["detail"], r.body


def write_targets(user_id: str) -> list[tuple[str, str]]:
    """Every SCIM route that reads a body."""
    return [
        ("POST", "/Users"),
        ("PUT", f"/Users/{user_id}"),
        ("PATCH", f"/Users/{user_id}"),
        ("PUT", "/Groups/seat-holders"),
        ("PATCH", "/Groups/seat-holders"),
        ("POST", "/Users/.search"),
        ("POST", "/Groups/.search"),
        ("POST", "/.search"),
    ]


def nested(depth: int) -> str:
    """A JSON value ``depth`` levels of arrays deep."""
    return "[" * depth + "]" * depth


def user_with(extra: str) -> str:
    """A valid User body (depth 1) with one more attribute, written as raw JSON."""
    return '{"schemas": ["' + USER_SCHEMA + '"], "userName": "deep@acme.test", "active": true, "x": ' + extra + "}"


# --- 1. nesting depth --------------------------------------------------------------

DEEP_BODIES = [
    ("objects-5000", '{"a":' * 5000 + "1" + "}" * 5000),
    ("arrays-5000", nested(5000)),
    ("attribute-900", user_with(nested(900))),
    ("attribute-over-cap", user_with(nested(MAX_BODY_DEPTH))),  # the body is MAX_BODY_DEPTH + 1 deep
    ("patch-value-40", '{"schemas": ["' + PATCH_OP + '"], "Operations": [{"op": "add", "value": ' + nested(40) + "}]}"),
]


@pytest.mark.parametrize("label,body", DEEP_BODIES, ids=[b[0] for b in DEEP_BODIES])
def test_deeply_nested_bodies_are_invalid_syntax(scim: Scim, user_id: str, label: str, body: str) -> None:
    before = snapshot()
    for method, path in write_targets(user_id):
        r = send(scim, method, path, body)
        assert_scim_error(r, "invalidSyntax")
        assert "nests" in r.body["detail"], (method, path, r.body)
    assert snapshot() == before


def test_nesting_up_to_the_cap_is_accepted(scim: Scim) -> None:
    r = send(scim, "POST", "/Users", user_with(nested(MAX_BODY_DEPTH - 1)))  # exactly MAX_BODY_DEPTH deep
    assert r.status == 201 and r.body["userName"] == "deep@acme.test", r.body


NOT_JSON = [
    ("integer-5001-digits", user_with("1" + "0" * 5000)),  # over Python's int limit: ValueError, was 500
    ("nan", user_with("NaN")),
    ("infinity", user_with("-Infinity")),
]


@pytest.mark.parametrize("label,body", NOT_JSON, ids=[b[0] for b in NOT_JSON])
def test_values_json_does_not_have_are_invalid_syntax(scim: Scim, user_id: str, label: str, body: str) -> None:
    before = snapshot()
    for method, path in write_targets(user_id):
        assert_scim_error(send(scim, method, path, body), "invalidSyntax")
    assert snapshot() == before


@pytest.mark.parametrize("paging", ['"startIndex": 1e999', '"count": 1e999', '"count": -1e999'])
def test_paging_values_out_of_range_are_invalid_syntax(scim: Scim, paging: str) -> None:
    for path in ("/Users/.search", "/Groups/.search", "/.search"):
        assert_scim_error(send(scim, "POST", path, "{" + paging + "}"), "invalidSyntax")  # was 500 (OverflowError)


# --- 2. empty filter values ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["moto", "dynamodb_local"])
def test_empty_filter_values_follow_the_filter_semantics(request: pytest.FixtureRequest, engine: str) -> None:
    """sw "" matches every userName; eq "" matches none; neither reaches DynamoDB as an empty key value."""
    request.getfixturevalue("moto_tables" if engine == "moto" else "local_tables")
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    assert scim.create_user("off@acme.test", active=False).status == 201
    everyone = {u["userName"]: u["active"] for u in scim.get("/Users?count=200").body["Resources"]}
    assert len(everyone) == 4
    active = {name for name, on in everyone.items() if on}
    expected = {
        'userName sw ""': set(everyone),
        'USERNAME SW ""': set(everyone),
        'userName sw "" and active eq true': active,
        'active eq true and userName sw ""': active,
        'userName sw "" and userName eq "member@acme.test"': {"member@acme.test"},
        'userName eq ""': set(),
        'userName eq "" and active eq true': set(),
        'userName sw "" or userName eq ""': set(everyone),
        'not (userName sw "")': set(),
    }
    for expression, names in expected.items():
        listed = scim.get(f"/Users?filter={quote(expression)}")
        assert listed.status == 200, (expression, listed.body)
        assert {u["userName"] for u in listed.body["Resources"]} == names, expression
        assert listed.body["totalResults"] == len(names), expression
        searched = scim.post("/Users/.search", {"schemas": [SEARCH_REQUEST], "filter": expression, "count": 200})
        assert searched.status == 200 and searched.body["totalResults"] == len(names), (expression, searched.body)
        everything = scim.post("/.search", {"schemas": [SEARCH_REQUEST], "filter": expression})
        assert everything.status == 200, (expression, everything.body)
        users = {r["userName"] for r in everything.body.get("Resources", []) if r["schemas"] == [USER_SCHEMA]}
        assert users == names, expression
    sw_empty = quote('userName sw ""')
    paged = scim.get(f"/Users?filter={sw_empty}&startIndex=2&count=2")
    assert paged.body["totalResults"] == 4 and paged.body["itemsPerPage"] == 2


# --- 4. lone surrogates --------------------------------------------------------------


def surrogate_bodies(user_id: str) -> list[tuple[str, str, str]]:
    """(method, path, raw body) with a lone surrogate (a JSON escape) somewhere in the body."""

    def user(rest: str, email: str = "new@acme.test") -> str:
        return '{"schemas": ["' + USER_SCHEMA + '"], "userName": "' + email + '", ' + rest + "}"

    def patch(operation: str) -> str:
        return '{"schemas": ["' + PATCH_OP + '"], "Operations": [' + operation + "]}"

    me = f"/Users/{user_id}"
    group = '{"schemas": ["' + GROUP_SCHEMA + '"], "displayName": "Seat Holders", "members": [{"value": "\\ud800"}]}'
    join = '{"op": "add", "path": "members", "value": [{"value": "' + user_id + '", "display": "\\ud800"}]}'
    return [
        ("POST", "/Users", user(r'"displayName": "a\ud800"')),
        ("POST", "/Users", user(r'"displayName": "\udfff"')),
        ("POST", "/Users", user(r'"displayName": "\udc00\ud800"')),  # a pair the wrong way round
        ("POST", "/Users", user(r'"name": {"givenName": "G\ud83d"}')),
        ("POST", "/Users", user(r'"emails": [{"value": "x@acme.test", "type": "w\ud800"}]')),
        ("POST", "/Users", user(r'"externalId": "\ud800"')),
        ("POST", "/Users", user(r'"title": "ignored but \ud800"')),  # an attribute we drop
        ("POST", "/Users", user(r'"x\ud800": 1')),  # in a key
        ("POST", "/Users", user('"active": true', email=r"new\ud800@acme.test")),
        ("PUT", me, user(r'"displayName": "a\ud800"', email="target@acme.test")),
        ("PATCH", me, patch(r'{"op": "replace", "path": "displayName", "value": "\ud800"}')),
        ("PATCH", me, patch(r'{"op": "replace", "value": {"displayName": "b\udbff"}}')),
        ("PATCH", me, patch(r'{"op": "replace", "path": "name.givenName\ud800", "value": "x"}')),
        ("PATCH", "/Groups/seat-holders", patch(join)),
        ("PUT", "/Groups/seat-holders", group),
        ("POST", "/Users/.search", r'{"filter": "userName eq \"\ud800\""}'),
        ("POST", "/.search", r'{"attributes": ["display\ud800Name"]}'),
    ]


@pytest.mark.parametrize("index", range(len(surrogate_bodies("acc_x"))))
def test_lone_surrogates_are_refused_before_any_write(scim: Scim, user_id: str, index: int) -> None:
    method, path, body = surrogate_bodies(user_id)[index]
    assert "\\ud" in body.lower()
    before = snapshot()
    r = send(scim, method, path, body)
    assert_scim_error(r, "invalidValue")
    assert "surrogate" in r.body["detail"], r.body
    assert snapshot() == before


def test_lone_surrogates_are_refused_on_dynamodb_local(local_tables: str) -> None:
    """The real engine stored them (201): nothing may be written, not even the account."""
    api = Api()
    seed = scim_seed(api)
    scim = Scim(api, issue_scim_token(seed)[1])
    before = snapshot()
    body = '{"schemas": ["' + USER_SCHEMA + '"], "userName": "s@acme.test", "displayName": "a\\ud800"}'
    assert_scim_error(send(scim, "POST", "/Users", body), "invalidValue")
    assert snapshot() == before


def test_surrogate_pairs_are_text_and_accepted(scim: Scim, user_id: str) -> None:
    body = '{"schemas": ["' + USER_SCHEMA + '"], "userName": "emoji@acme.test", "displayName": "ok \\ud83d\\ude00"}'
    created = send(scim, "POST", "/Users", body)
    assert created.status == 201 and created.body["displayName"] == "ok \U0001f600", created.body
    assert scim.get(f"/Users/{created.body['id']}").body["displayName"] == "ok \U0001f600"


def test_lone_surrogates_in_filter_values_are_invalid_filter(scim: Scim) -> None:
    for expression in ('userName eq "\\ud800"', 'userName sw "a\\udfff"', 'displayName co "\\ud800"'):
        assert_scim_error(scim.get(f"/Users?filter={quote(expression)}"), "invalidFilter")
        assert_scim_error(scim.get(f"/Groups?filter={quote(expression)}"), "invalidFilter")


# --- 5. filter size ------------------------------------------------------------------


def terms(n: int) -> str:
    return " or ".join(["emails pr"] * n)


def filter_routes(scim: Scim, expression: object) -> Iterator[tuple[str, Resp]]:
    if isinstance(expression, str):
        yield "GET /Users", scim.get(f"/Users?filter={quote(expression)}")
        yield "GET /Groups", scim.get(f"/Groups?filter={quote(expression)}")
    for path in ("/Users/.search", "/Groups/.search", "/.search"):
        yield f"POST {path}", scim.post(path, {"schemas": [SEARCH_REQUEST], "filter": expression})


@pytest.mark.parametrize(
    "expression",
    [
        terms(MAX_FILTER_TERMS + 1),
        'userName eq "a@b.test" and (' + terms(MAX_FILTER_TERMS) + ")",
        "emails[" + " or ".join(['type eq "w"'] * (MAX_FILTER_TERMS + 1)) + "]",
        'userName eq "' + "a" * MAX_FILTER_CHARS + '"',
        " " * (MAX_FILTER_CHARS + 1) + "emails pr",
        5,
        ["userName pr"],
        {"userName": "pr"},
        True,
    ],
    ids=["101-terms", "and-101", "value-path-101", "2000-chars", "padded", "int", "list", "object", "bool"],
)
def test_oversized_or_non_string_filters_are_invalid_filter(scim: Scim, expression: object) -> None:
    if isinstance(expression, str):
        assert len(expression) < 8_000  # fits a query string
    for route, r in filter_routes(scim, expression):
        assert r.status == 400, (route, r.status, r.body)
        assert_scim_error(r, "invalidFilter")


def test_filters_at_the_caps_are_answered(scim: Scim) -> None:
    assert len(terms(MAX_FILTER_TERMS)) <= MAX_FILTER_CHARS
    for route, r in filter_routes(scim, terms(MAX_FILTER_TERMS)):
        assert r.status == 200, (route, r.body)


def test_a_20000_term_filter_is_refused_at_once(scim: Scim) -> None:
    expression = " or ".join(f'userName eq "u{i}@x.test"' for i in range(20_000))
    started = time.monotonic()
    r = scim.post("/Users/.search", {"schemas": [SEARCH_REQUEST], "filter": expression})
    assert_scim_error(r, "invalidFilter")
    assert time.monotonic() - started < 1.0  # was about 3 s of parsing and evaluation


# --- 5. /.search reads its page ------------------------------------------------------------


def test_root_search_pages_across_users_and_groups(scim: Scim) -> None:
    for n in range(3):
        assert scim.create_user(f"extra{n}@acme.test").status == 201
    full = scim.post("/.search", {"schemas": [SEARCH_REQUEST], "count": 200}).body
    assert full["totalResults"] == 9 and len(full["Resources"]) == 9  # 6 users, then the 3 groups
    assert [r["schemas"][0] for r in full["Resources"]] == [USER_SCHEMA] * 6 + [GROUP_SCHEMA] * 3
    ids = [r["id"] for r in full["Resources"]]
    for start in range(1, 11):
        for count in range(0, 5):
            page = scim.post("/.search", {"schemas": [SEARCH_REQUEST], "startIndex": start, "count": count}).body
            assert [r["id"] for r in page.get("Resources", [])] == ids[start - 1 : start - 1 + count], (start, count)
            assert page["totalResults"] == 9 and page["startIndex"] == start
            assert page["itemsPerPage"] == len(ids[start - 1 : start - 1 + count])
    groups_only = scim.post("/.search", {"startIndex": 7, "count": 1, "excludedAttributes": ["members"]}).body
    assert groups_only["Resources"][0]["id"] == ids[6] and "members" not in groups_only["Resources"][0]


def test_root_search_reads_no_more_than_its_page(scim: Scim, dynamodb_calls: Counter[str]) -> None:
    dynamodb_calls.clear()
    found = scim.post("/.search", {"schemas": [SEARCH_REQUEST], "filter": 'userName eq "member@acme.test"'})
    assert found.status == 200 and [r["userName"] for r in found.body["Resources"]] == ["member@acme.test"]
    # One index Query for the user and one for the org's groups; no group matches, so no
    # read of the members (GetItem: the token, its maker's membership, the org).
    assert dynamodb_calls == Counter({"Query": 2, "GetItem": 3}), dynamodb_calls
    dynamodb_calls.clear()
    first = scim.post("/.search", {"schemas": [SEARCH_REQUEST], "count": 1})
    assert first.body["itemsPerPage"] == 1 and first.body["totalResults"] == 6
    # Users: the org's member counter (GetItem), one Query of the page, the next page's cursor
    # (PutItem). Groups are not on the page: only their count (a COUNT Query of their names).
    assert dynamodb_calls == Counter({"Query": 2, "GetItem": 3, "PutItem": 1}), dynamodb_calls
