"""The SDK matches the app's ``/openapi.json``: every operation it calls exists, with the fields it sends.

The SDK declares each call as data (``orgmembers_sdk.operations``) and refuses
to send a field its operation does not list, so checking the declarations
here covers every request it can make.
"""

from __future__ import annotations

from typing import Any

from orgmembers_sdk import OPERATIONS, Operation

from tests.support.helpers import Api


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def mismatches(document: dict[str, Any], operations: tuple[Operation, ...]) -> list[str]:
    """What in ``operations`` the document does not declare, one line each."""
    found: list[str] = []
    for op in operations:
        where = f"{op.method} {op.path}"
        operation = document["paths"].get(op.path, {}).get(op.method.lower())
        if operation is None:
            found.append(f"{where}: not in /openapi.json")
            continue
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        for name in [part[1:-1] for part in op.path.split("/") if part.startswith("{")]:
            if ("path", name) not in parameters:
                found.append(f"{where}: path parameter {name} undeclared")
        found += [f"{where}: query {n} undeclared" for n in op.query if ("query", n) not in parameters]
        content = operation.get("requestBody", {}).get("content", {})
        if op.body:
            if op.body_type not in content:
                found.append(f"{where}: no {op.body_type} body")
                continue
            schema = _resolve(document, content[op.body_type]["schema"])
            declared = set(schema.get("properties", {}))
            found += [f"{where}: body field {n} undeclared" for n in op.body if n not in declared]
            found += [f"{where}: required {n} never sent" for n in schema.get("required", []) if n not in op.body]
        elif operation.get("requestBody", {}).get("required"):
            found.append(f"{where}: the API requires a body the SDK never sends")
    return found


def test_every_sdk_operation_and_field_is_in_the_openapi_document(api: Api) -> None:
    answer = api.get("/openapi.json")
    assert answer.status == 200
    assert len(OPERATIONS) >= 25
    assert mismatches(answer.body, OPERATIONS) == []


def test_the_check_catches_what_the_document_does_not_declare(api: Api) -> None:
    document = api.get("/openapi.json").body
    wrong = (
        Operation("GET", "/v1/orgs/{org_id}/member"),
        Operation("PUT", "/v1/orgs/{org_id}/members"),
        Operation("GET", "/v1/orgs/{org_id}/members", query=("sort",)),
        Operation("POST", "/v1/orgs/{org_id}/invitations", body=("emails", "notify")),
        Operation("POST", "/v1/orgs/{org_id}/seats/assign", body=("notify",)),
    )
    assert mismatches(document, wrong) == [
        "GET /v1/orgs/{org_id}/member: not in /openapi.json",
        "PUT /v1/orgs/{org_id}/members: not in /openapi.json",
        "GET /v1/orgs/{org_id}/members: query sort undeclared",
        "POST /v1/orgs/{org_id}/invitations: body field notify undeclared",
        "POST /v1/orgs/{org_id}/seats/assign: required account_ids never sent",
    ]
