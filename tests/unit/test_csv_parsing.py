"""The CSV parser on nasty and unreadable files; the upload over HTTP is tested in the integration tier."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidCsv, TooManyRows
from chalicelib.services import invitation_csv


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
