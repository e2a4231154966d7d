"""The ``orgmembers`` command: sign in, invite, onboard, seat, issue tokens and read the audit log from a shell.

Configuration as ``gh`` and ``aws`` users expect it: flags win over the
environment, the environment over the stored login. Every bulk command is
chunked under the API's request limits and resumable (see ``jobs.py``).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from orgmembers_sdk import ApiError, AuthError, Client, NetworkError
from orgmembers_sdk import operations as ops
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import config, exits
from .csvio import ROLES, CsvError, Row, formula_safe, read_rows, write_csv
from .jobs import Job

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="orgmembers",
    help=f"Manage an orgmembers organization from the command line.\n\n{exits.HELP}",
    epilog="Example: ORGMEMBERS_URL=https://api.example.com orgmembers login --email you@example.com",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
invitations_app = typer.Typer(help="List, resend and remove invitations.", no_args_is_help=True, rich_markup_mode=None)
members_app = typer.Typer(help="List the org's members.", no_args_is_help=True, rich_markup_mode=None)
seats_app = typer.Typer(help="Assign and revoke seats in bulk.", no_args_is_help=True, rich_markup_mode=None)
tokens_app = typer.Typer(help="Issue, list and revoke access tokens.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(invitations_app, name="invitations")
app.add_typer(members_app, name="members")
app.add_typer(seats_app, name="seats")
app.add_typer(tokens_app, name="tokens")


class Fail(Exception):
    """Stop with a message on stderr and an exit code from ``exits``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- options shared by the commands ---------------------------------------------------------------------

UrlOpt = Annotated[str | None, typer.Option("--url", help="API base URL [env ORGMEMBERS_URL].", show_default=False)]
OrgOpt = Annotated[str | None, typer.Option("--org", help="Org id [env ORGMEMBERS_ORG].", show_default=False)]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="table, csv or json.")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="A CSV file (header with 'email', or none).")]
ChunkOpt = Annotated[int | None, typer.Option("--chunk-size", hidden=True, min=1)]
OUTPUTS = ("table", "csv", "json")


@dataclass
class Session:
    client: Client
    url: str
    org: str | None

    def org_id(self) -> str:
        if not self.org:
            raise Fail(exits.USAGE, "no org: pass --org ORG_ID or set ORGMEMBERS_ORG (orgmembers orgs lists yours)")
        return self.org


def _resolve_url(url: str | None) -> str:
    resolved = url or os.environ.get("ORGMEMBERS_URL") or config.load_logins().get("default_url")
    if not resolved:
        raise Fail(exits.USAGE, "no API URL: pass --url URL or set ORGMEMBERS_URL (or run orgmembers login)")
    if not resolved.startswith(("http://", "https://")):
        raise Fail(exits.USAGE, f"the API URL must start with http:// or https://, not {resolved!r}")
    return resolved.rstrip("/")


def _timeout() -> float:
    """Seconds to wait for one answer: a bulk call of 500-1,000 rows can take a while on a slow backend."""
    raw = os.environ.get("ORGMEMBERS_TIMEOUT", "300")
    try:
        value = float(raw)
    except ValueError:
        raise Fail(exits.USAGE, f"ORGMEMBERS_TIMEOUT is a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise Fail(exits.USAGE, "ORGMEMBERS_TIMEOUT must be above 0")
    return value


def connect(url: str | None, org: str | None) -> Session:
    """A client with the credential the flags, environment and stored login give (in that order)."""
    base = _resolve_url(url)
    timeout = _timeout()
    key = os.environ.get("ORGMEMBERS_API_KEY")
    client_id, secret = os.environ.get("ORGMEMBERS_CLIENT_ID"), os.environ.get("ORGMEMBERS_CLIENT_SECRET")
    if key:
        client = Client(base, api_key=key, timeout=timeout)
    elif client_id or secret:
        if not (client_id and secret):
            raise Fail(exits.USAGE, "set both ORGMEMBERS_CLIENT_ID and ORGMEMBERS_CLIENT_SECRET")
        scope = os.environ.get("ORGMEMBERS_SCOPE")
        client = Client(base, client_id=client_id, client_secret=secret, scope=scope, timeout=timeout)
    else:
        stored = config.load_logins()["logins"].get(base)
        if not stored:
            raise Fail(
                exits.UNAUTHENTICATED,
                f"not signed in to {base}: run orgmembers login, or set ORGMEMBERS_API_KEY "
                "(or ORGMEMBERS_CLIENT_ID and ORGMEMBERS_CLIENT_SECRET)",
            )
        client = Client(base, api_key=stored["api_key"], timeout=timeout)
    return Session(client, base, org or os.environ.get("ORGMEMBERS_ORG"))


def _exit_code(error: ApiError) -> int:
    if error.status == 401:
        return exits.UNAUTHENTICATED
    if error.status == 403:
        return exits.FORBIDDEN
    if error.status == 402 or error.code == "seat_limit_reached":
        return exits.NO_SEATS
    if error.status == 429 or error.status >= 500:
        return exits.UNAVAILABLE
    return exits.REFUSED


@contextmanager
def failures() -> Iterator[None]:
    """Every failure as one line on stderr and its exit code; never a traceback."""
    try:
        yield
    except Fail as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.code) from None
    except CsvError as exc:
        err.print(f"error: bad CSV: {exc} (nothing was sent)", markup=False)
        raise typer.Exit(exits.USAGE) from None
    except ApiError as exc:
        hint = f"; retry after {int(exc.retry_after)} s" if exc.retry_after else ""
        err.print(f"error: {exc.message} ({exc.status} {exc.code}{hint})", markup=False)
        raise typer.Exit(_exit_code(exc)) from None
    except AuthError as exc:
        err.print(f"error: the token endpoint refused the client credentials: {exc}", markup=False)
        raise typer.Exit(exits.UNAUTHENTICATED) from None
    except NetworkError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exits.UNAVAILABLE) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to finish the job (done rows are not redone)")
        raise typer.Exit(exits.INTERRUPTED) from None


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise Fail(exits.USAGE, f"--output is one of {', '.join(OUTPUTS)}, not {output!r}")


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str, title: str | None = None) -> None:
    """Rows on stdout: a table for people, CSV (formula-safe) or JSON for scripts."""
    if output == "json":
        sys.stdout.write(json.dumps(list(rows), indent=2) + "\n")
    elif output == "csv":
        write_csv(sys.stdout, columns, rows)
    else:
        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        out.print(table)


def progress(total: int, what: str) -> Progress:
    bar = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    bar.add_task(what, total=total)
    return bar


def chunks(rows: Sequence[Row], size: int, *, by_role: bool) -> list[tuple[str | None, list[Row]]]:
    """Rows split under the request limit, grouped by role (one role per request) in file order."""
    groups: dict[str | None, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.role if by_role else None, []).append(row)
    return [(role, group[i : i + size]) for role, group in groups.items() for i in range(0, len(group), size)]


def _dedupe(rows: list[Row]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Each address once (the first row wins); later rows are reported, not sent."""
    seen: set[str] = set()
    kept, dropped = [], []
    for row in rows:
        key = row.value.strip().lower()
        if key in seen:
            dropped.append({"line": row.line, "email": row.value, "status": "duplicate_in_request"})
            continue
        seen.add(key)
        kept.append(row)
    return kept, dropped


def run_chunks(
    job: Job,
    parts: list[tuple[str | None, list[Row]]],
    send: Callable[[str | None, list[Row], bool], list[dict[str, Any]]],
    what: str,
) -> list[dict[str, Any]]:
    """Send each chunk not already done in an earlier run; record each as it completes."""
    if job.resumed:
        err.print(f"resuming: {len(job.done)} of {len(parts)} requests were done by an earlier run")
    job.start()
    results: list[dict[str, Any]] = []
    with progress(sum(len(p) for _, p in parts), what) as bar:
        task = bar.task_ids[0]
        for index, (role, part) in enumerate(parts):
            done = job.results(index)
            if done is None:
                done = send(role, part, job.sending(index))
                job.record(index, done)
            results.extend(done)
            bar.advance(task, len(part))
    job.finish()
    return results


def _role(role: str) -> str:
    if role not in ROLES:
        raise Fail(exits.USAGE, f"--role is one of {', '.join(ROLES)}, not {role!r}")
    return role


def _rows_from(values: list[str] | None, csv_file: Path | None, role: str | None, **csv_kw: Any) -> list[Row]:
    if bool(values) == bool(csv_file):
        raise Fail(exits.USAGE, "give the addresses as arguments or --csv FILE (one of the two)")
    if csv_file:
        return [Row(r.line, r.value, r.role or role) for r in read_rows(csv_file, **csv_kw)]
    return [Row(0, v, role) for v in values or []]


def _summary(results: Sequence[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _finish(results: Sequence[dict[str, Any]], ok: set[str]) -> None:
    err.print(f"done: {_summary(results)}", markup=False)
    statuses = {str(r.get("status")) for r in results}
    if "seat_limit_reached" in statuses:
        err.print("some rows got no seat: no free seat left (raise the capacity, then run it again)")
        raise typer.Exit(exits.NO_SEATS)
    if statuses - ok:
        raise typer.Exit(exits.ITEMS_REFUSED)


# -- login ------------------------------------------------------------------------------------------------


@app.command()
def login(
    email: Annotated[str | None, typer.Option(help="Your email: a sign-in code is sent there.")] = None,
    code: Annotated[str | None, typer.Option(help="The code from the email (asked for when not given).")] = None,
    url: UrlOpt = None,
) -> None:
    """Sign in with a code sent by email; the new API key is kept in your config folder (mode 0600).

    \b
    Example:
      orgmembers login --url https://api.example.com --email you@example.com
    """
    with failures():
        base = _resolve_url(url)
        with Client(base) as client:
            if code is None:
                if not email:
                    email = typer.prompt("Email")
                client.request_login_code(email)
                err.print(f"If an account has {email}, a sign-in code is on its way.", markup=False)
                code = typer.prompt("Code from the email", hide_input=sys.stdin.isatty()).strip()
            redeemed = client.redeem_login_code(code)
        with Client(base, api_key=redeemed["secret"]) as client:
            me = client.me()
        path = config.store_login(base, redeemed["secret"], me["email"], redeemed["key_id"])
        err.print(f"Signed in to {base} as {me['email']}; the key is kept in {path}", markup=False)


@app.command()
def logout(url: UrlOpt = None) -> None:
    """Forget the stored key for the API URL (revoke it on your Profile page or with the API).

    \b
    Example:
      orgmembers logout
    """
    with failures():
        base = _resolve_url(url)
        forgotten = config.forget_login(base)
        err.print(f"Signed out of {base}" if forgotten else f"No stored login for {base}", markup=False)


@app.command()
def orgs(url: UrlOpt = None, output: OutputOpt = "table") -> None:
    """List the orgs you belong to, with your role and seat.

    \b
    Example:
      orgmembers orgs --output json
    """
    with failures():
        _check_output(output)
        session = connect(url, None)
        me = session.client.me()
        rows = [dict(m) for m in me["memberships"]]
        emit(rows, ["org_id", "org_name", "role", "seat"], output, title=f"Orgs of {me['email']}")


# -- invitations ------------------------------------------------------------------------------------------

INVITE_OK = {"invited", "already_invited", "already_member", "duplicate_in_request"}


@app.command()
def invite(
    emails: Annotated[list[str] | None, typer.Argument(help="Addresses to invite.", show_default=False)] = None,
    csv_file: CsvOpt = None,
    role: Annotated[str, typer.Option(help="Role for rows without one.")] = "member",
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
    chunk_size: ChunkOpt = None,
) -> None:
    """Invite people by address or from a CSV of any size (sent in requests of 1,000; rerun to resume).

    \b
    Example:
      orgmembers invite --org org_123 --csv people.csv --output csv > results.csv
    """
    with failures():
        _check_output(output)
        rows, duplicates = _dedupe(_rows_from(emails, csv_file, _role(role)))
        session = connect(url, org)
        org_id = session.org_id()
        size = min(chunk_size or ops.INVITE_MAX, ops.INVITE_MAX)
        parts = chunks(rows, size, by_role=True)
        job = Job("invite", session.url, org_id, size, [(r.value, r.role) for r in rows])

        def send(part_role: str | None, part: list[Row], _: bool) -> list[dict[str, Any]]:
            answer = session.client.invite(org_id, [r.value for r in part], part_role or "member")
            return [
                {
                    "line": row.line or None,
                    "email": row.value,
                    "role": part_role,
                    "status": item["status"],
                    "invitation_id": item.get("invitation_id"),
                    "message": item.get("message"),
                }
                for row, item in zip(part, answer["items"], strict=True)
            ]

        results = run_chunks(job, parts, send, "inviting")
        results += duplicates
        results.sort(key=lambda r: r.get("line") or 0)
        emit(results, ["line", "email", "role", "status", "invitation_id", "message"], output, title="Invitations")
        _finish(results, INVITE_OK)


InvStatus = Annotated[
    str | None, typer.Option("--status", help="pending, expired, accepted or revoked.", show_default=False)
]
INVITATION_STATUSES = ("pending", "expired", "accepted", "revoked")


def _check_status(status: str | None) -> None:
    if status is not None and status not in INVITATION_STATUSES:
        raise Fail(exits.USAGE, f"--status is one of {', '.join(INVITATION_STATUSES)}, not {status!r}")


def _email_match(email_prefix: str | None) -> Callable[[dict[str, Any]], bool]:
    prefix = (email_prefix or "").lower()
    return lambda inv: str(inv.get("email", "")).lower().startswith(prefix)


@invitations_app.command("list")
def invitations_list(
    status: InvStatus = None,
    email_prefix: Annotated[str | None, typer.Option(help="Only addresses starting with this.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """List invitations, optionally by status and address prefix.

    \b
    Example:
      orgmembers invitations list --status expired --output csv
    """
    with failures():
        _check_output(output)
        _check_status(status)
        session = connect(url, org)
        wanted = _email_match(email_prefix)
        rows = []
        for inv in session.client.iter_invitations(session.org_id(), status=status):
            if wanted(dict(inv)):
                rows.append({**inv, "delivery": (inv.get("delivery") or {}).get("status")})
        columns = ["invitation_id", "email", "role", "status", "expires_at", "issue", "delivery"]
        emit(rows, columns, output, title="Invitations")


def _bulk_invitations(
    action: str,
    ids: list[str] | None,
    status: str | None,
    email_prefix: str | None,
    url: str | None,
    org: str | None,
    output: str,
    ok: set[str],
) -> None:
    _check_output(output)
    _check_status(status)
    if not ids and status is None and email_prefix is None:
        raise Fail(exits.USAGE, f"name the invitations to {action}: ids, --status or --email-prefix")
    session = connect(url, org)
    org_id = session.org_id()
    if not ids:
        wanted = _email_match(email_prefix)
        ids = [i["invitation_id"] for i in session.client.iter_invitations(org_id, status=status) if wanted(dict(i))]
    if not ids:
        err.print(f"no invitation to {action}")
        return
    call = session.client.resend_invitations if action == "resend" else session.client.remove_invitations
    results: list[dict[str, Any]] = []
    with progress(len(ids), f"{action[:-1] if action.endswith('e') else action}ing") as bar:
        for i in range(0, len(ids), ops.INVITATION_IDS_MAX):
            part = ids[i : i + ops.INVITATION_IDS_MAX]
            results += [dict(r) for r in call(org_id, part)["items"]]
            bar.advance(bar.task_ids[0], len(part))
    emit(results, ["invitation_id", "status", "message", "retry_after"], output, title=f"{action.title()} results")
    _finish(results, ok)


@invitations_app.command("resend")
def invitations_resend(
    ids: Annotated[list[str] | None, typer.Argument(help="Invitation ids.", show_default=False)] = None,
    status: InvStatus = None,
    email_prefix: Annotated[str | None, typer.Option(help="Only addresses starting with this.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Resend invitations by id, or every one matching the filters (for example every expired one).

    \b
    Example:
      orgmembers invitations resend --status expired
    """
    with failures():
        ok = {"resent", "already_accepted", "already_member"}
        _bulk_invitations("resend", ids, status, email_prefix, url, org, output, ok)


@invitations_app.command("remove")
def invitations_remove(
    ids: Annotated[list[str] | None, typer.Argument(help="Invitation ids.", show_default=False)] = None,
    status: InvStatus = None,
    email_prefix: Annotated[str | None, typer.Option(help="Only addresses starting with this.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Remove invitations by id, or every one matching the filters; their links stop working.

    \b
    Example:
      orgmembers invitations remove --status pending --email-prefix contractor.
    """
    with failures():
        ok = {"removed", "already_removed", "already_accepted"}
        _bulk_invitations("remove", ids, status, email_prefix, url, org, output, ok)


# -- members and seats --------------------------------------------------------------------------------------

MEMBER_COLUMNS = ["account_id", "email", "name", "role", "seat", "joined_at"]


@members_app.command("list")
def members_list(
    role: Annotated[str | None, typer.Option(help="account_admin, billing_manager or member.")] = None,
    seat: Annotated[bool | None, typer.Option("--seat/--no-seat", help="Only with (or without) a seat.")] = None,
    email_prefix: Annotated[str | None, typer.Option(help="Only addresses starting with this.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """List members; --output csv is safe to open in a spreadsheet (no cell runs as a formula).

    \b
    Example:
      orgmembers members list --no-seat --output csv > unseated.csv
    """
    with failures():
        _check_output(output)
        if role is not None:
            _role(role)
        session = connect(url, org)
        iterator = session.client.iter_members(session.org_id(), role=role, seat=seat, email_prefix=email_prefix)
        emit([dict(m) for m in iterator], MEMBER_COLUMNS, output, title="Members")


def _account_ids(session: Session, org_id: str, rows: list[Row]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Rows naming members by email become account ids (one listing of the org); unknown emails are reported."""
    if not any("@" in r.value for r in rows):
        return rows, []
    by_email = {m["email"].lower(): m["account_id"] for m in session.client.iter_members(org_id)}
    found, missing = [], []
    for row in rows:
        if "@" not in row.value:
            found.append(row)
        elif row.value.lower() in by_email:
            found.append(Row(row.line, by_email[row.value.lower()], row.role))
        else:
            missing.append({"line": row.line or None, "email": row.value, "status": "not_member"})
    return found, missing


def _seats(
    action: str,
    who: list[str] | None,
    csv_file: Path | None,
    notify: bool,
    url: str | None,
    org: str | None,
    output: str,
    chunk_size: int | None,
) -> None:
    _check_output(output)
    rows = _rows_from(who, csv_file, None, key_columns=("email", "account_id"), with_role=False)
    session = connect(url, org)
    org_id = session.org_id()
    found, missing = _account_ids(session, org_id, rows)
    size = min(chunk_size or ops.SEATS_MAX, ops.SEATS_MAX)
    job = Job(f"seats {action}", session.url, org_id, notify, size, [r.value for r in found])
    emails = {r.value: next((x.value for x in rows if x.line == r.line), r.value) for r in found}

    def send(_: str | None, part: list[Row], __: bool) -> list[dict[str, Any]]:
        ids = [r.value for r in part]
        answer = (
            session.client.assign_seats(org_id, ids, notify=notify)
            if action == "assign"
            else session.client.revoke_seats(org_id, ids)
        )
        return [
            {
                "line": row.line or None,
                "email": emails.get(row.value),
                "account_id": item["account_id"],
                "status": item["status"],
            }
            for row, item in zip(part, answer["items"], strict=True)
        ]

    results = run_chunks(job, chunks(found, size, by_role=False), send, f"{action}ing seats") + missing
    results.sort(key=lambda r: r.get("line") or 0)
    emit(results, ["line", "email", "account_id", "status"], output, title=f"Seats {action}")
    ok = {"assigned", "already_assigned"} if action == "assign" else {"revoked", "no_seat"}
    _finish(results, ok)


WhoArg = Annotated[list[str] | None, typer.Argument(help="Member emails or account ids.", show_default=False)]


@seats_app.command("assign")
def seats_assign(
    who: WhoArg = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV with an 'email' or 'account_id' column.")] = None,
    notify: Annotated[bool, typer.Option("--notify/--no-notify", help="Email each member their seat.")] = True,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
    chunk_size: ChunkOpt = None,
) -> None:
    """Assign seats in file order while they last (exit 6 when some got none).

    \b
    Example:
      orgmembers seats assign --csv engineers.csv --no-notify
    """
    with failures():
        _seats("assign", who, csv_file, notify, url, org, output, chunk_size)


@seats_app.command("revoke")
def seats_revoke(
    who: WhoArg = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV with an 'email' or 'account_id' column.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
    chunk_size: ChunkOpt = None,
) -> None:
    """Revoke seats; the members' tokens stop working at once.

    \b
    Example:
      orgmembers seats revoke --csv leavers.csv
    """
    with failures():
        _seats("revoke", who, csv_file, False, url, org, output, chunk_size)


# -- onboarding -------------------------------------------------------------------------------------------

ONBOARD_OK = {"onboarded", "already_member", "invited", "already_invited", "duplicate_in_request"}
TOKEN_COLUMNS = ["email", "account_id", "token_id", "name", "expires_at", "secret"]


class TokenFile:
    """The secrets of issued tokens, appended and synced as each answer arrives, readable by the owner only."""

    def __init__(self, path: Path, resume: bool) -> None:
        if path.exists() and not resume:
            raise Fail(exits.USAGE, f"{path} exists: give a new --tokens-out file (it would mix two runs' secrets)")
        self.path = path
        self.known: set[str] = set()  # token ids whose secrets this file holds
        if path.exists():
            with path.open(encoding="utf-8", newline="") as existing:
                self.known = {r.get("token_id", "") for r in csv.DictReader(existing)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self.file = os.fdopen(fd, "a", encoding="utf-8", newline="")
        if self.file.tell() == 0:
            write_csv(self.file, TOKEN_COLUMNS, [])
            self.sync()

    def add(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            writer = csv.writer(self.file, lineterminator="\n")
            writer.writerows([[formula_safe(r.get(c)) for c in TOKEN_COLUMNS] for r in rows])
            self.known.update(str(r["token_id"]) for r in rows)
            self.sync()

    def sync(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def _replace_lost_tokens(
    session: Session, org_id: str, name: str, expires: str | None, since: str, secrets: TokenFile, answer: Any
) -> None:
    """Members of a chunk whose answer an earlier run never got: their live tokens from this job are unknown.

    The API revokes tokens stranded by a call that died before answering; a
    call that answered a client that was gone (Ctrl-C, a killed process)
    handed its tokens over, so their secrets are lost. For each such member
    (``already_member`` and no token now), tokens of this name
    issued by an admin since the job started and not in the tokens file are
    revoked and one new token is issued and written, so each member ends with
    exactly one live token, whose secret is in the file.
    """
    started = _parse_time(since) - timedelta(minutes=1)  # the API's clock may be a little behind ours
    for item in answer["items"]:
        unanswered = item["status"] == "already_member" and not item.get("token")  # (its seat is not reported)
        if not unanswered or not item.get("account_id"):
            continue
        account_id = item["account_id"]
        lost = [
            t
            for t in session.client.iter_tokens(org_id, account_id=account_id)
            if t.get("name") == name
            and t.get("status") == "active"
            and t["token_id"] not in secrets.known
            and (t.get("created_by") or {}).get("kind") == "admin"
            and _parse_time(str(t.get("created_at"))) >= started
        ]
        if not lost:
            continue
        for token in lost:
            session.client.revoke_token(org_id, token["token_id"], account_id=account_id)
        new = session.client.issue_token(org_id, name, account_id=account_id, expires_at=expires)
        item["token"] = {k: new[k] for k in ("token_id", "name", "expires_at", "secret")}


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def onboard(
    csv_file: Annotated[Path, typer.Option("--csv", help="CSV of people (column 'email', optional 'role').")],
    role: Annotated[str, typer.Option(help="Role for rows without one.")] = "member",
    issue_token: Annotated[str | None, typer.Option(help="Issue each seated member a token with this name.")] = None,
    token_expires: Annotated[str | None, typer.Option(help="Tokens' expiry (ISO 8601 with a zone).")] = None,
    tokens_out: Annotated[
        Path | None, typer.Option(help="Where the token secrets go (created with mode 0600).")
    ] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
    chunk_size: ChunkOpt = None,
) -> None:
    """Add people on the org's verified domains directly, seat them while seats last, optionally issue tokens.

    Others are invited. Requests of 100 rows (each a few seconds); an interrupted run, started again,
    finishes without adding, seating or issuing twice (a token whose answer was
    lost is revoked by the API and a new one written).

    \b
    Example:
      orgmembers onboard --csv hires.csv --issue-token laptop --tokens-out tokens.csv
    """
    with failures():
        _check_output(output)
        if issue_token and not tokens_out:
            raise Fail(exits.USAGE, "--issue-token needs --tokens-out FILE (the secrets are shown nowhere else)")
        if tokens_out and not issue_token:
            raise Fail(exits.USAGE, "--tokens-out goes with --issue-token NAME")
        rows, duplicates = _dedupe(_rows_from(None, csv_file, _role(role)))
        session = connect(url, org)
        org_id = session.org_id()
        size = min(chunk_size or ops.ONBOARD_CHUNK, ops.ONBOARD_MAX)
        identity = [(r.value, r.role) for r in rows]
        job = Job("onboard", session.url, org_id, size, issue_token, token_expires, str(tokens_out), identity)
        underway = job.resumed
        job.start()
        secrets = TokenFile(tokens_out, underway) if tokens_out else None

        def send(part_role: str | None, part: list[Row], was_in_flight: bool) -> list[dict[str, Any]]:
            emails = [r.value for r in part]
            answer = session.client.onboard(org_id, emails, part_role or "member", issue_token, token_expires)
            if was_in_flight and secrets and issue_token:
                _replace_lost_tokens(session, org_id, issue_token, token_expires, job.started_at, secrets, answer)
            issued = [
                {"email": i["email"], "account_id": i["account_id"], **i["token"]}
                for i in answer["items"]
                if i.get("token")
            ]
            if secrets:
                secrets.add(issued)  # before the job records the chunk: a crash here reruns it, never loses it
            return [
                {
                    "line": row.line or None,
                    "email": row.value,
                    "role": part_role,
                    "status": item["status"],
                    "account_id": item.get("account_id"),
                    "seat": item.get("seat"),
                    "token_id": (item.get("token") or {}).get("token_id"),
                }
                for row, item in zip(part, answer["items"], strict=True)
            ]

        try:
            results = run_chunks(job, chunks(rows, size, by_role=True), send, "onboarding")
        finally:
            if secrets:
                secrets.close()
        results += duplicates
        results.sort(key=lambda r: r.get("line") or 0)
        columns = ["line", "email", "role", "status", "account_id", "seat", "token_id"]
        emit(results, columns, output, title="Onboarding")
        if tokens_out:
            err.print(f"token secrets: {tokens_out} (mode 0600)", markup=False)
        _finish(results, ONBOARD_OK)


# -- tokens -----------------------------------------------------------------------------------------------

TOKEN_LIST_COLUMNS = ["token_id", "account_id", "name", "status", "created_at", "expires_at", "last_used_at"]
MemberOpt = Annotated[
    str | None, typer.Option("--member", help="A member's email or account id (admins); default: yourself.")
]


def _member_id(session: Session, org_id: str, member: str | None) -> str | None:
    if not member or "@" not in member:
        return member
    matches = [
        m for m in session.client.iter_members(org_id, email_prefix=member) if m["email"].lower() == member.lower()
    ]
    if not matches:
        raise Fail(exits.REFUSED, f"{member} is not a member of {org_id}")
    return matches[0]["account_id"]


@tokens_app.command("issue")
def tokens_issue(
    name: Annotated[str, typer.Option(help="The token's name, e.g. laptop or ci.")],
    member: MemberOpt = None,
    expires: Annotated[str | None, typer.Option(help="Expiry, ISO 8601 with a zone.")] = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Issue an access token; its secret is printed once, on stdout.

    \b
    Example:
      TOKEN=$(orgmembers tokens issue --name ci --output json | jq -r .secret)
    """
    with failures():
        _check_output(output)
        session = connect(url, org)
        org_id = session.org_id()
        token = session.client.issue_token(
            org_id, name, account_id=_member_id(session, org_id, member), expires_at=expires
        )
        if output == "json":
            sys.stdout.write(json.dumps(token) + "\n")
        elif output == "csv":
            write_csv(sys.stdout, [*TOKEN_LIST_COLUMNS, "secret"], [dict(token)])
        else:
            err.print(
                f"token {token['token_id']} ({token['name']}), expires {token['expires_at']}; secret (shown once):"
            )
            sys.stdout.write(token["secret"] + "\n")


@tokens_app.command("list")
def tokens_list(member: MemberOpt = None, url: UrlOpt = None, org: OrgOpt = None, output: OutputOpt = "table") -> None:
    """List your tokens, or (admins) a member's.

    \b
    Example:
      orgmembers tokens list --member ann@acme.example
    """
    with failures():
        _check_output(output)
        session = connect(url, org)
        org_id = session.org_id()
        rows = [dict(t) for t in session.client.iter_tokens(org_id, account_id=_member_id(session, org_id, member))]
        emit(rows, TOKEN_LIST_COLUMNS, output, title="Tokens")


@tokens_app.command("revoke")
def tokens_revoke(
    token_ids: Annotated[list[str], typer.Argument(help="Token ids.")],
    member: MemberOpt = None,
    url: UrlOpt = None,
    org: OrgOpt = None,
) -> None:
    """Revoke tokens (yours, or with --member a member's); they stop verifying at once.

    \b
    Example:
      orgmembers tokens revoke tok_123 --member ann@acme.example
    """
    with failures():
        session = connect(url, org)
        org_id = session.org_id()
        account_id = _member_id(session, org_id, member)
        for token_id in token_ids:
            session.client.revoke_token(org_id, token_id, account_id=account_id)
            err.print(f"revoked {token_id}", markup=False)


# -- audit ------------------------------------------------------------------------------------------------


@app.command()
def audit(
    action: Annotated[str | None, typer.Option(help="e.g. member.added, seat.revoked.")] = None,
    actor: Annotated[str | None, typer.Option(help="e.g. account:acc_123.")] = None,
    target: Annotated[str | None, typer.Option(help="An account, invitation, token or org id.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 time: entries at or after it.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries (0: all).", min=0)] = 100,
    url: UrlOpt = None,
    org: OrgOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Read the org's audit log, newest first.

    \b
    Example:
      orgmembers audit --action seat.revoked --since 2026-01-01T00:00:00Z --output json
    """
    with failures():
        _check_output(output)
        session = connect(url, org)
        rows: list[dict[str, Any]] = []
        entries = session.client.iter_audit_log(
            session.org_id(), action=action, actor=actor, target=target, since=since
        )
        for entry in entries:
            rows.append({**entry, "details": json.dumps(entry.get("details") or {}, sort_keys=True)})
            if limit and len(rows) >= limit:
                break
        emit(rows, ["at", "action", "actor", "target", "details", "request_id"], output, title="Audit log")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
