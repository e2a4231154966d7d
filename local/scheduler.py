"""Runs the app's schedule handlers on their rate, as EventBridge would (``chalice local`` runs none)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .files import REGION
from .pump import LambdaContext

log = logging.getLogger("local.sched")

ACCOUNT = "000000000000"


def scheduled_event(rule: str, region: str = REGION) -> dict[str, Any]:
    """A CloudWatch/EventBridge "Scheduled Event" for ``rule``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


class Scheduler:
    """Runs each job once at start, then every ``period`` seconds."""

    def __init__(self, jobs: dict[str, tuple[Callable[[dict[str, Any], Any], Any], int]], prefix: str) -> None:
        self.jobs = jobs
        self.prefix = prefix

    def run_job(self, name: str) -> None:
        handler, _ = self.jobs[name]
        function_name = f"{self.prefix}{name}"
        try:
            result = handler(scheduled_event(function_name), LambdaContext(function_name))
        except Exception:
            log.exception("%s failed (next run on schedule)", name)
            return
        log.info("%s -> %s", name, result)

    def run(self, stop: threading.Event) -> None:
        due = dict.fromkeys(self.jobs, time.monotonic())
        while not stop.is_set():
            current = time.monotonic()
            for name, at in due.items():
                if at <= current and not stop.is_set():
                    self.run_job(name)
                    due[name] = current + self.jobs[name][1]
            stop.wait(max(0.0, min(due.values()) - time.monotonic()))
