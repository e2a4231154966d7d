"""Schemathesis against the app, in process: no 5xx, and every response matches the document.

The schema is the generated OpenAPI document; requests go through a WSGI
adapter around chalice.test.Client (the same local API Gateway emulation as
the other HTTP tests) on moto. Every operation gets a fresh seeded world:
an org with an admin, a member, a pending invitation and an access token.
Path parameters point at those objects most of the time (otherwise almost
every request would be a 404), and the caller is the admin, the member or
nobody, chosen from the generated case so runs are reproducible.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.http.openapi import document
from tests.support.helpers import Api, seed_org
from tests.support.moto_copies import made_once
from tests.support.scim_wsgi import chalice_wsgi

MAX_EXAMPLES = 100
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(document())
schema.app = chalice_wsgi()
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES, deterministic=True
)
# Methods a path does not declare never reach the function behind API Gateway;
# test_framework_errors covers what the app answers to them.
schema.config.phases.coverage.unexpected_methods = set()


# FUZZ_REPORT=path: append per-operation request counts by status (the figures in bench/README.md).
SENT: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if os.environ.get("FUZZ_REPORT") and SENT:
        with open(os.environ["FUZZ_REPORT"], "a", encoding="utf-8") as out:
            for (label, status), n in sorted(SENT.items()):
                out.write(json.dumps({"operation": label, "status": status, "requests": n}) + "\n")


@dataclass
class World:
    ids: dict[str, str]
    keys: list[str | None]


@pytest.fixture
def world(api: Api) -> World:
    """The seeded org with a pending invitation, a seated member's token and a service account.

    Made once per process and copied for every operation after (tests.support.moto_copies).
    """
    return made_once("fuzz world", lambda: _built_world(api))


def _built_world(api: Api) -> World:
    seed = seed_org(api)
    invited = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["guest@acme.test"]})
    invitation_id = invited.body["results"][0]["invitation_id"]
    assert api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/seat", seed.admin.key).status == 200
    token = api.post(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}/tokens", seed.admin.key, {"name": "ci"})
    robot = api.post(
        f"/v1/orgs/{seed.org_id}/service-accounts", seed.admin.key, {"name": "robot", "scopes": ["members:read"]}
    )
    return World(
        ids={
            "org_id": seed.org_id,
            "account_id": seed.member.account_id,
            "invitation_id": invitation_id,
            "token_id": token.body["token_id"],
            "client_id": robot.body["client_id"],
            "secret_id": robot.body["secret_id"],
        },
        keys=[seed.admin.key, seed.admin.key, seed.admin.key, seed.member.key, None],
    )


def _pick(value: object, n: int) -> int:
    return zlib.crc32(repr(value).encode("utf-8", "surrogatepass")) % n


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_document(case: schemathesis.Case, world: World) -> None:
    # Picks depend on the generated values only (not on the ids of this run's world).
    key = world.keys[_pick((case.path_parameters, case.body, case.query), len(world.keys))]
    params = case.path_parameters
    for name, value in list((params or {}).items()):
        if params is not None and world.ids.get(name) and _pick(value, 4) != 0:
            params[name] = world.ids[name]
    # Schemathesis fills Authorization with generated values; those stay for one caller in
    # five (the unauthenticated paths), the others send a real key.
    if key is not None:
        headers = case.headers if case.headers is not None else CaseInsensitiveDict()
        headers["Authorization"] = f"Bearer {key}"
        case.headers = headers
    response = case.call_and_validate(checks=CHECKS)
    SENT[(case.operation.label, response.status_code)] += 1
