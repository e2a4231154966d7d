"""Sign-in asks on DynamoDB Local: the limit holds under concurrent asks, and an ask tells nothing.

Findings 1 and 2 of the security review (account existence by the answer
and by its timing): an ask for an email with an account makes the same
DynamoDB requests as one without, and their median times, measured
interleaved in one run, are the same within noise. The comparison is a
ratio inside one run, never an absolute time, so a slow machine does not
fail it; the finding it guards against was a 5x gap (a write and a mail
send inside the request for a known email only).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import TooManySignInRequests
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import bootstrap, login_links
from chalicelib.storage.sessions import SessionModel
from tests.support.helpers import Api, set_limits

ROUNDS = 25


def test_concurrent_asks_never_pass_the_per_email_limit(local_tables: str, monkeypatch: pytest.MonkeyPatch) -> None:
    set_limits(monkeypatch, SIGNIN_REQUESTS_PER_EMAIL=3)
    barrier = threading.Barrier(12)

    def go(n: int) -> str:
        barrier.wait()
        try:
            login_links.request_link("rush@x.test", f"10.0.0.{n}")
        except TooManySignInRequests:
            return "refused"
        return "accepted"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(go, range(12)))
    assert outcomes == Counter({"accepted": 3, "refused": 9})
    assert sum(1 for i in SessionModel.scan(SessionModel.kind == "signin") if i.email == "rush@x.test") == 3


def test_an_ask_for_a_known_email_looks_like_one_for_an_unknown_email(
    local_tables: str, monkeypatch: pytest.MonkeyPatch, dynamodb_calls: Counter[str]
) -> None:
    set_limits(monkeypatch, SIGNIN_REQUESTS_PER_EMAIL=1000, SIGNIN_REQUESTS_PER_ADDRESS=1000)
    reset_mailer(MemoryMailer())
    try:
        bootstrap.bootstrap("Timing", "known@timing.test")
        api = Api()
        emails = {"known": "known@timing.test", "unknown": "nobody@timing.test"}
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        calls: dict[str, list[Counter[str]]] = {"known": [], "unknown": []}
        bodies: dict[str, set[str]] = {"known": set(), "unknown": set()}
        for n in range(ROUNDS + 5):
            for kind in ("known", "unknown") if n % 2 else ("unknown", "known"):
                dynamodb_calls.clear()
                start = time.perf_counter()
                r = api.post("/v1/auth/login-link", None, {"email": emails[kind]})
                elapsed = time.perf_counter() - start
                assert r.status == 202, r.body
                if n >= 5:  # warm-up rounds are not compared
                    times[kind].append(elapsed)
                    calls[kind].append(Counter(dynamodb_calls))
                    bodies[kind].add(str(r.body))
    finally:
        reset_mailer(None)
    assert bodies["known"] == bodies["unknown"] and len(bodies["known"]) == 1
    # The same DynamoDB requests, every time: one transaction (counters and the request item).
    assert all(c == Counter({"TransactWriteItems": 1}) for c in calls["known"] + calls["unknown"]), calls
    ratio = statistics.median(times["known"]) / statistics.median(times["unknown"])
    assert 0.5 < ratio < 2.0, f"known/unknown median ratio {ratio:.2f}"
