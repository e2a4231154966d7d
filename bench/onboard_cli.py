"""Benchmark: onboarding a CSV through the ``orgmembers`` CLI against the local stack on DynamoDB Local.

Starts DynamoDB Local, bootstraps an org with enough seats on a verified
domain, serves the app over HTTP as ``make run`` does (``local.api_server``,
on a thread of this process so its DynamoDB requests are counted here), and
runs the installed ``orgmembers onboard --csv FILE --issue-token laptop
--tokens-out FILE`` in a child process. Reported: wall time, HTTP requests
(the CLI's, counted at the server), DynamoDB requests per operation, rows per
second, and the token file's rows.

Also reported: each onboard request's time at the server (it must stay well
inside API Gateway's 29 s).

Baseline, in the same run: every TransactWriteItems the onboarding made,
captured as it was sent, replayed with raw boto3 ``transact_write_items``
into a second, empty set of tables (conditions removed, so every replay
commits): the same items in the same transactions, without HTTP, the app,
or any read. The replay is serial because the onboarding is: the CLI sends
one request at a time and the API commits one row's transaction after
another, so the same order, one at a time, is the like-for-like baseline.

    python -m bench.onboard_cli [--rows 10000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import botocore.client

from .common import RequestCounter, local_backend, verify_domain

ROOT = Path(__file__).resolve().parent.parent
ORGMEMBERS = Path(sys.executable).with_name("orgmembers")
DOMAIN = "onboard.bench.test"


class Captured:
    """Every TransactWriteItems sent while ``on`` is set, as sent."""

    def __init__(self) -> None:
        self.on = False
        self.transactions: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()
        original = botocore.client.BaseClient._make_api_call
        captured = self

        def capturing(client: Any, operation: str, params: Any) -> Any:
            if captured.on and operation == "TransactWriteItems":
                with captured.lock:
                    captured.transactions.append(copy.deepcopy(params["TransactItems"]))
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = capturing  # type: ignore[method-assign]


_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def unconditioned(items: list[dict[str, Any]], prefix_from: str, prefix_to: str) -> list[dict[str, Any]]:
    """The transaction's writes into the baseline tables, without conditions (ConditionChecks dropped)."""
    out = []
    for item in items:
        [(kind, body)] = item.items()
        if kind == "ConditionCheck":
            continue
        body = dict(body)
        body["TableName"] = prefix_to + body["TableName"].removeprefix(prefix_from)
        body.pop("ConditionExpression", None)
        used = set(_PLACEHOLDER.findall(body.get("UpdateExpression", "")))
        for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if field in body:
                kept = {k: v for k, v in body[field].items() if k in used}
                if kept:
                    body[field] = kept
                else:
                    del body[field]
        out.append({kind: body})
    return out


def seed(rows: int, domain: str) -> tuple[str, str]:
    """A fresh org with ``domain`` verified (a domain is verified by one org only: one per round)."""
    from chalicelib.services import bootstrap

    boot = bootstrap.bootstrap("Onboard Bench", f"admin@{domain}", seat_capacity=rows + 10)
    verify_domain(boot.org_id, boot.account_id, domain)
    return boot.org_id, boot.api_key


def run_cli(
    url: str, org_id: str, key: str, rows: int, work: Path, domain: str
) -> tuple[float, subprocess.CompletedProcess[str]]:
    people = work / f"people-{uuid.uuid4().hex[:6]}.csv"
    people.write_text("email\n" + "".join(f"user{i:05d}.{people.stem}@{domain}\n" for i in range(rows)))
    tokens_out = work / f"tokens-{people.stem}.csv"
    env = {
        **os.environ,
        "ORGMEMBERS_URL": url,
        "ORGMEMBERS_ORG": org_id,
        "ORGMEMBERS_API_KEY": key,
        "XDG_STATE_HOME": str(work / "state"),
        "XDG_CONFIG_HOME": str(work / "config"),
    }
    command = [str(ORGMEMBERS), "onboard", "--csv", str(people), "--issue-token", "laptop"]
    command += ["--tokens-out", str(tokens_out), "--output", "csv"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    with tokens_out.open() as f:
        written = sum(1 for _ in csv.DictReader(f))
    if written != rows:
        raise SystemExit(f"{written} tokens written for {rows} rows")
    return wall, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not ORGMEMBERS.exists():
        raise SystemExit("the orgmembers command is not installed: make install (pip install -e .)")
    with local_backend("benchonb"):
        import boto3
        from chalice import local

        from app import app
        from chalicelib.config import get_settings, reset_settings
        from chalicelib.storage.base import ensure_bound
        from chalicelib.storage.schema import ensure_tables
        from local.api_server import serve_in_thread

        counter = RequestCounter().install()
        captured = Captured()
        server, url = serve_in_thread(app)
        handle = local.LocalGateway.handle_request
        http_requests: list[str] = []
        onboard_seconds: list[float] = []  # each onboard request's time at the server

        def counted(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
            http_requests.append(f"{method} {path.split('?')[0]}")
            started = time.perf_counter()
            try:
                return handle(self, method, path, headers, body)
            finally:
                if path.split("?")[0].endswith("/members/onboard"):
                    onboard_seconds.append(time.perf_counter() - started)

        local.LocalGateway.handle_request = counted  # type: ignore[method-assign]
        app_prefix = get_settings().table_prefix
        raw = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"], region_name="us-east-1")

        rounds: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                domain = f"r{n + 1}-{uuid.uuid4().hex[:4]}.{DOMAIN}"
                org_id, key = seed(args.rows, domain)
                http_requests.clear()
                onboard_seconds.clear()
                captured.transactions.clear()
                captured.on = True
                with counter.measure() as calls:
                    wall, _ = run_cli(url, org_id, key, args.rows, Path(tmp), domain)
                captured.on = False
                http = len(http_requests)

                # The baseline: the same transactions, raw, into a fresh empty set of tables.
                baseline_prefix = f"raw{uuid.uuid4().hex[:6]}-"
                os.environ["TABLE_PREFIX"] = baseline_prefix
                reset_settings()
                ensure_bound()
                ensure_tables()
                replays = [unconditioned(t, app_prefix, baseline_prefix) for t in captured.transactions]
                started = time.perf_counter()
                for items in replays:
                    raw.transact_write_items(TransactItems=items)
                baseline = time.perf_counter() - started
                os.environ["TABLE_PREFIX"] = app_prefix
                reset_settings()
                ensure_bound()
                items_written = sum(len(t) for t in replays)
                rounds.append(
                    {
                        "wall": wall,
                        "baseline": baseline,
                        "http": http,
                        "calls": dict(calls),
                        "transactions": len(replays),
                        "items": items_written,
                        "onboard_seconds": list(onboard_seconds),
                    }
                )
                print(
                    f"round {n + 1}: CLI {wall:.1f} s ({args.rows / wall:.0f} rows/s, {http} HTTP requests, "
                    f"{sum(calls.values())} DynamoDB requests); raw transact_write_items {baseline:.1f} s "
                    f"({args.rows / baseline:.0f} rows/s, {len(replays)} transactions, {items_written} items): "
                    f"{wall / baseline:.2f}x; onboard requests {len(onboard_seconds)}, "
                    f"median {statistics.median(onboard_seconds):.1f} s, max {max(onboard_seconds):.1f} s",
                    flush=True,
                )
        server.shutdown()

    walls = [r["wall"] for r in rounds]
    ratios = [r["wall"] / r["baseline"] for r in rounds]
    last = rounds[-1]
    detail = ", ".join(f"{op} {n}" for op, n in sorted(last["calls"].items()))
    print(f"\n{args.rows} rows, {args.rounds} round(s), onboarding with a token per row")
    print(f"CLI wall: median {statistics.median(walls):.1f} s, {args.rows / statistics.median(walls):.0f} rows/s")
    print(f"ratio to raw transact_write_items of the same transactions: {min(ratios):.2f}x-{max(ratios):.2f}x")
    print(f"HTTP requests: {last['http']} (ceil({args.rows}/100) onboard calls + the CLI's others)")
    every = [s for r in rounds for s in r["onboard_seconds"]]
    print(f"onboard request time: median {statistics.median(every):.1f} s, max {max(every):.1f} s (API Gateway: 29 s)")
    print(f"DynamoDB requests: {sum(last['calls'].values())} ({detail})")


if __name__ == "__main__":
    main()
