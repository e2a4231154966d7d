"""The OpenAPI document covers every registered REST route, and the docs page ships without a CDN."""

from openapi_spec_validator import validate

from app import app
from chalicelib.console.web import declared_pages
from chalicelib.http.openapi import document
from tests.support.helpers import Api


def test_every_rest_route_is_documented() -> None:
    doc = document()
    pages = {(p.method, p.path) for p in declared_pages()}  # the console's HTML pages are not part of the JSON API
    for path, methods in app.routes.items():
        if path.startswith("/scim/"):
            continue
        for method in methods:
            if (method, path) in pages:
                continue
            assert method.lower() in doc["paths"].get(path, {}), f"{method} {path} missing from openapi.json"


def test_openapi_and_docs_are_served(api: Api) -> None:
    r = api.get("/openapi.json")
    assert r.status == 200 and r.body["openapi"].startswith("3.1")
    assert r.body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = api.get("/docs")
    assert page.status == 200 and "openapi.json" in page.body
    assert "http://" not in page.body.replace("http://www.w3.org", "") and "https://" not in page.body


def test_document_is_valid_openapi_3_1() -> None:
    validate(document())


def test_every_operation_documents_auth_throttling_and_its_errors() -> None:
    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            responses = op["responses"]
            assert "429" in responses and "503" in responses and "415" in responses, f"{method} {path}"
            if op["security"] == [{"bearer": []}]:
                assert "unauthenticated" in str(responses["401"]), f"{method} {path}"


def test_limits_are_in_the_schemas() -> None:
    doc = document()
    invite = doc["paths"]["/v1/orgs/{org_id}/invitations"]["post"]["requestBody"]["content"]
    assert invite["text/csv"]["schema"]["maxLength"] > 0
    assert doc["components"]["schemas"]["InviteRequest"]["properties"]["emails"]["maxItems"] == 1000
    email = doc["components"]["schemas"]["AddMember"]["properties"]["email"]
    assert email["maxLength"] == 254 and email["format"] == "idn-email"


def test_framework_errors_use_the_envelope(api: Api) -> None:
    wrong_method = api.call("PUT", "/v1/me")
    assert wrong_method.status == 405 and wrong_method.code == "method_not_allowed"
    wrong_type = api.call("POST", "/v1/orgs", headers={"Content-Type": "text/plain"}, body=b"x")
    assert wrong_type.status == 415 and wrong_type.code == "unsupported_media_type"
