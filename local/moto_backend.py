"""moto's standalone server as the database when Java (and so DynamoDB Local) is not there.

moto keeps everything in memory: the data is gone when the stack stops.
"""

from __future__ import annotations

import sys

from .dynamodb_local import DatabaseProcess


class MotoServer(DatabaseProcess):
    name = "moto_server"

    def start(self, timeout: float = 60.0) -> MotoServer:
        self._spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)])
        self._wait_ready(timeout)
        return self
