"""The CLI against the app served over real HTTP on DynamoDB Local: a server thread, the seeded org, a runner.

The server is ``local.api_server``'s (what ``make run`` serves) on a thread of
the test process, so tests read the same tables the API wrote; the CLI runs as
the installed ``orgmembers`` command in a child process, with its config and
state folders under the test's temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app import app
from local.api_server import serve_in_thread

from .helpers import Api, Seed, seed_org
from .test_local_stack import child_env

ORGMEMBERS = Path(sys.executable).with_name("orgmembers")


@dataclass
class Served:
    url: str
    seed: Seed
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, key: str | None = None, extra: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``orgmembers ARGS`` as the admin (or ``key``), with ORGMEMBERS_URL and ORGMEMBERS_ORG set."""
        env = {**self.env, "ORGMEMBERS_API_KEY": key or self.seed.admin.key, **(extra or {})}
        return subprocess.run([str(ORGMEMBERS), *args], env=env, capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str, key: str | None = None) -> subprocess.Popen[str]:
        env = {**self.env, "ORGMEMBERS_API_KEY": key or self.seed.admin.key}
        return subprocess.Popen(
            [str(ORGMEMBERS), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture
def served(local_tables: str, tmp_path: Path) -> Iterator[Served]:
    seed = seed_org(Api(), capacity=10)
    server, url = serve_in_thread(app)
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
    try:
        yield Served(url, seed, home, env)
    finally:
        server.shutdown()
        server.server_close()


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
