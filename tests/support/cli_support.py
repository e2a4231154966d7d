"""The CLI against the app served over real HTTP on DynamoDB Local: a server thread, the seeded org, a runner.

The server is ``local.api_server``'s (what ``make run`` serves) on a thread of
the test process, so tests read the same tables the API wrote; the CLI runs as
the installed ``orgmembers`` command in a child process, with its config and
state folders under the test's temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chalice import local

from app import app
from local.api_server import serve_in_thread
from tests.local.test_local_stack import child_env
from tests.support.helpers import Api, Seed, seed_org

ORGMEMBERS = Path(sys.executable).with_name("orgmembers")


class Gate:
    """Holds the ``nth`` request to a path (1-based) until released; says when it arrived and when it finished."""

    def __init__(self, method: str, path_end: str, nth: int) -> None:
        self.method, self.path_end, self.nth = method, path_end, nth
        self.seen = 0
        self.arrived, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def matches(self, method: str, path: str) -> bool:
        if method != self.method or not path.split("?")[0].endswith(self.path_end):
            return False
        self.seen += 1
        return self.seen == self.nth


@dataclass
class Served:
    url: str
    seed: Seed
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status, as served
    gate: Gate | None = None
    active: int = 0  # requests the server is handling now

    def settle(self, timeout: float = 120) -> None:
        """Wait until the server has finished every request it took (a stopped client's too)."""
        deadline = time.monotonic() + timeout
        while self.active:
            assert time.monotonic() < deadline, "the server is still handling a request"
            time.sleep(0.05)

    def count(self, method: str, path_end: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.split("?")[0].endswith(path_end))

    @property
    def state_files(self) -> list[Path]:
        return sorted((self.home / ".local" / "state" / "orgmembers" / "jobs").glob("*.json"))

    def run(
        self, *args: str, key: str | None = None, extra: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``orgmembers ARGS`` as the admin (or ``key``), with ORGMEMBERS_URL and ORGMEMBERS_ORG set."""
        env = {**self.env, "ORGMEMBERS_API_KEY": self.seed.admin.key if key is None else key, **(extra or {})}
        return subprocess.run([str(ORGMEMBERS), *args], env=env, capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str, key: str | None = None) -> subprocess.Popen[str]:
        env = {**self.env, "ORGMEMBERS_API_KEY": self.seed.admin.key if key is None else key}
        return subprocess.Popen(
            [str(ORGMEMBERS), *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def served(local_tables: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    seed = seed_org(Api(), capacity=10)
    server, url = serve_in_thread(app)  # installs the stack's own request handling first
    handle = local.LocalGateway.handle_request
    box: list[Served] = []

    def observed(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        box[0].active += 1
        gate = box[0].gate
        held = gate is not None and gate.matches(method, path)
        if held and gate:
            gate.arrived.set()
            gate.release.wait(60)
        try:
            response = handle(self, method, path, headers, body)
            box[0].requests.append((method, path, int(response.get("statusCode", 0))))
            return response
        except local.LocalGatewayException as exc:
            box[0].requests.append((method, path, exc.CODE))
            raise
        finally:
            box[0].active -= 1
            if held and gate:
                gate.finished.set()

    monkeypatch.setattr(local.LocalGateway, "handle_request", observed)
    home = tmp_path / "home"
    env = child_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        ORGMEMBERS_URL=url,
        ORGMEMBERS_ORG=seed.org_id,
        COLUMNS="200",
    )
    for name in ("ORGMEMBERS_API_KEY", "ORGMEMBERS_CLIENT_ID", "ORGMEMBERS_CLIENT_SECRET"):
        env.pop(name, None)
    box.append(Served(url, seed, home, env))
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
