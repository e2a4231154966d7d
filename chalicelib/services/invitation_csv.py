"""CSV uploads of invitees: tolerant of what spreadsheet programs write.

Accepted: UTF-8 with or without a BOM, CRLF/LF/CR line ends, quoted fields
(commas, quotes and newlines inside quotes), blank lines, ``,`` or ``;`` or
tab as the delimiter (chosen from the first non-blank line), and extra
columns. The first non-blank row is a header when one of its cells is named
``email`` (also ``e-mail``, ``email address``); an optional ``role`` column
is then read by name. Without a header the email is the first column, and a
second column counts as the role only when it names a role (otherwise it is
an extra column). Line numbers are those of the file (1-based, the line on
which a row starts), so an admin can find the row in their editor.
Bytes that are not UTF-8 (Latin-1 exports, UTF-16) are refused as a whole
with ``invalid_csv`` rather than guessed at.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..domain.errors import InvalidCsv, TooManyRows
from ..domain.roles import Role

MAX_ROWS = 1000
_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "emailaddress", "mail"}
_ROLE_HEADERS = {"role", "roles"}
_ROLE_NAMES = {r.value for r in Role}


@dataclass(frozen=True)
class CsvRow:
    """One data row: the raw email cell, the raw role cell (None when absent or empty), its line."""

    email: str
    role: str | None
    line: int


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidCsv(
            "The file is not UTF-8 text; save it as CSV UTF-8.",
            details=[{"field": "body", "problem": "not_utf8", "message": f"undecodable byte at offset {exc.start}"}],
        ) from exc
    if "\x00" in text:
        raise InvalidCsv(
            "The file contains NUL characters; is it a spreadsheet instead of CSV?",
            details=[{"field": "body", "problem": "binary"}],
        )
    return text


def _delimiter(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            if "," in line:
                return ","
            if ";" in line:
                return ";"
            if "\t" in line:
                return "\t"
            return ","
    return ","


def _header_name(cell: str) -> str:
    return " ".join(cell.strip().lower().replace("_", " ").split())


def parse(data: bytes, max_rows: int = MAX_ROWS) -> list[CsvRow]:
    """Rows of an uploaded file, in file order; raise InvalidCsv / TooManyRows for the file as a whole."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    rows: list[CsvRow] = []
    email_col: int | None = None
    role_col: int | None = None
    header_seen = False
    next_line = 1
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            cells = [c.strip() for c in record]
            if not any(cells):
                continue
            if not header_seen:
                header_seen = True
                names = [_header_name(c) for c in cells]
                found = [i for i, n in enumerate(names) if n in _EMAIL_HEADERS]
                if found:
                    email_col = found[0]
                    roles = [i for i, n in enumerate(names) if n in _ROLE_HEADERS]
                    role_col = roles[0] if roles else None
                    continue
            if len(rows) >= max_rows:
                raise TooManyRows(
                    f"At most {max_rows} rows per upload; split the file.",
                    details=[{"field": "body", "problem": "too_many_rows", "limit": max_rows}],
                )
            if email_col is None:
                email = cells[0]
                candidate = cells[1].lower() if len(cells) > 1 else ""
                role = candidate if candidate in _ROLE_NAMES else None
            else:
                email = cells[email_col] if email_col < len(cells) else ""
                role = cells[role_col] if role_col is not None and role_col < len(cells) and cells[role_col] else None
            rows.append(CsvRow(email=email, role=role, line=line))
    except csv.Error as exc:
        raise InvalidCsv(
            "The file is not valid CSV.",
            details=[{"field": "body", "problem": "csv_error", "line": next_line, "message": str(exc)}],
        ) from exc
    if not rows:
        raise InvalidCsv("The file contains no email rows.", details=[{"field": "body", "problem": "no_rows"}])
    return rows
