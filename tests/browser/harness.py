"""The running local stack and Chromium, as the browser tests use them (the fixtures are in conftest.py).

The stack is started the way a person starts it (``python -m local run``), in its own process group,
with its own port and LOCAL_DIR, so the pages under test are served by the real API process and mail
goes through the real stream pump into the outbox.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Playwright

from local.dynamodb_local import die_with_parent, free_port
from tests.browser.mailbox import Outbox

ROOT = Path(__file__).resolve().parents[2]

# The Debian package, not a Playwright download: the machines reach package registries only.
CHROMIUM = "/usr/bin/chromium"
# --no-sandbox: the tests run as root. The rest keep Chromium from reaching out to the network on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# The same list as in tests/test_local_stack.py: what the tests' own backends set, which a stack must not inherit.
TEST_ONLY = ("DYNAMODB_ENDPOINT", "TABLE_PREFIX", "MAIL_BACKEND", "MEMBERS_STREAM_ARN", "INVITATIONS_STREAM_ARN")
READY_LINE = "Ctrl-C stops everything."  # the stack's banner ends with it once the pumps and scheduler run
START_TIMEOUT = 120.0  # a cold DynamoDB Local plus chalice's imports, on a loaded 2-core machine
STOP_TIMEOUT = 60.0


class StackStartError(RuntimeError):
    """The stack did not come up; the message carries the end of its output."""


@dataclass(frozen=True)
class Demo:
    """The demo org the stack creates on its first start (its ``demo.json``)."""

    org_name: str
    org_id: str
    admin_email: str
    account_id: str
    api_key: str


@dataclass(frozen=True)
class ApiReply:
    """One JSON API answer: ``body`` is the parsed JSON (or the text when the answer is not JSON)."""

    status: int
    body: Any
    headers: dict[str, str]


class RunningStack:
    """A ``python -m local run`` child process and what a test needs to talk to it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, local_dir: Path, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.local_dir = local_dir
        self.outbox = local_dir / "outbox"
        self.log_path = log_path
        self.mailbox = Outbox(self.outbox)
        self._demo: Demo | None = None

    @property
    def demo(self) -> Demo:
        if self._demo is None:
            data = jsonlib.loads((self.local_dir / "demo.json").read_text())
            self._demo = Demo(**{f.name: str(data[f.name]) for f in fields(Demo)})
        return self._demo

    def call(self, method: str, path: str, key: str | None = None, json: Any = None) -> ApiReply:
        """One request to the JSON API (``path`` like ``/v1/me``, or a full URL such as a link from a mail)."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        headers = {"Accept": "application/json"}
        data = None
        if json is not None:
            headers["Content-Type"] = "application/json"
            data = jsonlib.dumps(json).encode()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return _reply(exc.code, dict(exc.headers), exc.read())

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Health answers 200, demo.json is written and the banner is out (the stream pumps run from then on)."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise StackStartError(f"python -m local run exited with code {code}:\n{self.log_tail()}")
            if self._healthy() and (self.local_dir / "demo.json").exists() and READY_LINE in self._log():
                return
            if time.monotonic() > deadline:
                raise StackStartError(
                    f"the stack was not ready on {self.base_url} within {timeout:.0f}s:\n" + self.log_tail()
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Ctrl-C, as a person stops it (the stack stops its own children); then the whole group, to be sure."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/v1/health", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _reply(status: int, headers: dict[str, str], raw: bytes) -> ApiReply:
    text = raw.decode("utf-8", errors="replace")
    body: Any = text
    if not raw:
        body = None
    elif "json" in headers.get("Content-Type", "").lower():
        body = jsonlib.loads(text)
    return ApiReply(status, body, headers)


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment without the test-only settings (BACKEND, if set, is passed on)."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(extra)
    return env


def start_stack(workdir: Path) -> RunningStack:
    """Start a stack with its data under ``workdir``; its output goes to ``workdir/stack.log``."""
    port = free_port()
    local_dir = workdir / "stack"
    log_path = workdir / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "run"],
            cwd=ROOT,
            env=child_env(PORT=str(port), LOCAL_DIR=str(local_dir), PYTHONUNBUFFERED="1"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can end every process in it
            preexec_fn=die_with_parent,  # a killed test worker leaves no stack behind
        )
    stack = RunningStack(process, port, local_dir, log_path)
    try:
        stack.wait_until_ready()
    except BaseException:
        stack.stop()
        raise
    return stack


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium; fails with what to do when it is not installed."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs the Debian package chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
