"""CSV uploads over HTTP end to end: results in order with their lines, refusals, and no input gives a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.helpers import Api, Seed


def upload(api: Api, seed: Seed, data: bytes) -> tuple[int, object]:
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, body=data, headers={"Content-Type": "text/csv"})
    return r.status, r.body


def test_upload_results_in_order_with_lines(api: Api, seed: Seed) -> None:
    data = (
        b"\xef\xbb\xbfEmail,Role\r\n"
        b"Ann@X.io,member\r\n"
        b"not-an-email,member\r\n"
        b"\r\n"
        b"ANN@x.io ,member\r\n"
        b"member@acme.test,\r\n"
        b"bob@x.io,superuser\r\n"
        b'"carol@x.io","Account_Admin"\r\n'
    )
    status, body = upload(api, seed, data)
    assert status == 200, body
    got = [(r["line"], r["email"], r["status"]) for r in body["results"]]  # type: ignore[index]
    assert got == [
        (2, "ann@x.io", "invited"),
        (3, "not-an-email", "invalid_email"),
        (5, "ann@x.io", "duplicate_in_request"),
        (6, "member@acme.test", "already_member"),
        (7, "bob@x.io", "invalid_role"),
        (8, "carol@x.io", "invited"),
    ]
    assert body["results"][-1]["role"] == "account_admin"  # type: ignore[index]
    assert body["summary"]["invited"] == 2 and body["summary"]["total"] == 6  # type: ignore[index]
    status, body = upload(api, seed, b"ann@x.io\n")
    assert body["results"][0]["status"] == "already_invited"  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "invalid_csv"),
        (b"email\n", 400, "invalid_csv"),
        ("email\ncafé@x.io\n".encode("latin-1"), 400, "invalid_csv"),
        (b"email\n" + b"".join(b"u%d@x.io\n" % i for i in range(1001)), 413, "too_many_rows"),
    ],
)
def test_upload_refusals(api: Api, seed: Seed, data: bytes, status: int, code: str) -> None:
    got_status, body = upload(api, seed, data)
    assert (got_status, body["error"]["code"]) == (status, code)  # type: ignore[index]


def test_json_invite_limits(api: Api, seed: Seed) -> None:
    path = f"/v1/orgs/{seed.org_id}/invitations"
    assert api.post(path, seed.admin.key, {"emails": []}).code == "invalid_request"
    assert api.post(path, seed.admin.key, {"emails": ["a@x.io"], "role": "owner"}).code == "invalid_request"
    too_many = api.post(path, seed.admin.key, {"emails": [f"u{i}@x.io" for i in range(1001)]})
    assert (too_many.status, too_many.code) == (413, "too_many_rows")
    assert api.post(path, seed.member.key, {"emails": ["a@x.io"]}).code == "forbidden"
    assert api.post(path, seed.outsider.key, {"emails": ["a@x.io"]}).code == "not_found"


CSV_TEXT = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
        st.sampled_from(["email", "role", "a@x.io", '"', ",", "\r\n", "\n", "\r", "member", "\x00", "\ufeff"]),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(CSV_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=200)))
def test_no_csv_input_gives_a_500(api: Api, seed: Seed, data: bytes) -> None:
    status, body = upload(api, seed, data)
    assert status in (200, 400, 413), body
    if status == 200:
        assert body["summary"]["total"] == len(body["results"])  # type: ignore[index]
