"""docs/api.md, the HTTP contract, names every REST route the app declares, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.http.routing import declared_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROUTES = declared_routes()
CALL = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def test_every_declared_route_is_in_the_contract() -> None:
    listed = set(CALL.findall(DOC.read_text()))
    declared = {(r.method, r.path) for r in ROUTES}
    missing = sorted(declared - listed)
    assert missing == [], f"routes missing from docs/api.md: {missing}"


def test_the_contract_names_no_route_the_app_does_not_have() -> None:
    declared = {(r.method, r.path) for r in ROUTES}
    rest = {(m, p) for m, p in CALL.findall(DOC.read_text()) if p.startswith(("/v1/", "/openapi", "/docs"))}
    assert sorted(rest - declared) == []
