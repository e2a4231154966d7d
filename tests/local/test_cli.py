"""The ``orgmembers`` CLI against the real app over HTTP on DynamoDB Local.

Each test runs the installed command in a child process against the app
served on a thread of the test process (tests/cli_support.py), then reads the
tables directly to check what the API really did.
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import stat
import time
from pathlib import Path

import typer.main
import typer.testing
from chalice.test import Client as ChaliceClient
from orgmembers_cli.main import app as cli_app

from app import app
from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import members, tokens
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.invitations import InvitationModel
from chalicelib.storage.sessions import SessionModel
from chalicelib.storage.tokens import TokenModel, access_token_owner
from local.dynamodb_local import free_port
from tests.support.cli_support import ORGMEMBERS, Served, served, write_csv
from tests.support.console_support import deliver_signins
from tests.support.helpers import admin_actor

__all__ = ["served"]


def rows_of(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


def wait_until(done: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_command_is_installed_and_every_command_has_help_with_an_example() -> None:
    assert ORGMEMBERS.exists(), "make install puts the orgmembers command in the virtualenv (pip install -e .)"
    root = typer.main.get_command(cli_app)
    leaves: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):  # a group: its subcommands
            leaves += [[name, sub] for sub in command.commands]
        else:
            leaves.append([name])
    assert len(leaves) >= 15
    for words in leaves:
        helped = typer.testing.CliRunner().invoke(cli_app, [*words, "--help"])
        assert helped.exit_code == 0, (words, helped.output)
        assert "Example:" in helped.output and "orgmembers " in helped.output, words


def test_orgs_lists_the_admins_orgs(served: Served) -> None:
    done = served.run("orgs", "--output", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["org_id"], r["role"]) for r in rows] == [(served.seed.org_id, "account_admin")]


def invited_emails(org_id: str) -> set[str]:
    """Addresses with an invitation item in the org (the seed's own people have items of their own)."""
    return {i.email for i in InvitationModel.query(org_id, consistent_read=True) if "@invitees." in i.email}


def test_invite_2500_from_a_csv_interrupted_and_rerun_invites_each_address_once(served: Served, tmp_path: Path) -> None:
    emails = [f"person{i:04d}@invitees.example" for i in range(2500)]
    people = write_csv(tmp_path / "people.csv", ["email,role", *(f"{e},member" for e in emails)])

    first = served.start("invite", "--csv", str(people), "--output", "json")
    # Interrupt (Ctrl-C) once the first of the three requests (1,000 rows each, the API's limit) is recorded.
    wait_until(lambda: any(json.loads(p.read_text() or "{}").get("done") for p in served.state_files), "a chunk")
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 130, stderr
    assert "run the same command again" in stderr
    served.settle()
    before = invited_emails(served.seed.org_id)
    assert 1000 <= len(before) < 2500
    sent_before = served.count("POST", "/invitations")
    [state] = served.state_files
    recorded = len(json.loads(state.read_text())["done"])  # chunks whose answer the first run got
    assert recorded >= 1 and "secret" not in state.read_text()

    again = served.run("invite", "--csv", str(people), "--output", "json")
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    results = json.loads(again.stdout)
    assert [r["email"] for r in results] == emails  # every row, in file order, with its line
    assert [r["line"] for r in results] == list(range(2, 2502))
    assert {r["status"] for r in results} <= {"invited", "already_invited"}
    # Only the chunks not finished before the interruption were sent again.
    assert served.count("POST", "/invitations") - sent_before == 3 - recorded
    # The rows answered before the interruption keep their answer; a chunk the server committed after the
    # client stopped listening is answered already_invited; the rest are invited now.
    assert all(r["status"] == "invited" for r in results[: 1000 * recorded])
    assert {r["email"] for r in results if r["status"] == "already_invited"} <= before

    stored = [i for i in InvitationModel.query(served.seed.org_id, consistent_read=True) if i.email in set(emails)]
    assert sorted(i.email for i in stored) == emails  # one invitation per address
    assert {i.issue for i in stored} == {1}  # none was issued twice
    created = [a for a in AuditModel.query(served.seed.org_id) if a.action == "invitation.created"]
    assert len({a.target for a in created}) == 2500
    assert len(created) == 2500
    assert not served.state_files  # the job is finished: its state is gone

    # The same file once more: nothing new, all already invited, exit 0, three requests.
    third = served.run("invite", "--csv", str(people), "--output", "csv")
    assert third.returncode == 0, third.stderr
    assert {r["status"] for r in rows_of(third.stdout)} == {"already_invited"}


def _live_tokens(org_id: str, account_id: str) -> list[TokenModel]:
    owned = TokenModel.by_owner.query(access_token_owner(org_id, account_id))
    return [t for t in owned if t.revoked_at is None and not t.awaiting_handover]


def test_onboard_from_a_csv_writes_tokens_to_a_0600_file_and_a_killed_run_reruns_without_double_issue(
    served: Served, tmp_path: Path
) -> None:
    seed = served.seed
    assert served.run("seats", "assign", "admin@acme.test", "--no-notify").returncode == 0
    org = ChaliceClient(app)  # raise the capacity through the API, as an admin would
    org.http.put(
        f"/v1/orgs/{seed.org_id}/seats",
        headers={"Authorization": f"Bearer {seed.admin.key}", "Content-Type": "application/json"},
        body=json.dumps({"capacity": 40}),
    )
    hires = [f"hire{i:02d}@acme.test" for i in range(12)]
    csv_file = write_csv(tmp_path / "hires.csv", ["email", *hires, "hire00@ACME.test"])  # last: a duplicate
    tokens_out = tmp_path / "tokens.csv"
    args = ["onboard", "--csv", str(csv_file), "--issue-token", "laptop", "--tokens-out", str(tokens_out)]

    # The second request (rows 6-10) is held at the server; the CLI is killed while it waits for the
    # answer; then the server completes it, answering no one: those five tokens' secrets are lost.
    from tests.support.cli_support import Gate

    served.gate = Gate("POST", "/members/onboard", nth=2)
    first = served.start(*args, "--chunk-size", "5", "--output", "json")
    assert served.gate.arrived.wait(120), first.communicate(timeout=5)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    served.gate.release.set()
    assert served.gate.finished.wait(60)
    assert stat.S_IMODE(tokens_out.stat().st_mode) == 0o600
    assert len(rows_of(tokens_out.read_text())) == 5  # the first chunk's, written as it was answered

    again = served.run(*args, "--chunk-size", "5", "--output", "json")
    assert again.returncode == 0, again.stderr
    results = json.loads(again.stdout)
    assert [r["email"] for r in results] == [*hires, "hire00@ACME.test"]
    assert results[-1]["status"] == "duplicate_in_request"
    assert [r["status"] for r in results[:5]] == ["onboarded"] * 5  # from the first run's record
    assert [r["status"] for r in results[5:10]] == ["already_member"] * 5  # committed by the lost answer
    assert [r["status"] for r in results[10:12]] == ["onboarded"] * 2

    assert stat.S_IMODE(tokens_out.stat().st_mode) == 0o600
    written = rows_of(tokens_out.read_text())
    assert sorted(r["email"] for r in written) == hires, (results, again.stderr)  # one token per person, no one twice
    for row in written:
        assert tokens.verify(row["secret"])["active"] is True, row["email"]
        live = _live_tokens(seed.org_id, row["account_id"])
        assert [t.token_id for t in live] == [row["token_id"]], row["email"]  # the lost token was revoked
    assert len({r["secret"] for r in written}) == 12

    # A third run: everyone is already a member with their token; nothing issued, the file refused.
    third = served.run(*args, "--output", "json")
    assert third.returncode == 2 and "exists" in third.stderr
    fresh = tmp_path / "fresh.csv"
    fourth = served.run("onboard", "--csv", str(csv_file), "--issue-token", "laptop", "--tokens-out", str(fresh))
    assert fourth.returncode == 0, fourth.stderr
    assert rows_of(fresh.read_text()) == []
    assert all(len(_live_tokens(seed.org_id, r["account_id"])) == 1 for r in written)


def test_exit_codes_bad_csv_no_seats_network_down_bad_key_not_allowed(served: Served, tmp_path: Path) -> None:
    seed = served.seed
    bad_role = write_csv(tmp_path / "bad.csv", ["email,role", "a@invitees.example,member", "b@invitees.example,boss"])
    done = served.run("invite", "--csv", str(bad_role))
    assert done.returncode == 2
    assert "line 3" in done.stderr and "boss" in done.stderr and "nothing was sent" in done.stderr
    no_column = write_csv(tmp_path / "none.csv", ["name,team", "Ann,ops"])
    assert served.run("invite", "--csv", str(no_column)).returncode == 2
    assert served.run("invite", "--csv", str(tmp_path / "missing.csv")).returncode == 2
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00bad")
    assert served.run("onboard", "--csv", str(tmp_path / "binary.csv")).returncode == 2
    assert served.count("POST", "/invitations") == 0 and served.count("POST", "/onboard") == 0
    assert not invited_emails(seed.org_id)

    # No seats: capacity 10, none held yet; ten seats assigned in file order, then the rest get none.
    actor = admin_actor(seed.admin)
    people = [members.add_member(seed.org_id, actor, f"s{i}@acme.test", Role.MEMBER).member for i in range(12)]
    listed = write_csv(tmp_path / "seats.csv", ["email", *(f"s{i}@acme.test" for i in range(12)), "nobody@acme.test"])
    seated = served.run("seats", "assign", "--csv", str(listed), "--no-notify", "--output", "csv")
    assert seated.returncode == 6, seated.stderr
    assert "no free seat" in seated.stderr
    statuses = [r["status"] for r in rows_of(seated.stdout)]
    assert statuses == ["assigned"] * 10 + ["seat_limit_reached"] * 2 + ["not_member"]
    assert sum(1 for p in people if p and members.get_member(seed.org_id, actor, p.account_id).has_seat) == 10
    one = served.run("onboard", "--csv", str(write_csv(tmp_path / "late.csv", ["late@acme.test"])))
    assert one.returncode == 6

    # The network is down: nothing listens on the port.
    down = served.run("orgs", extra={"ORGMEMBERS_URL": f"http://127.0.0.1:{free_port()}"})
    assert down.returncode == 7 and "cannot reach" in down.stderr and "Traceback" not in down.stderr

    refused = served.run("orgs", key="oak_not_a_real_key_at_all_000000000000000")
    assert refused.returncode == 3 and "unauthenticated" in refused.stderr
    not_admin = served.run("invite", "x@invitees.example", key=seed.member.key)
    assert not_admin.returncode == 4, not_admin.stderr
    nothing = served.run("orgs", extra={"ORGMEMBERS_API_KEY": ""})
    assert nothing.returncode == 3 and "orgmembers login" in nothing.stderr
    no_org = served.run("members", "list", extra={"ORGMEMBERS_ORG": ""})
    assert no_org.returncode == 2 and "--org" in no_org.stderr
    # Flags win over the environment.
    flagged = served.run("members", "list", "--org", seed.other_org_id)
    assert flagged.returncode == 5 and "not_found" in flagged.stderr


def test_login_by_emailed_code_stores_a_0600_key_that_later_commands_use(served: Served, mailer: MemoryMailer) -> None:
    login = served.start("login", "--email", "member@acme.test", key="")

    def requested() -> list[SessionModel]:
        return [i for i in SessionModel.scan() if i.kind == "signin" and i.email == "member@acme.test"]

    wait_until(requested, "the sign-in request")
    assert deliver_signins() == {"records": 1, "sent": 1}  # the Sessions stream mails the code
    [mail] = [m for m in mailer.sent if "member@acme.test" in str(m.to)]
    code = re.findall(r"olc_[A-Za-z0-9_-]+", mail.text)[0]
    _, stderr = login.communicate(code + "\n", timeout=60)
    assert login.returncode == 0, stderr
    assert "Signed in" in stderr and code not in stderr
    stored = served.home / ".config" / "orgmembers" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert code not in stored.read_text()
    mine = served.run("orgs", "--output", "json", key="")  # no key in the environment: the stored login
    assert mine.returncode == 0, mine.stderr
    assert [(m["org_id"], m["role"]) for m in json.loads(mine.stdout)] == [(served.seed.org_id, "member")]
    assert served.run("logout").returncode == 0
    assert served.run("orgs", key="").returncode == 3


def test_members_list_csv_is_formula_safe_and_filters(served: Served) -> None:
    seed = served.seed
    actor = Actor(actor=f"account:{seed.admin.account_id}", request_id="t", account_id=seed.admin.account_id)
    members.add_member(seed.org_id, actor, "=cmd@acme.test", Role.MEMBER)
    members.add_member(seed.org_id, actor, "+sum@acme.test", Role.MEMBER)
    done = served.run("members", "list", "--output", "csv")
    assert done.returncode == 0, done.stderr
    emails = {r["email"] for r in rows_of(done.stdout)}
    assert {"'=cmd@acme.test", "'+sum@acme.test", "admin@acme.test"} <= emails
    admins = served.run("members", "list", "--role", "account_admin", "--output", "json")
    assert [m["email"] for m in json.loads(admins.stdout)] == ["admin@acme.test"]


def test_seats_tokens_invitations_and_audit_commands(served: Served, tmp_path: Path) -> None:
    seed = served.seed
    csv_file = write_csv(tmp_path / "s.csv", ["email", "member@acme.test", "billing@acme.test"])
    first = served.run("seats", "assign", "--csv", str(csv_file), "--no-notify", "--output", "json")
    assert first.returncode == 0, first.stderr
    assert [r["status"] for r in json.loads(first.stdout)] == ["assigned", "assigned"]
    again = served.run("seats", "assign", "--csv", str(csv_file), "--output", "json")
    assert [r["status"] for r in json.loads(again.stdout)] == ["already_assigned"] * 2

    issued = served.run("tokens", "issue", "--name", "ci", "--member", "member@acme.test", "--output", "json")
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)
    assert tokens.verify(token["secret"])["active"] is True
    listed = served.run("tokens", "list", "--member", "member@acme.test", "--output", "json")
    assert [t["token_id"] for t in json.loads(listed.stdout)] == [token["token_id"]]
    assert "secret" not in json.loads(listed.stdout)[0]
    revoked = served.run("tokens", "revoke", token["token_id"], "--member", seed.member.account_id)
    assert revoked.returncode == 0, revoked.stderr
    assert tokens.verify(token["secret"])["active"] is False
    seats_off = served.run("seats", "revoke", "billing@acme.test", "--output", "json")
    assert [r["status"] for r in json.loads(seats_off.stdout)] == ["revoked"]

    assert served.run("invite", "a@invitees.example", "b@invitees.example").returncode == 0
    pending = json.loads(served.run("invitations", "list", "--status", "pending", "--output", "json").stdout)
    assert sorted(i["email"] for i in pending) == ["a@invitees.example", "b@invitees.example"]
    resent = served.run("invitations", "resend", "--status", "pending", "--output", "json")
    assert resent.returncode == 0, resent.stderr
    assert [r["status"] for r in json.loads(resent.stdout)] == ["resent"] * 2
    gone = served.run("invitations", "remove", "--email-prefix", "a@", "--output", "json")
    assert [r["status"] for r in json.loads(gone.stdout)] == ["removed"]
    assert {i.email: i.issue for i in InvitationModel.query(seed.org_id) if "@invitees." in i.email} == {
        "a@invitees.example": 2,
        "b@invitees.example": 2,
    }

    audit = served.run("audit", "--action", "seat.assigned", "--output", "json")
    assert audit.returncode == 0, audit.stderr
    assert sorted(json.loads(audit.stdout), key=lambda e: e["target"]) and {
        e["target"] for e in json.loads(audit.stdout)
    } == {seed.member.account_id, seed.billing.account_id}
    bad = served.run("audit", "--output", "xml")
    assert bad.returncode == 2


def test_client_credentials_from_the_environment_act_as_the_service_account(served: Served) -> None:
    """ORGMEMBERS_CLIENT_ID/SECRET: the CLI gets a token from /v1/oauth/token and acts within its scopes."""
    from chalicelib.domain.roles import Scope
    from chalicelib.services import service_accounts

    seed = served.seed
    scopes = frozenset({Scope.MEMBERS_READ, Scope.INVITATIONS_WRITE})
    account, _, secret = service_accounts.create(seed.org_id, admin_actor(seed.admin), "hr-sync", scopes)
    creds = {"ORGMEMBERS_API_KEY": "", "ORGMEMBERS_CLIENT_ID": account.sa_id, "ORGMEMBERS_CLIENT_SECRET": secret}

    listed = served.run("members", "list", "--output", "json", extra=creds)
    assert listed.returncode == 0, listed.stderr
    assert "admin@acme.test" in {m["email"] for m in json.loads(listed.stdout)}
    invited = served.run("invite", "robot1@invitees.example", "--output", "json", extra=creds)
    assert invited.returncode == 0, invited.stderr
    actors = {e.actor for e in AuditModel.query(seed.org_id) if e.action == "invitation.created"}
    assert actors == {f"service_account:{account.sa_id}"}
    assert served.count("POST", "/v1/oauth/token") == 2  # one grant per run, no API key used

    not_in_scope = served.run("seats", "assign", "admin@acme.test", "--no-notify", extra=creds)
    assert not_in_scope.returncode == 4, not_in_scope.stderr
    wrong = served.run("members", "list", extra={**creds, "ORGMEMBERS_CLIENT_SECRET": "oss_" + "x" * 43})
    assert wrong.returncode == 3 and secret not in wrong.stderr, wrong.stderr
