"""``chalice local`` with API Gateway's own answer for paths no route declares.

Deployed, API Gateway answers an unknown path with the template's gateway
response (deploy/build_template.py): 404 ``not_found`` in the JSON envelope,
or the console's 404 page for a browser (Accept: text/html). ``chalice
local`` answers 403 "Missing Authentication Token" instead; this wrapper
makes the local stack answer as the deployed one does.

It also serves concurrent clients as a real server would: the listening
socket's backlog is ``BACKLOG`` (the standard library's default of 5 reset
connections once a few dozen clients connected at once), connections are
read and answered on their own threads, and the app handles one request at a
time, as one Lambda process does (Chalice keeps ``current_request`` on the
app object, so two requests at once in one process would read each other's).

Its access log (one line per request, on stderr) goes through
``chalicelib.redact``: invitation and sign-in links carry their credential in
the path, so the line shows ``/invitations/[redacted]``, never the link.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import deque
from typing import Any

from chalice import local
from chalice.cli import main

from chalicelib.redact import redact

BACKLOG = int(os.environ.get("LOCAL_API_BACKLOG", "1024"))  # bench.load compares it with 5


class FirstComeFirstServed:
    """A lock handed to waiters in arrival order: under load no request waits much longer than the rest."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # handed over by __exit__: still held, now by this thread

    def __exit__(self, *_: object) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


_one_at_a_time = FirstComeFirstServed()

NOT_FOUND_JSON = json.dumps({"error": {"code": "not_found", "message": "Not found."}}).encode()


class NotFound(local.LocalGatewayException):
    CODE = 404


def _wants_html(headers: dict[str, Any]) -> bool:
    accept = str(headers.get("accept") or headers.get("Accept") or "")
    return "text/html" in accept


_patched = False


def _patch() -> None:
    global _patched
    if _patched:  # wrapping twice would take the one-at-a-time lock twice
        return
    _patched = True
    handle = local.LocalGateway.handle_request

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            with _one_at_a_time:
                return handle(self, method, path, headers, body)
        except local.ForbiddenError as exc:
            if _wants_html(dict(headers)):
                from chalicelib.console.web import SECURITY_HEADERS, not_found_page

                page = {**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8"}
                raise NotFound(page, not_found_page().encode()) from exc
            raise NotFound({"Content-Type": "application/json"}, NOT_FOUND_JSON) from exc

    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    local.ChaliceRequestHandler.log_message = log_message


def log_message(self: Any, format: str, *args: Any) -> None:
    """BaseHTTPRequestHandler.log_message (access log and errors), with credentials redacted."""
    line = redact(format % args)
    sys.stderr.write(f"{self.address_string()} - - [{self.log_date_time_string()}] {line}\n")


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """The app served as ``make run`` serves it, on a daemon thread of this process; returns (server, base URL).

    For tests and benches that drive the API over real HTTP (the CLI) while
    reading the same tables in process. ``port=0`` picks a free port; stop it
    with ``server.shutdown()``.
    """
    from chalice.config import Config

    _patch()
    config = Config.create(chalice_app=app, app_name="orgmembers", chalice_stage="dev")
    if isinstance(app, local.CustomLocalChalice):  # made local by an earlier call: doing it again is a cycle
        dev_server = local.LocalDevServer(app, config, host, port)
    else:
        dev_server = local.create_local_server(app, config, host, port)
    threading.Thread(target=dev_server.server.serve_forever, daemon=True).start()
    bound_port = dev_server.server.server_address[1]
    return dev_server.server, f"http://{host}:{bound_port}"


if __name__ == "__main__":
    _patch()
    sys.exit(main())
