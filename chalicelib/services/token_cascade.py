"""Members stream: revoke tokens when a seat is revoked or a member removed (lands with seats and tokens)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def handle_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    log.info("members stream: %d record(s)", len(records))
    return {"records": len(records)}
