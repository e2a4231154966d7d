"""Invitations stream: email each (invitation, issue) once (lands with invitations)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def handle_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    log.info("invitations stream: %d record(s)", len(records))
    return {"records": len(records)}
