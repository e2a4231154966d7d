"""Fixed time windows for rate limits: which window a moment falls in, and when that window ends."""

from __future__ import annotations

import math
from datetime import datetime


def window_of(stamp: datetime, seconds: int) -> tuple[str, int]:
    """The label of the ``seconds``-long window holding ``stamp`` and the seconds (at least 1) until it ends.

    Windows start at multiples of ``seconds`` since the epoch, so every process
    agrees on them without sharing anything but the clock.
    """
    started = int(stamp.timestamp()) // seconds * seconds
    label = datetime.fromtimestamp(started, stamp.tzinfo).strftime("%Y-%m-%dT%H:%M")
    return label, max(1, math.ceil(started + seconds - stamp.timestamp()))
