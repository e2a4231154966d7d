"""Sign-in requests: the same work and the same time whether or not an account has the email.

POST /sign-in (the console's form) for an address with an account and for
one without, interleaved, through chalice.test.Client on a private DynamoDB
Local. Counts DynamoDB requests per call and compares latencies as a ratio
known / unknown in the same run; the mail itself is sent later by the
Sessions stream, outside the request. Usage: python -m bench.signin [--runs 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from urllib.parse import urlencode

from .common import RequestCounter, local_backend

HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Sec-Fetch-Site": "same-origin",
    "Origin": "http://127.0.0.1:8000",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    # Every ask comes from one address for two emails: lift the per-email and per-address limits.
    os.environ["SIGNIN_REQUESTS_PER_EMAIL"] = os.environ["SIGNIN_REQUESTS_PER_ADDRESS"] = str(10 * args.runs)
    with local_backend("signin"):
        from chalice.test import Client

        from app import app
        from chalicelib.services import bootstrap

        bootstrap.bootstrap("Timing", "known@bench.test")
        client = Client(app)
        counter = RequestCounter().install()
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        requests: dict[str, Counter[str]] = {"known": Counter(), "unknown": Counter()}
        emails = {"known": "known@bench.test", "unknown": "nobody@bench.test"}
        for n in range(args.runs + 20):
            order = ("known", "unknown") if n % 2 else ("unknown", "known")
            for kind in order:
                before = Counter(counter.calls)
                start = time.perf_counter()
                response = client.http.post("/sign-in", headers=HEADERS, body=urlencode({"email": emails[kind]}))
                elapsed = time.perf_counter() - start
                assert response.status_code == 200 and b"Check your email" in response.body
                if n >= 20:  # warm-up rounds are not counted
                    times[kind].append(elapsed * 1000)
                    requests[kind] += Counter(counter.calls) - before
        for kind in ("known", "unknown"):
            per_call = {op: c / args.runs for op, c in sorted(requests[kind].items())}
            samples = sorted(times[kind])
            print(
                f"{kind:8} requests per call {per_call}  p50 {statistics.median(samples):.2f} ms  "
                f"p90 {samples[int(len(samples) * 0.9)]:.2f} ms"
            )
        ratio = statistics.median(times["known"]) / statistics.median(times["unknown"])
        print(f"p50 ratio known / unknown: {ratio:.2f} ({args.runs} calls each, interleaved)")


if __name__ == "__main__":
    main()
