"""moto's standalone server as the database when Java (and so DynamoDB Local) is not there.

moto keeps everything in memory: the data is gone when the stack stops.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .dynamodb_local import DynamoDBLocalError, client, die_with_parent, free_port


class MotoServer:
    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> MotoServer:
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
        )
        deadline = time.monotonic() + timeout
        ddb = client(self.endpoint)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DynamoDBLocalError(f"moto_server exited with code {self.process.returncode}")
            try:
                ddb.list_tables(Limit=1)
                return self
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalError(f"moto_server did not answer on port {self.port} within {timeout}s")

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
