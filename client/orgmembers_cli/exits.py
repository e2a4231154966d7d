"""Exit codes a script can rely on (also listed in ``orgmembers --help`` and the README)."""

from __future__ import annotations

OK = 0
ITEMS_REFUSED = 1  # the job ran; some rows were refused (the results say which and why)
USAGE = 2  # bad flags, a bad CSV, missing configuration: nothing was sent
UNAUTHENTICATED = 3  # no credential, or the API refused it (401)
FORBIDDEN = 4  # the credential may not do this (403)
REFUSED = 5  # the API refused the request (404, 409, 400 ...)
NO_SEATS = 6  # no free seat for some or all rows (402 seat_limit_reached)
UNAVAILABLE = 7  # the API could not be reached, or kept answering 429/5xx
INTERRUPTED = 130  # Ctrl-C: run the same command again to finish

HELP = (
    "Exit codes: 0 done; 1 some rows refused (see the results); 2 bad usage or input (nothing sent); "
    "3 not signed in or credential refused; 4 not allowed; 5 refused by the API; 6 no free seat; "
    "7 API unreachable or unavailable; 130 interrupted (run it again to finish)."
)
