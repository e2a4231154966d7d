"""Console pages vs the JSON API's call for the same data, on DynamoDB Local.

A page reads what its JSON counterpart reads plus the session (and renders
HTML instead of serializing JSON), so both are driven through
``chalice.test.Client`` in the same run, interleaved, and compared per call:
DynamoDB requests (counted at the botocore client) and server time (wall
time of the in-process client call). The first call of each page is reported
apart as the cold render (Jinja2 is imported on the first page, and each
template is compiled on first use).

Target (exit 1 when missed): no page makes more than 2 DynamoDB requests above
its JSON counterpart. Time ratios are reported, not asserted.

Run: python -m bench.console [--n 200] [--orgs 5] [--tokens 10]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .common import RequestCounter, local_backend, table

MAX_EXTRA_REQUESTS = 2
WARMUP_ROUNDS = 20


@dataclass
class Series:
    """One endpoint as called in the bench: what to send, what the answer must contain, what it cost."""

    label: str
    path: str
    headers: dict[str, str]
    must_contain: list[str]
    content_type: str
    ms: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    cold_ms: float = 0.0
    cold_requests: int = 0
    body_bytes: int = 0


@dataclass
class Pair:
    name: str
    page: Series
    api: Series


@dataclass
class Seeded:
    account_id: str
    email: str
    api_key: str
    session: str
    org_ids: list[str]
    org_names: list[str]
    token_names: list[str]
    invitation_token: str
    invitee: str
    invitee_session: str


def seed(n_orgs: int, n_tokens: int) -> Seeded:
    """One person: admin of ``n_orgs`` orgs, seated in the first with ``n_tokens`` tokens; one pending invitation
    (to an address that already has an account, so the invitee can also open it signed in)."""
    from chalicelib.domain.models import Actor
    from chalicelib.services import accounts, bootstrap, invitation_links, invitations, seats, sessions, tokens
    from chalicelib.services.invitations import InviteItem

    email = "pat@bench.test"
    names = [f"Bench Org {i + 1}" for i in range(n_orgs)]
    boots = [bootstrap.bootstrap(name, email, seat_capacity=1) for name in names]
    account_id = boots[0].account_id
    assert all(b.account_id == account_id for b in boots)
    org_id = boots[0].org_id
    actor = Actor(actor=f"account:{account_id}", request_id="bench", account_id=account_id)
    seats.assign(org_id, actor, account_id, notify=False)
    token_names = [f"bench-token-{i:02d}" for i in range(n_tokens)]
    for name in token_names:
        tokens.issue_own(org_id, actor, name)
    invitee = "invitee@bench.test"
    invitee_account, _ = accounts.get_or_create(invitee)
    outcome = invitations.invite(org_id, actor, [InviteItem(email=invitee, role="member")])
    [result] = outcome.results
    assert result.status == "invited" and result.invitation_id, result
    item = invitations.get_item(org_id, result.invitation_id)
    assert item is not None and item.link_nonce
    return Seeded(
        account_id=account_id,
        email=email,
        api_key=boots[0].api_key,
        session=sessions.start(account_id, email),
        org_ids=[b.org_id for b in boots],
        org_names=names,
        token_names=token_names,
        invitation_token=invitation_links.token_for(org_id, result.invitation_id, item.link_nonce),
        invitee=invitee,
        invitee_session=sessions.start(invitee_account.account_id, invitee),
    )


def pairs(s: Seeded) -> list[Pair]:
    from chalicelib.console.web import cookie_name

    cookie = {"Cookie": f"{cookie_name()}={s.session}"}
    invitee_cookie = {"Cookie": f"{cookie_name()}={s.invitee_session}"}
    bearer = {"Authorization": f"Bearer {s.api_key}"}
    org = s.org_ids[0]
    html, json_type = "text/html", "application/json"
    return [
        Pair(
            f"Organizations ({len(s.org_ids)} orgs)",
            Series("GET /", "/", cookie, ["<h1>Organizations</h1>", *s.org_names], html),
            Series("GET /v1/me", "/v1/me", bearer, s.org_names, json_type),
        ),
        Pair(
            f"Token Access ({len(s.token_names)} tokens)",
            Series("GET /orgs/{org_id}/tokens", f"/orgs/{org}/tokens", cookie, s.token_names, html),
            Series("GET /v1/orgs/{org_id}/tokens", f"/v1/orgs/{org}/tokens", bearer, s.token_names, json_type),
        ),
        Pair(
            "Invitation (signed out)",
            Series("GET /invitations/{token}", f"/invitations/{s.invitation_token}", {}, ["Accept Invitation"], html),
            Series("GET /v1/invitations/{token}", f"/v1/invitations/{s.invitation_token}", {}, [s.invitee], json_type),
        ),
        # The invitee already signed in (own account): the session read on top.
        Pair(
            "Invitation (invitee signed in)",
            Series(
                "GET /invitations/{token} + cookie",
                f"/invitations/{s.invitation_token}",
                invitee_cookie,
                ["Accept Invitation", 'name="csrf_token"'],
                html,
            ),
            Series("GET /v1/invitations/{token}", f"/v1/invitations/{s.invitation_token}", {}, [s.invitee], json_type),
        ),
    ]


def call(client: Any, counter: RequestCounter, series: Series) -> tuple[float, Counter[str]]:
    """One request through the local gateway: wall ms and the DynamoDB calls it made (the answer is checked)."""
    with counter.measure() as ops:
        start = time.perf_counter()
        response = client.http.get(series.path, headers=series.headers)
        elapsed = (time.perf_counter() - start) * 1000
    body = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    assert response.status_code == 200, (series.label, response.status_code, body[:300])
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers.get("content-type", "").startswith(series.content_type), (series.label, headers)
    missing = [text for text in series.must_contain if text not in body]
    assert not missing, (series.label, missing, body[:300])
    series.body_bytes = len(body.encode())
    return elapsed, ops


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def ops_text(ops: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(ops.items())) or "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="measured calls per endpoint (after warm-up)")
    parser.add_argument("--orgs", type=int, default=5, help="orgs the signed-in person is a member of")
    parser.add_argument("--tokens", type=int, default=10, help="tokens of the person on the Token Access page")
    args = parser.parse_args()
    counter = RequestCounter().install()
    with local_backend("benchconsole"):
        from chalice.test import Client

        from app import app

        seeded = seed(args.orgs, args.tokens)
        bench = pairs(seeded)
        client = Client(app)

        jinja_before = "jinja2" in sys.modules
        # Cold: each JSON call first, then each page, so a page's first render is charged only for its own
        # first-use costs (the first page also imports Jinja2 and compiles base.html).
        # The extra signed-in invitation row reuses warmed code paths: no cold figure for it.
        firsts = bench[:3]
        for series in [p.api for p in firsts] + [p.page for p in firsts]:
            elapsed, ops = call(client, counter, series)
            series.cold_ms, series.cold_requests = elapsed, sum(ops.values())
        for _ in range(WARMUP_ROUNDS):
            for p in bench:
                call(client, counter, p.page)
                call(client, counter, p.api)

        # Interleaved, order alternating, so that load from elsewhere on the machine hits every series alike.
        for i in range(args.n):
            for p in bench:
                for series in (p.page, p.api) if i % 2 == 0 else (p.api, p.page):
                    elapsed, ops = call(client, counter, series)
                    series.ms.append(elapsed)
                    series.requests.append(sum(ops.values()))
                    series.ops = ops

    rows: list[tuple[Any, ...]] = []
    for p in bench:
        for series in (p.page, p.api):
            rows.append(
                (
                    p.name,
                    series.label,
                    spread(series.requests),
                    ops_text(series.ops),
                    f"{statistics.median(series.ms):.2f}",
                    f"{p90(series.ms):.2f}",
                    f"{series.cold_ms:.1f}" if series.cold_ms else "-",
                    series.cold_requests if series.cold_ms else "-",
                    f"{series.body_bytes:,}",
                )
            )
    print(
        f"Console pages vs JSON API: {args.n} calls per endpoint after {WARMUP_ROUNDS} warm-up rounds, "
        f"interleaved; in process through chalice.test.Client on DynamoDB Local "
        f"(Jinja2 imported before the first page: {jinja_before})\n"
    )
    header = ("pair", "endpoint", "requests", "DynamoDB ops", "p50 ms", "p90 ms", "cold ms", "cold req", "body bytes")
    print(table(rows, header))

    missed: list[str] = []
    ratio_rows: list[tuple[Any, ...]] = []
    for p in bench:
        extra = max(p.page.requests) - min(p.api.requests)
        ok = extra <= MAX_EXTRA_REQUESTS
        if not ok:
            missed.append(p.name)
        ratio_rows.append(
            (
                p.name,
                f"{statistics.median(p.page.ms) / statistics.median(p.api.ms):.2f}",
                f"{p90(p.page.ms) / p90(p.api.ms):.2f}",
                f"{extra:+d}",
                "met" if ok else "MISSED",
            )
        )
    print()
    print(table(ratio_rows, ("pair", "p50 page/JSON", "p90 page/JSON", "page - JSON requests", "target <= +2")))
    print()
    if missed:
        print(f"Target missed: more than {MAX_EXTRA_REQUESTS} requests above the JSON call for: {', '.join(missed)}")
        sys.exit(1)
    print(f"Target met: every page within {MAX_EXTRA_REQUESTS} DynamoDB requests of its JSON counterpart.")


if __name__ == "__main__":
    main()
