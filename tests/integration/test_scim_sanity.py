"""scim-sanity's live conformance probe against the SCIM service, over real HTTP.

The probe (RFC 7643/7644, strict mode) runs discovery, the User and Group
lifecycles, search and error handling against the app served by a WSGI server
on a loopback port, and must report no failure, no error and no warning (it
skips only its Agent checks: the service offers no Agent resource type). Its generated
userNames use a domain the org has verified (SCIM creates accounts only on
verified domains); nothing else about the probe is changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from scim_sanity.probe.runner import run_probe_api

from tests.support.helpers import SCIM_TEST_DOMAINS, Api, Seed, scim_seed
from tests.support.scim_helpers import issue_scim_token
from tests.support.scim_wsgi import chalice_wsgi


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The probe's requests are the test's business, not the test log's."""

    def get_environ(self) -> dict[str, Any]:
        """wsgiref invents ``text/plain`` for a request without Content-Type; API Gateway passes none."""
        environ = dict(super().get_environ())
        if self.headers.get("Content-Type") is None:
            environ.pop("CONTENT_TYPE", None)
        return environ


@pytest.fixture
def scim_base_url(api: Api) -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, chalice_wsgi(api.client), handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/scim/v2"
    finally:
        server.shutdown()
        server.server_close()


def test_scim_sanity_probe_reports_no_failure(api: Api, scim_base_url: str) -> None:
    seed: Seed = scim_seed(api)
    _, secret = issue_scim_token(seed)
    report = run_probe_api(scim_base_url, token=secret, strict=True, user_domain=SCIM_TEST_DOMAINS[0])
    results = report["results"]
    names = {r["name"] for r in results}
    phases = {r["phase"].split(" — ")[0] for r in results}
    assert {"Phase 1", "Phase 2", "Phase 3", "Phase 6", "Phase 7"} <= phases, phases
    assert any("Group" in n for n in names), names  # the Group lifecycle ran, not skipped
    bad = [f"{r['status']} {r['name']}: {r.get('message')}" for r in results if r["status"] in ("fail", "error")]
    assert not bad, "\n".join(bad)
    assert report["exit_code"] == 0
    assert report["summary"]["warnings"] == 0, [r for r in results if r["status"] == "warn"]
    skipped = {r["name"] for r in results if r["status"] == "skip"}
    assert all(name.startswith("Agent") for name in skipped), skipped  # only the resource types not offered
