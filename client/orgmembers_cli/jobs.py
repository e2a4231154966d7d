"""Resumable bulk jobs: which chunks of a run are done, so a rerun after an interruption sends only the rest.

A job is named by a hash of what it does (command, API URL, org, options,
chunk size and rows: chunks are numbered, so another size is another job),
so running the same command on the same file again resumes it, and any
change starts a new job. The state holds per-row statuses only, never a
secret. It is removed when the job finishes; rerunning a finished job sends
everything again, which the API answers idempotently (``already_invited``,
``already_member``, ``already_assigned``), so nothing is done twice either way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import state_dir, write_private


class Job:
    def __init__(self, *identity: Any) -> None:
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]
        self.path: Path = state_dir() / "jobs" / f"{digest}.json"
        self.done: dict[str, list[dict[str, Any]]] = {}
        self.in_flight: int | None = None  # the chunk being sent when an earlier run stopped
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.resumed = False
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return
        self.resumed = True
        self.done = dict(loaded.get("done", {}))
        self.started_at = str(loaded.get("started_at") or self.started_at)
        in_flight = loaded.get("in_flight")
        self.in_flight = in_flight if isinstance(in_flight, int) and str(in_flight) not in self.done else None

    def start(self) -> None:
        """Mark the job underway (before its first request), so a rerun knows it resumes."""
        if not self.path.exists():
            self._save(None)

    def _save(self, in_flight: int | None) -> None:
        write_private(self.path, json.dumps({"started_at": self.started_at, "in_flight": in_flight, "done": self.done}))

    def sending(self, chunk: int) -> bool:
        """Note that ``chunk`` is being sent; True when an earlier run stopped while sending it."""
        was = self.in_flight == chunk
        self._save(chunk)
        return was

    def results(self, chunk: int) -> list[dict[str, Any]] | None:
        return self.done.get(str(chunk))

    def record(self, chunk: int, results: list[dict[str, Any]]) -> None:
        self.done[str(chunk)] = results
        self._save(None)

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)
