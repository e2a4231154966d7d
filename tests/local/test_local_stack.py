"""The local stack: the stream pump against DynamoDB Local, the bootstrap command, and the whole stack over HTTP."""

from __future__ import annotations

import email
import email.policy
import functools
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.events.streams import HANDLERS_BY_TABLE
from chalicelib.services import bootstrap, keys, members
from chalicelib.storage.members import MemberModel
from chalicelib.storage.schema import stream_arn
from local.dynamodb_local import DynamoDBLocal, free_port
from local.files import pid_alive
from local.pump import StreamPump
from tests.support.helpers import added as direct_member
from tests.support.helpers import verify_domain_of

ROOT = Path(__file__).resolve().parents[2]
# Variables the tests' own backends set; a stack or the bootstrap command must not inherit them.
TEST_ONLY = ("DYNAMODB_ENDPOINT", "TABLE_PREFIX", "MAIL_BACKEND", "MEMBERS_STREAM_ARN", "INVITATIONS_STREAM_ARN")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(extra)
    return env


# -- the stream pump, against DynamoDB Local directly ----------------------------------------------


class Recorder:
    """The app's real Members handler, with the events it was given kept for inspection."""

    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.results: list[Any] = []
        self.fail_times = fail_times

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))  # what Lambda sends is JSON
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("handler failed")
        result = HANDLERS_BY_TABLE["members"](event, context)
        self.results.append(result)
        return result

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for e in self.events for r in e["Records"]]


def members_pump(endpoint: str, handler: Callable[..., Any], state: Path, **kw: Any) -> StreamPump:
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
    return StreamPump("members", functools.partial(stream_arn, MemberModel), handler, streams, state_path=state, **kw)


def admin_actor(account_id: str) -> Actor:
    return Actor(actor=f"account:{account_id}", request_id="test", account_id=account_id)


def test_pump_delivers_member_changes_in_lambda_shape(
    local_tables: str, dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    handler = Recorder()
    pump = members_pump(dynamodb_local.endpoint, handler, tmp_path / "members.json")
    assert pump.poll_once() == 0

    boot = bootstrap.bootstrap("Pumped", "pump-admin@example.com", seat_capacity=5)
    assert pump.poll_once() == 1
    [insert] = handler.records
    assert insert["eventName"] == "INSERT"
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventSourceARN"] == stream_arn(MemberModel)
    assert insert["dynamodb"]["Keys"] == {"org_id": {"S": boot.org_id}, "account_id": {"S": boot.account_id}}
    assert insert["dynamodb"]["NewImage"]["role"] == {"S": "account_admin"}
    assert "OldImage" not in insert["dynamodb"]
    assert insert["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], int)
    # the app's handler decoded the event and processed it, with no record failed
    assert handler.results == [{"batchItemFailures": []}]

    verify_domain_of(boot.org_id, boot.account_id, "example.com")
    outcome = members.add_member(boot.org_id, admin_actor(boot.account_id), "pumped@example.com", Role.MEMBER)
    member = direct_member(outcome)
    members.change_role(boot.org_id, admin_actor(boot.account_id), member.account_id, Role.BILLING_MANAGER)
    assert pump.poll_once() == 2
    added, changed = handler.records[1:]
    assert (added["eventName"], changed["eventName"]) == ("INSERT", "MODIFY")
    assert changed["dynamodb"]["Keys"]["account_id"] == {"S": member.account_id}
    assert changed["dynamodb"]["OldImage"]["role"] == {"S": "member"}
    assert changed["dynamodb"]["NewImage"]["role"] == {"S": "billing_manager"}
    assert pump.poll_once() == 0


def test_pump_retries_a_failed_batch_whole_and_resumes_after_restart(
    local_tables: str, dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    state = tmp_path / "members.json"
    failing = Recorder(fail_times=1)
    pump = members_pump(dynamodb_local.endpoint, failing, state, max_backoff=0)
    boot = bootstrap.bootstrap("Retried", "retry-admin@example.com", seat_capacity=5)

    assert pump.poll_once() == 0  # the handler raised: nothing counts as delivered
    assert pump.poll_once() == 1  # the same batch again
    first, second = failing.events
    assert [r["eventID"] for r in first["Records"]] == [r["eventID"] for r in second["Records"]]
    assert failing.results == [{"batchItemFailures": []}]

    # A new pump (a restarted stack) resumes after the delivered record instead of replaying it.
    later = Recorder()
    restarted = members_pump(dynamodb_local.endpoint, later, state)
    assert restarted.poll_once() == 0
    verify_domain_of(boot.org_id, boot.account_id, "example.com")
    members.add_member(boot.org_id, admin_actor(boot.account_id), "later@example.com", Role.MEMBER)
    assert restarted.poll_once() == 1
    [record] = later.records
    assert record["dynamodb"]["NewImage"]["email"] == {"S": "later@example.com"}


class SplitStream:
    """A stream whose first shard was split: the parent is closed, two children are open.

    DynamoDB Local does not split shards on demand, so this plays the Streams API
    for the split case; the records are real-shaped GetRecords records.
    """

    def __init__(self) -> None:
        def rec(seq: int, key: str) -> dict[str, Any]:
            keys = {"org_id": {"S": "org_1"}, "account_id": {"S": key}}
            data = {
                "Keys": keys,
                "NewImage": keys,
                "SequenceNumber": f"{seq:021d}",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
            return {"eventID": f"e{seq}", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": data}

        # Children are listed before their parent: the pump must still read the parent first.
        self.shards = [
            {"ShardId": "child-a", "ParentShardId": "parent"},
            {"ShardId": "child-b", "ParentShardId": "parent"},
            {"ShardId": "parent"},
        ]
        self.records = {"parent": [rec(1, "a"), rec(2, "b")], "child-a": [rec(3, "a")], "child-b": [rec(4, "b")]}
        self.closed = {"parent"}
        self.reads: list[str] = []

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        start = (
            0 if ExclusiveStartShardId is None else [s["ShardId"] for s in self.shards].index(ExclusiveStartShardId) + 1
        )
        page = self.shards[start : start + 2]
        desc: dict[str, Any] = {"Shards": page}
        if start + 2 < len(self.shards):
            desc["LastEvaluatedShardId"] = page[-1]["ShardId"]
        return {"StreamDescription": desc}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **kw: Any) -> dict[str, Any]:
        return {"ShardIterator": f"{ShardId}:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, offset = ShardIterator.split(":")
        self.reads.append(shard)
        batch = self.records[shard][int(offset) : int(offset) + Limit]
        position = int(offset) + len(batch)
        done = shard in self.closed and position >= len(self.records[shard])
        return {"Records": batch, "NextShardIterator": None if done else f"{shard}:{position}"}


def test_pump_reads_a_split_shard_parent_first(tmp_path: Path) -> None:
    stream = SplitStream()
    seen: list[str] = []
    pump = StreamPump(
        "members",
        lambda: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/1",
        lambda event, ctx: seen.extend(r["eventID"] for r in event["Records"]),
        stream,
        state_path=tmp_path / "members.json",
    )
    assert pump.poll_once() == 2  # parent only: its children wait until it is read to the end
    assert seen == ["e1", "e2"]
    assert pump.poll_once() == 2  # now both children
    assert sorted(seen[2:]) == ["e3", "e4"]
    assert pump.poll_once() == 0
    saved = json.loads((tmp_path / "members.json").read_text())
    assert saved["shards"]["parent"] == {"sequence": f"{2:021d}", "done": True}
    assert stream.reads.count("parent") == 1  # a finished shard is not read again


def test_pump_retries_from_the_first_record_a_partial_batch_response_reports(tmp_path: Path) -> None:
    """As Lambda with ReportBatchItemFailures: checkpoint before the failed record, deliver again from it."""
    stream = SplitStream()
    stream.shards, stream.closed = [{"ShardId": "parent"}], {"parent"}
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], ctx: Any) -> dict[str, Any]:
        ids = [r["eventID"] for r in event["Records"]]
        seen.append(ids)
        failed = [r for r in event["Records"] if r["eventID"] == "e2" and len(seen) == 1]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}

    state = tmp_path / "members.json"
    pump = StreamPump("members", lambda: "arn:t", handler, stream, state_path=state, max_backoff=0)
    assert pump.poll_once() == 1  # e1 done; e2 reported failed
    assert json.loads(state.read_text())["shards"]["parent"]["sequence"] == f"{1:021d}"
    assert pump.poll_once() == 1  # e2 alone, again
    assert seen == [["e1", "e2"], ["e2"]]
    assert json.loads(state.read_text())["shards"]["parent"] == {"sequence": f"{2:021d}", "done": True}


# -- the bootstrap command --------------------------------------------------------------------------


def run_bootstrap(
    env: dict[str, str], org: str = "Ops", email: str = "ops@example.com"
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "local", "bootstrap", "--org", org, "--admin-email", email]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_bootstrap_writes_to_the_endpoint_and_prefix_from_the_environment(
    local_tables: str, dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    env = child_env(
        DYNAMODB_ENDPOINT=dynamodb_local.endpoint, TABLE_PREFIX=os.environ["TABLE_PREFIX"], LOCAL_DIR=str(tmp_path)
    )
    done = run_bootstrap(env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"org_id", "account_id", "api_key"}
    assert done.stdout.count("\n") == 1
    principal = keys.authenticate(result["api_key"])  # in this test's tables: the same database
    assert principal.account_id == result["account_id"]
    assert principal.email == "ops@example.com"

    bad = run_bootstrap(env, email="not an email")
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert "admin-email" in bad.stderr


def test_bootstrap_without_a_running_stack_says_so(tmp_path: Path) -> None:
    done = run_bootstrap(child_env(LOCAL_DIR=str(tmp_path)))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "make run" in done.stderr


def test_run_without_java_offers_the_moto_backend(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = child_env(PATH=str(empty), LOCAL_DIR=str(tmp_path / "stack"), PORT=str(free_port()))
    done = subprocess.run([sys.executable, "-m", "local", "run"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "Java" in done.stderr
    assert "BACKEND=moto make run" in done.stderr
    assert not (tmp_path / "stack" / "stack.json").exists()


# -- the whole stack, as a user runs it --------------------------------------------------------------


class Output:
    """Collects a process's output lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    @property
    def text(self) -> str:
        with self.changed:
            return "\n".join(self.lines)

    def wait_for(self, done: Callable[[str], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done("\n".join(self.lines)):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.thread.is_alive():
                    raise AssertionError(f"no {what} in the stack's output:\n" + "\n".join(self.lines))
                self.changed.wait(min(remaining, 0.5))


def http(method: str, url: str, key: str | None = None, body: Any = None, csv: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "text/csv" if csv is not None else "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = csv.encode() if csv is not None else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def mail_text(outbox: Path, to: str, subject: str, timeout: float = 30) -> str:
    """The text part of the .eml to ``to`` whose subject contains ``subject``, once it is there."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(outbox.glob(f"*-{to}.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if subject in str(message["Subject"]):
                part = message.get_body(("plain",))
                assert part is not None
                return str(part.get_content())
        if time.monotonic() > deadline:
            found = sorted(p.name for p in outbox.glob("*.eml")) if outbox.exists() else []
            raise AssertionError(f"no mail to {to} about {subject!r} in {outbox}: {found}")
        time.sleep(0.2)


def delivered(table: str, text: str) -> int:
    """Records the pump reports delivered to a table's handler."""
    return sum(int(n) for n in re.findall(rf"pump  \| {table}: delivered batch of (\d+) record", text))


@pytest.mark.parametrize("backend", ["dynamodb-local", "moto"])
def test_the_local_stack_end_to_end(backend: str, tmp_path: Path) -> None:
    local_dir = tmp_path / "stack"
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = child_env(PORT=str(port), LOCAL_DIR=str(local_dir), BACKEND=backend)
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process)
    pids: dict[str, int] = {}
    try:
        output.wait_for(lambda text: "Ctrl-C stops everything." in text, 90, "ready banner")
        pids = json.loads((local_dir / "stack.json").read_text())["pids"]
        assert set(pids) == {"stack", "database", "api"}
        if backend == "moto":
            assert "data lives in moto's memory" in output.text

        assert http("GET", f"{api}/v1/health")[0] == 200

        demo = json.loads((local_dir / "demo.json").read_text())
        assert stat.S_IMODE((local_dir / "demo.json").stat().st_mode) == 0o600
        assert f"API key    {demo['api_key']}" in output.text
        assert demo["org_id"] in output.text
        status, me = http("GET", f"{api}/v1/me", demo["api_key"])
        assert status == 200
        assert [(m["org_id"], m["role"]) for m in me["memberships"]] == [(demo["org_id"], "account_admin")]

        # The demo admin's own Members record, then the one written through the API.
        body = {"email": "stream@example.com", "role": "member"}
        status, added = http("POST", f"{api}/v1/orgs/{demo['org_id']}/members", demo["api_key"], body)
        assert status == 201, added
        output.wait_for(lambda text: delivered("members", text) >= 2, 30, "delivery of the new Members record")
        # Logged by the app's handler itself, its fields after the message.
        assert re.search(r"app   \| stream batch handled stream=members request_id=\S+ counts=\{", output.text)
        output.wait_for(lambda text: "sched | expire_invitations ->" in text, 10, "scheduled run at start")

        # Invite by CSV: the pump runs the Invitations handler, which writes the email to the outbox.
        org_id, outbox, invitee = demo["org_id"], local_dir / "outbox", "new.person@example.com"
        csv = f"email,role\r\n{invitee},member\r\n"
        status, invited = http("POST", f"{api}/v1/orgs/{org_id}/invitations", demo["api_key"], csv=csv)
        assert status == 200 and invited["summary"]["invited"] == 1, invited
        [page] = re.findall(r"\S+/invitations/\S+", mail_text(outbox, invitee, "You are invited to join Demo Org"))
        assert page.startswith(f"{api}/invitations/")  # the links point at this stack's invitation page
        assert any(page.encode() in p.read_bytes() for p in outbox.glob("*.eml"))  # greppable as it is
        output.wait_for(lambda text: f"[mail] to {invitee}: You are invited" in text, 10, "the invitation's mail line")
        status, accepted = http("POST", page.replace("/invitations/", "/v1/invitations/") + "/accept")
        assert status == 200, accepted
        assert accepted["account_created"] is True and accepted["api_key"]["secret"].startswith("oak_")
        status, listed = http("GET", f"{api}/v1/orgs/{org_id}/members", demo["api_key"])
        assert status == 200 and invitee in [m["email"] for m in listed["items"]]

        # The seat email (Members stream, in the pump) and a sign-in link (Sessions stream, in the pump).
        status, seated = http("POST", f"{api}/v1/orgs/{org_id}/members/{accepted['account_id']}/seat", demo["api_key"])
        assert status == 200 and seated["seat"] is True, seated
        assert f"{api}/orgs/{org_id}/tokens" in mail_text(outbox, invitee, "You have a seat in Demo Org")
        assert http("POST", f"{api}/v1/auth/login-link", body={"email": invitee})[0] == 202
        signin = mail_text(outbox, invitee, "Your sign-in link")
        assert f"{api}/sign-in/olc_" in signin and f"{api}/v1/auth/login-link/redeem" in signin
        # The API server's access log names the routes but never the invitation link or the sign-in code.
        token = page.rsplit("/invitations/", 1)[1]
        code = re.findall(r"/sign-in/(olc_[A-Za-z0-9_-]+)", signin)[0]
        with urllib.request.urlopen(f"{api}/sign-in/{code}", timeout=10) as opened:
            assert opened.status == 200
        output.wait_for(lambda text: "/sign-in/[redacted]" in text, 10, "the sign-in page's access-log line")
        api_lines = "\n".join(line for line in output.text.splitlines() if line.startswith("api "))
        assert "/v1/invitations/[redacted]/accept" in api_lines
        # Nor does any other line of the stack: a mail's line names its file, not its links.
        assert re.search(rf"\[mail\] to {re.escape(invitee)}: Your sign-in link -> \S+\.eml$", output.text, re.M)
        assert token not in output.text and code not in output.text
        # The links are one command away, on request.
        shown = subprocess.run(
            [sys.executable, "-m", "local", "mail", "--to", invitee],
            cwd=ROOT,
            env=child_env(LOCAL_DIR=str(local_dir)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert "Subject: Your sign-in link" in shown.stdout and f"Link: {api}/sign-in/{code}" in shown.stdout
        # A path no route declares: the gateway's 404, as JSON for clients and as a page for browsers.
        assert http("GET", f"{api}/no/such/page")[0] == 404

        done = run_bootstrap(child_env(LOCAL_DIR=str(local_dir)))
        assert done.returncode == 0, done.stderr
        created = json.loads(done.stdout)
        assert set(created) == {"org_id", "account_id", "api_key"}
        status, org = http("GET", f"{api}/v1/orgs/{created['org_id']}", created["api_key"])
        assert status == 200, org
        assert org["name"] == "Ops"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # its children die with it (they are started with a parent-death signal)
            raise
        output.thread.join(timeout=5)
    assert code == 0, output.text
    assert "stopped; no process of this stack is left" in output.text
    assert pids and not [name for name, pid in pids.items() if pid_alive(pid)]
    assert not (local_dir / "stack.json").exists()
