"""Failed client authentications at the token endpoint, counted per client id and 15-minute window.

Sign-in is limited in the app by counting requests in a window; the token
endpoint is limited the same way, by an atomic counter in the Quotas table
(``storage.quotas``) per client id and window. Once a client id has
``CLIENT_AUTH_FAILURES`` failures in a window, every grant for it is refused
with 429 and ``Retry-After`` until the window ends, even one with the right
secret, so a guesser learns nothing more. The counter's key holds the client
id only, never anything of the secret offered; TTL deletes it a day after
its window.
"""

from __future__ import annotations

import math
from datetime import datetime

from ..clock import now
from ..domain.windows import window_of
from ..storage import quotas
from ..storage.quotas import quota_id

CLIENT_AUTH_FAILURES = 10
WINDOW_SECONDS = 15 * 60
KIND = "client-auth-failures"


def _window(client_id: str, stamp: datetime) -> tuple[str, int]:
    """The counter of ``client_id``'s window at ``stamp`` and the seconds until that window ends."""
    window, wait = window_of(stamp, WINDOW_SECONDS)
    return quota_id("client", client_id, KIND, window), wait


def wait_for(client_id: str, stamp: datetime | None = None) -> int | None:
    """Seconds the client must wait when its failures of this window reached the limit, else None."""
    counter, wait = _window(client_id, stamp or now())
    return wait if quotas.used(counter) >= CLIENT_AUTH_FAILURES else None


def count_failure(client_id: str, stamp: datetime | None = None) -> None:
    """One failed authentication of ``client_id`` (an atomic ADD, so concurrent failures all count)."""
    stamp = stamp or now()
    counter, wait = _window(client_id, stamp)
    expires = int(stamp.timestamp()) + wait + 86_400
    quotas.count(counter, 1, expires)


def in_words(seconds: int) -> str:
    """ "in 12 minutes", "in 30 seconds" (rounded up; a window is at most 15 minutes)."""
    if seconds >= 60:
        n, unit = math.ceil(seconds / 60), "minute"
    else:
        n, unit = seconds, "second"
    return f"in {n} {unit}{'s' if n != 1 else ''}"
