"""``python -m local run``: the whole service on one machine, stopped as one by Ctrl-C.

Processes: DynamoDB Local (Java; or moto's server with BACKEND=moto) and
``chalice local`` serving the API. In this process: table creation, the
demo org, one stream pump thread per streamed table, and the scheduler
thread. All share one environment (endpoint, table prefix, outbox), so the
API process and the handlers run here see the same tables.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from .dns_cmd import verify_local_domain
from .dns_server import DnsResponder, RecordStore
from .dynamodb_local import DynamoDBLocal, DynamoDBLocalError, die_with_parent, java_available
from .files import (
    REGION,
    ROOT,
    STAGE,
    StackFiles,
    apply_environment,
    local_aws_environment,
    pid_alive,
    read_json,
    stage_environment,
    write_json,
)
from .moto_backend import MotoServer

log = logging.getLogger("local.stack")
api_log = logging.getLogger("local.api")

DEMO_ORG = "Demo Org"
DEMO_ADMIN = "demo-admin@example.com"
DEMO_DOMAIN = "example.com"
DEMO_SEATS = 10
BACKENDS = ("dynamodb-local", "moto")

NO_JAVA = """\
Java was not found, and DynamoDB Local (the default database of the local stack) needs Java 17.
Either install Java 17 (for example `apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`),
or run the stack on moto's server instead, which keeps no data between runs:

    BACKEND=moto make run
"""

# Start-up chatter of chalice local's root logger that says nothing about the service.
API_NOISE = (
    "Override settings for pynamo not available",
    "Using Default settings value",
    "Found credentials in environment variables.",
)

MAIL_LINE = "[mail] "

PREFIXES = {"local.stack": "stack", "local.api": "api", "local.pump": "pump", "local.sched": "sched"}


# What every LogRecord has; anything else on a record came as ``extra`` fields.
STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class PrefixFormatter(logging.Formatter):
    """One short prefix per source, on every line (handlers' own logs appear as ``app``).

    The app logs ids and counts as ``extra`` fields (Lambda's JSON log format
    writes them as keys); here they follow the message as ``key=value``.
    """

    def format(self, record: logging.LogRecord) -> str:
        prefix = PREFIXES.get(record.name) or ("app" if record.name.startswith("chalicelib") else record.name)
        text = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in STANDARD_FIELDS}
        if fields:
            from chalicelib.redact import redact

            text += " " + redact(" ".join(f"{k}={v}" for k, v in fields.items()))
        return "\n".join(f"{prefix:<5} | {line}" for line in text.splitlines())


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(PrefixFormatter("%(message)s"))
    from chalicelib.redact import RedactingFilter

    # The app's own lines and the API server's; the stack's banner shows the demo key on purpose.
    handler.addFilter(RedactingFilter(("chalicelib", "app", "local.api", "local.pump", "local.sched")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("botocore", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the API server does: a closed connection's TIME_WAIT does not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class StackError(Exception):
    """The stack cannot start; the message says why and what to do."""


class Stack:
    def __init__(self, files: StackFiles, port: int, backend: str) -> None:
        self.files = files
        self.port = port
        self.backend = backend
        self.api_url = f"http://127.0.0.1:{port}"
        self.db: DynamoDBLocal | MotoServer | None = None
        self.api: subprocess.Popen[str] | None = None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.table_prefix = ""
        self.dns: DnsResponder | None = None

    # -- start --------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        self.files.root.mkdir(parents=True, exist_ok=True)
        # The database port is chosen up front, so the API process (a few seconds of imports)
        # starts while the database starts and the tables are made; it is ready once /v1/health is.
        self.db = (
            MotoServer(log_path=self.files.root / "moto.log")
            if self.backend == "moto"
            else (DynamoDBLocal(db_path=self.files.dynamodb_dir, log_path=self.files.dynamodb_log))
        )
        self._start_dns()
        self._configure_environment()
        self._start_api()
        self._start_database()
        self._create_tables()
        demo, created = self._ensure_demo()
        self._wait_for_api()
        self._start_handlers()
        self._record()
        self._banner(demo, created, time.monotonic() - started)

    def _start_database(self) -> None:
        assert self.db is not None
        if self.backend == "moto":
            log.warning("BACKEND=moto: the data lives in moto's memory and is gone when the stack stops")
            log.info("starting moto_server ...")
        else:
            log.info("starting DynamoDB Local (data in %s) ...", self.files.dynamodb_dir)
        self.db.start()
        self._record()
        log.info("database on %s (port chosen freely, recorded in %s)", self.db.endpoint, self.files.stack_json)

    def _start_dns(self) -> None:
        """The embedded DNS responder (TXT records from dns.json) that domain verification asks."""
        port = int(os.environ.get("DNS_PORT") or 0)
        try:
            self.dns = DnsResponder(RecordStore(self.files.dns_json), port=port).start()
        except OSError as exc:
            raise StackError(f"DNS_PORT={port} cannot be bound ({exc}); choose another one or leave it unset") from exc
        log.info("DNS responder on %s (TXT records from %s)", self.dns.address, self.files.dns_json)

    def _configure_environment(self) -> None:
        assert self.db is not None
        env = stage_environment()
        self.table_prefix = env.get("TABLE_PREFIX", f"orgmembers-{STAGE}-")
        env.update(local_aws_environment(self.db.endpoint, self.table_prefix))
        env.update(
            MAIL_BACKEND="outbox",
            OUTBOX_DIR=str(self.files.outbox_dir),
            PUBLIC_BASE_URL=self.api_url,
            PYTHONUNBUFFERED="1",
        )
        if self.dns is not None:
            env["DNS_RESOLVER"] = self.dns.address
        apply_environment(env)
        from chalicelib.config import reset_settings

        reset_settings()

    def _create_tables(self) -> None:
        from chalicelib.config import reset_settings
        from chalicelib.storage import schema
        from chalicelib.storage.invitations import InvitationModel
        from chalicelib.storage.members import MemberModel

        outcome = schema.ensure_tables()
        changed = {name: state for name, state in outcome.items() if state != "unchanged"}
        log.info("tables (prefix %s): %s", self.table_prefix, changed or "all present and up to date")
        # The handlers run here declare the stream they serve: give them the real local ARNs
        # (the API process, started earlier, runs no stream handler and keeps the placeholder).
        apply_environment(
            {
                "MEMBERS_STREAM_ARN": schema.stream_arn(MemberModel) or "",
                "INVITATIONS_STREAM_ARN": schema.stream_arn(InvitationModel) or "",
            }
        )
        reset_settings()

    def _ensure_demo(self) -> tuple[dict[str, Any], bool]:
        """The demo org of the first start; later starts reuse it while it still exists."""
        from chalicelib.domain.errors import DomainError
        from chalicelib.services import bootstrap, keys, orgs

        saved = read_json(self.files.demo_json)
        if saved:
            try:
                orgs.load(str(saved["org_id"]))
                keys.authenticate(str(saved["api_key"]))
                verify_local_domain(self.files, str(saved["org_id"]), str(saved["account_id"]), DEMO_DOMAIN)
                return saved, False
            except (DomainError, KeyError):
                log.info("the demo org of %s is not in this database; creating it again", self.files.demo_json)
        boot = bootstrap.bootstrap(DEMO_ORG, DEMO_ADMIN, seat_capacity=DEMO_SEATS, key_name="demo")
        verify_local_domain(self.files, boot.org_id, boot.account_id, DEMO_DOMAIN)
        demo = {
            "org_name": DEMO_ORG,
            "org_id": boot.org_id,
            "admin_email": DEMO_ADMIN,
            "account_id": boot.account_id,
            "api_key": boot.api_key,
        }
        write_json(self.files.demo_json, demo, private=True)
        return demo, True

    def _start_api(self) -> None:
        command = [
            sys.executable,
            "-m",
            "local.api_server",
            "--project-dir",
            str(ROOT),
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--stage",
            STAGE,
            # The reloader polls every file under the project, .local/ included: each write would restart it.
            "--no-autoreload",
        ]
        log.info("starting chalice local on %s ...", self.api_url)
        self.api = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self._thread("api-output", self._relay_api_output, self.api)
        self._record()

    def _wait_for_api(self) -> None:
        assert self.api is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise StackError(f"chalice local exited with code {self.api.returncode} (its output is above)")
            try:
                with urllib.request.urlopen(f"{self.api_url}/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise StackError(f"the API did not answer on {self.api_url}/v1/health within 60s")

    @staticmethod
    def _relay_api_output(process: subprocess.Popen[str]) -> None:
        from chalicelib.redact import redact

        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(MAIL_LINE):
                api_log.info(line.rstrip())  # the mailbox's mirror: its link is the point (README)
            elif not line.startswith(API_NOISE):
                api_log.info(redact(line.rstrip()))

    def _start_handlers(self) -> None:
        import boto3

        from app import app
        from chalicelib.events import schedules, streams
        from chalicelib.storage import schema
        from chalicelib.storage.base import registered_models

        from .pump import StreamPump
        from .scheduler import Scheduler

        assert self.db is not None
        models = {str(getattr(m.Meta, "base_name", "")): m for m in registered_models()}
        client = boto3.client("dynamodbstreams", endpoint_url=self.db.endpoint, region_name=REGION)
        function_prefix = f"{app.app_name}-{STAGE}-"
        for table, handler in streams.HANDLERS_BY_TABLE.items():
            model = models[table]
            pump = StreamPump(
                table,
                functools.partial(schema.stream_arn, model),
                handler,
                client,
                state_path=self.files.pump_dir / f"{table}.json",
                function_name=function_prefix + handler.func.__name__,
            )
            self._thread(f"pump-{table}", pump.run, self.stop_event)
        scheduler = Scheduler({name: job for name, job in schedules.SCHEDULED.items()}, function_prefix)
        self._thread("scheduler", scheduler.run, self.stop_event)
        rates = ", ".join(f"{name} every {period}s" for name, (_, period) in schedules.SCHEDULED.items())
        log.info("stream pumps on %s; schedules: %s (and once now)", ", ".join(streams.HANDLERS_BY_TABLE), rates)

    def _thread(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _record(self) -> None:
        """stack.json: how other commands find this stack (and which processes are its own)."""
        pids = {"stack": os.getpid()}
        if self.db is not None and self.db.process is not None:
            pids["database"] = self.db.process.pid
        if self.api is not None:
            pids["api"] = self.api.pid
        write_json(
            self.files.stack_json,
            {
                "backend": self.backend,
                "dynamodb_endpoint": self.db.endpoint if self.db else None,
                "dynamodb_port": self.db.port if self.db else None,
                "table_prefix": self.table_prefix,
                "region": REGION,
                "api_url": self.api_url,
                "api_port": self.port,
                "dns_resolver": self.dns.address if self.dns else None,
                "pids": pids,
            },
        )

    def _banner(self, demo: dict[str, Any], created: bool, seconds: float) -> None:
        lines = [
            f"ready in {seconds:.1f}s",
            f"console    {self.api_url}/      (sign in as {demo['admin_email']}: the link lands in the outbox)",
            f"API        {self.api_url}/v1    (try: curl {self.api_url}/v1/health)",
            f"demo org   {demo['org_name']}  {demo['org_id']}" + ("  (created now)" if created else ""),
            f"admin      {demo['admin_email']}  (domain {DEMO_DOMAIN} verified for the demo org)",
            f"DNS        {self.dns.address if self.dns else '-'}"
            "  (TXT records: .venv/bin/python -m local dns set NAME VALUE)",
            f"API key    {demo['api_key']}",
            f"           (kept in {self.files.demo_json}; send it as 'Authorization: Bearer <key>')",
            f"mail       {self.files.outbox_dir}/*.eml",
            "Ctrl-C stops everything.",
        ]
        for line in lines:
            log.info(line)

    # -- run and stop -------------------------------------------------------

    def wait(self) -> int:
        """Block until a signal or until one of the processes dies (then stop all)."""
        while not self.stop_event.wait(0.5):
            for label, process in (("database", self.db.process if self.db else None), ("chalice local", self.api)):
                if process is not None and process.poll() is not None:
                    log.error("%s exited unexpectedly (code %s); stopping the stack", label, process.returncode)
                    return 1
        return 0

    def shutdown(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            if thread.name != "api-output":
                thread.join(timeout=5)
        if self.api is not None:
            _stop_group(self.api)
            log.info("chalice local stopped")
        if self.db is not None:
            self.db.stop()
            log.info("database stopped")
        if self.dns is not None:
            self.dns.stop()
        saved = read_json(self.files.stack_json)
        if saved and saved.get("pids", {}).get("stack") == os.getpid():
            self.files.stack_json.unlink(missing_ok=True)


def _stop_group(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run() -> int:
    configure_logging()
    files = StackFiles.from_env()
    port = int(os.environ.get("PORT") or 8000)
    backend = (os.environ.get("BACKEND") or "dynamodb-local").strip().lower()
    if backend not in BACKENDS:
        print(f"BACKEND must be one of {', '.join(BACKENDS)} (got {backend!r})", file=sys.stderr)
        return 2
    running = read_json(files.stack_json)
    if running and pid_alive(running.get("pids", {}).get("stack")):
        print(
            f"A stack is already running from {files.root} "
            f"(pid {running['pids']['stack']}, {running.get('api_url')}).\n"
            "Stop it first, or start another one with a different LOCAL_DIR and PORT.",
            file=sys.stderr,
        )
        return 1
    if running:
        leftover = {name: pid for name, pid in running.get("pids", {}).items() if name != "stack" and pid_alive(pid)}
        if leftover:
            log.warning("processes of an earlier stack that was killed may still run: %s", leftover)
    if not port_free(port):
        print(f"Port {port} is in use; choose another one, e.g. PORT=8001 make run", file=sys.stderr)
        return 1
    if backend == "dynamodb-local" and not java_available():
        print(NO_JAVA, file=sys.stderr)
        return 1
    stack = Stack(files, port, backend)
    # Also when started in the background by a shell, which leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    code = 0
    try:
        stack.start()
        code = stack.wait()
    except KeyboardInterrupt:
        log.info("stopping ...")
    except (StackError, DynamoDBLocalError) as exc:
        log.error("%s", exc)
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.shutdown()
        log.info("stopped; no process of this stack is left")
    return code
