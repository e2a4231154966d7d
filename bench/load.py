"""Benchmark: the local stack's API server under 32 concurrent clients (token verification).

Starts DynamoDB Local, seeds seated members with tokens, then serves the app
with ``local.api_server`` (what ``make run`` serves) twice in the same run: with
the standard library's listen backlog of 5 (how ``chalice local`` served before)
and with the server's own backlog. Each of ``--clients`` threads opens a new
connection per request (so that accepting is measured, as with many clients)
and posts a verification. Reported per server: throughput, connect and
request latency p50/p99, and errors (connection resets, refusals, timeouts).
Target: no errors, request p99 within 3x p50 at 32 clients.

Run: python -m bench.load [--clients 32] [--requests 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .common import local_backend, percentiles, verify_domain

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, backlog: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "local.api_server", "--project-dir", str(ROOT), "local"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--stage", "dev", "--no-autoreload"]
    env = {**os.environ, "LOCAL_API_BACKLOG": str(backlog)}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the API server did not start")


def drive(port: int, secrets: list[str], clients: int, per_client: int) -> dict[str, Any]:
    connect_ms: list[float] = []
    request_ms: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(n: int) -> None:
        barrier.wait()
        for i in range(per_client):
            body = json.dumps({"token": secrets[(n + i) % len(secrets)]})
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.connect()
                connected = time.perf_counter()
                conn.request("POST", "/v1/tokens/verify", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                answer = json.loads(response.read())
                conn.close()
                ok = response.status == 200 and answer.get("active") is True
                problem = None if ok else f"status {response.status}"
            except OSError as exc:
                problem, connected = type(exc).__name__, time.perf_counter()
            done = time.perf_counter()
            with lock:
                if problem:
                    errors[problem] = errors.get(problem, 0) + 1
                else:
                    connect_ms.append((connected - started) * 1000)
                    request_ms.append((done - started) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    request_p = percentiles(request_ms) if request_ms else {}
    return {
        "requests": clients * per_client,
        "ok": len(request_ms),
        "errors": errors,
        "throughput_rps": len(request_ms) / wall,
        "connect_ms": percentiles(connect_ms) if connect_ms else {},
        "request_ms": request_p,
        "p99_over_p50": (request_p["p99"] / request_p["p50"]) if request_p else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=100, help="requests per client")
    parser.add_argument("--tokens", type=int, default=10)
    args = parser.parse_args()
    with local_backend("benchload"):
        from chalicelib.config import reset_settings
        from chalicelib.storage.base import ensure_bound
        from chalicelib.storage.schema import ensure_tables

        # The served app takes the dev stage's table prefix from .chalice/config.json (this DynamoDB
        # Local is the bench's own, so that prefix is free here).
        os.environ["TABLE_PREFIX"] = "orgmembers-dev-"
        reset_settings()
        ensure_bound()
        ensure_tables()

        from chalicelib.domain.models import Actor
        from chalicelib.domain.roles import Role
        from chalicelib.services import bootstrap, members, seats, tokens

        boot = bootstrap.bootstrap("Load", "admin@load.bench.test", seat_capacity=args.tokens)
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench", account_id=boot.account_id)
        verify_domain(boot.org_id, boot.account_id, "load.bench.test")
        secrets = []
        for i in range(args.tokens):
            member = members.add_member(boot.org_id, actor, f"user{i}@load.bench.test", Role.MEMBER).member
            assert member is not None
            seats.assign(boot.org_id, actor, member.account_id, notify=False)
            secrets.append(tokens.issue_for(boot.org_id, actor, member.account_id, "load")[1])
        report: dict[str, Any] = {"clients": args.clients, "requests_per_client": args.requests}
        for label, backlog in (("backlog_5_as_before", 5), ("server_backlog", 1024)):
            port = free_port()
            server = start_server(port, backlog)
            try:
                drive(port, secrets, 4, 5)  # warm-up: imports and first connections
                report[label] = drive(port, secrets, args.clients, args.requests)
            finally:
                server.terminate()
                server.wait(timeout=30)
        run = report["server_backlog"]
        report["targets_met"] = {
            "no_errors": not run["errors"],
            "p99_within_3x_p50": run["p99_over_p50"] is not None and run["p99_over_p50"] <= 3,
        }
        print(json.dumps(report, indent=2, default=lambda v: round(v, 2)))


if __name__ == "__main__":
    main()
