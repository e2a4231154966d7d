"""CSV uploads: the parser on nasty files, and the HTTP call end to end (no input gives a 500)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidCsv, TooManyRows
from chalicelib.services import invitation_csv

from .helpers import Api, Seed


def rows(data: bytes) -> list[tuple[str, str | None, int]]:
    return [(r.email, r.role, r.line) for r in invitation_csv.parse(data)]


NASTY = [
    ("bom_crlf_header", b"\xef\xbb\xbfemail\r\na@x.io\r\nb@x.io\r\n", [("a@x.io", None, 2), ("b@x.io", None, 3)]),
    ("no_header_one_column", b"a@x.io\nb@x.io", [("a@x.io", None, 1), ("b@x.io", None, 2)]),
    (
        "quotes_with_commas_and_role",
        b'name,email,role\n"Doe, Jane",jane@x.io,billing_manager\n"O""Brien, Pat", pat@x.io ,\n',
        [("jane@x.io", "billing_manager", 2), ("pat@x.io", None, 3)],
    ),
    (
        "blank_lines_kept_in_numbering",
        b"email\n\n a@x.io \n\n\nb@x.io\n\n",
        [("a@x.io", None, 3), ("b@x.io", None, 6)],
    ),
    (
        "multiline_quoted_cell_then_row",
        b'email,note\na@x.io,"two\nlines"\nb@x.io,x\n',
        [("a@x.io", None, 2), ("b@x.io", None, 4)],
    ),
    ("semicolons", b"Email;Role\na@x.io;member\n", [("a@x.io", "member", 2)]),
    ("header_case_and_spaces", b"Name, E-Mail Address \nAnn,ann@x.io\n", [("ann@x.io", None, 2)]),
    (
        "no_header_role_second_column_only_when_a_role",
        b"a@x.io,account_admin\nb@x.io,Bob\n",
        [("a@x.io", "account_admin", 1), ("b@x.io", None, 2)],
    ),
    ("cr_only_line_ends", b"email\ra@x.io\rb@x.io\r", [("a@x.io", None, 2), ("b@x.io", None, 3)]),
    ("short_row_under_header", b"name,email\nonly-name\n", [("", None, 2)]),
]


@pytest.mark.parametrize(("data", "expected"), [pytest.param(d, e, id=n) for n, d, e in NASTY])
def test_nasty_files(data: bytes, expected: list[tuple[str, str | None, int]]) -> None:
    assert rows(data) == expected


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param("email\ncafé@x.io\n".encode("latin-1"), InvalidCsv, id="latin1"),
        pytest.param("email\na@x.io\n".encode("utf-16"), InvalidCsv, id="utf16"),
        pytest.param(b"", InvalidCsv, id="empty"),
        pytest.param(b"\xef\xbb\xbf\r\n\r\n", InvalidCsv, id="bom_and_blank_lines"),
        pytest.param(b"email,role\n", InvalidCsv, id="only_header"),
        pytest.param(b"PK\x03\x04\x00\x00binary", InvalidCsv, id="xlsx_bytes"),
        pytest.param(b"email\n" + b"".join(b"u%d@x.io\n" % i for i in range(1001)), TooManyRows, id="1001_rows"),
    ],
)
def test_unreadable_files(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        invitation_csv.parse(data)


def test_thousand_rows_is_the_limit() -> None:
    assert len(invitation_csv.parse(b"email\n" + b"".join(b"u%d@x.io\n" % i for i in range(1000)))) == 1000


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
