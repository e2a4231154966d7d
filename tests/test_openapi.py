"""The OpenAPI document covers every registered REST route, and the docs page ships without a CDN."""

from app import app
from chalicelib.http.openapi import document

from .helpers import Api


def test_every_rest_route_is_documented() -> None:
    doc = document()
    for path, methods in app.routes.items():
        if path.startswith("/scim/"):
            continue
        for method in methods:
            assert method.lower() in doc["paths"].get(path, {}), f"{method} {path} missing from openapi.json"


def test_openapi_and_docs_are_served(api: Api) -> None:
    r = api.get("/openapi.json")
    assert r.status == 200 and r.body["openapi"].startswith("3.1")
    assert r.body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = api.get("/docs")
    assert page.status == 200 and "openapi.json" in page.body
    assert "http://" not in page.body.replace("http://www.w3.org", "") and "https://" not in page.body
