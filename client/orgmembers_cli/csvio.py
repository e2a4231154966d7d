"""CSV in (people to invite, onboard or seat) and out (results, formula-safe for spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = ("member", "billing_manager", "account_admin")


class CsvError(Exception):
    """The file cannot be used as it is; the message names the line."""


@dataclass(frozen=True)
class Row:
    line: int
    value: str  # an email (or, for seats, an email or account id)
    role: str | None = None


def read_rows(path: Path, *, key_columns: Sequence[str] = ("email",), with_role: bool = True) -> list[Row]:
    """Rows of ``path``: a header naming one of ``key_columns`` (and optionally ``role``), or no header.

    Without a header the first column is the value and a second column counts
    as the role only if it names a role. Every problem is reported before
    anything is sent, so a bad file changes nothing.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvError(f"{path}: is a directory") from None
    except UnicodeDecodeError as exc:
        raise CsvError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CsvError(f"{path}: {exc.strerror}") from None
    try:
        records = [(n, [c.strip() for c in r]) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)]
    except csv.Error as exc:
        raise CsvError(f"{path}: not a CSV file ({exc})") from None
    records = [(n, r) for n, r in records if any(r)]
    if not records:
        raise CsvError(f"{path}: no rows")
    first = [c.lower() for c in records[0][1]]
    value_at, role_at = 0, None
    header = next((c for c in key_columns if c in first), None)
    if header is not None:
        value_at = first.index(header)
        role_at = first.index("role") if with_role and "role" in first else None
        records = records[1:]
    elif not any("@" in c for c in first) and "email" in key_columns and len(key_columns) == 1:
        raise CsvError(f"{path}: line {records[0][0]}: no 'email' column in the header and no address in the row")
    rows: list[Row] = []
    for line, cells in records:
        value = cells[value_at] if value_at < len(cells) else ""
        if not value:
            raise CsvError(f"{path}: line {line}: the {header or key_columns[0]} is empty")
        role = None
        if role_at is not None and role_at < len(cells) and cells[role_at]:
            role = cells[role_at].lower()
            if role not in ROLES:
                raise CsvError(f"{path}: line {line}: unknown role {cells[role_at]!r} (one of {', '.join(ROLES)})")
        elif header is None and with_role and len(cells) > 1 and cells[1].lower() in ROLES:
            role = cells[1].lower()
        rows.append(Row(line, value, role))
    if not rows:
        raise CsvError(f"{path}: a header and no rows")
    return rows


# A cell a spreadsheet would run as a formula (OWASP CSV injection): these leading characters.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def formula_safe(value: Any) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(out: io.TextIOBase | Any, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([formula_safe(row.get(c)) for c in columns])
