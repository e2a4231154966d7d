"""Okta Group Push and Entra ID group provisioning, request by request, against the running local stack.

The requests are the ones each provider's SCIM documentation shows (Okta: "SCIM 2.0 Group Push";
Microsoft: "Tutorial: Develop and plan provisioning for a SCIM endpoint", its group requests),
sent over HTTP to ``python -m local run`` on DynamoDB Local with its stream pumps, as an identity
provider would reach a deployed service. Each flow: look the group up, create it, add members,
rename it, remove a member (whose seat, granted by the group, goes, and whose token dies with it),
delete the group (the remaining seats go); the org's seat counter equals its seated members
after every step.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.harness import ApiReply, RunningStack, start_stack

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("scim-flows-stack"))
    try:
        yield running
    finally:
        running.stop()


class Idp:
    """An identity provider's SCIM client: the org's SCIM token, SCIM's media type."""

    def __init__(self, stack: RunningStack) -> None:
        demo = stack.demo
        self.stack, self.org_id, self.admin_key = stack, demo.org_id, demo.api_key
        issued = stack.call("POST", f"/v1/orgs/{self.org_id}/scim-tokens", self.admin_key, {"name": "idp"})
        assert issued.status == 201, issued.body
        self.secret = issued.body["secret"]
        capacity = stack.call("PUT", f"/v1/orgs/{self.org_id}/seats", self.admin_key, {"capacity": 50})
        assert capacity.status == 200, capacity.body

    def __call__(self, method: str, path: str, body: Any = None) -> ApiReply:
        request = urllib.request.Request(
            f"{self.stack.base_url}/scim/v2{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.secret}",
                "Content-Type": "application/scim+json",
                "Accept": "application/scim+json",
            },
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return _reply(exc.code, dict(exc.headers), exc.read())

    def user(self, name: str) -> str:
        """A person provisioned without a seat of their own (``active: false``), on the demo's verified domain."""
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
        created = self("POST", "/Users", {"schemas": [USER], "userName": email, "active": False})
        assert created.status == 201, created.body
        return str(created.body["id"])

    def patch(self, path: str, *operations: dict[str, Any]) -> ApiReply:
        return self("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    def map_to_seat(self, group: str) -> None:
        mapped = self.stack.call(
            "PUT", f"/v1/orgs/{self.org_id}/scim/group-mappings", self.admin_key, {"group": group, "seat": True}
        )
        assert mapped.status == 200, mapped.body

    def token_for(self, account_id: str) -> str:
        issued = self.stack.call(
            "POST", f"/v1/orgs/{self.org_id}/members/{account_id}/tokens", self.admin_key, {"name": "laptop"}
        )
        assert issued.status == 201, issued.body
        return str(issued.body["secret"])

    def active(self, secret: str) -> bool:
        verified = self.stack.call("POST", "/v1/tokens/verify", None, {"token": secret})
        assert verified.status == 200, verified.body
        return bool(verified.body["active"])

    def seated(self, account_id: str) -> bool:
        found = self.stack.call("GET", f"/v1/orgs/{self.org_id}/members/{account_id}", self.admin_key)
        assert found.status == 200, found.body
        return bool(found.body["seat"])

    def counters_exact(self) -> int:
        """The org's seat counter equals the members holding a seat (every page of the member list)."""
        seated, cursor = 0, None
        while True:
            query = urllib.parse.urlencode({"limit": 200, "seat": "true", **({"cursor": cursor} if cursor else {})})
            page = self.stack.call("GET", f"/v1/orgs/{self.org_id}/members?{query}", self.admin_key)
            assert page.status == 200, page.body
            seated += len(page.body["items"])
            cursor = page.body.get("next_cursor")
            if not cursor:
                break
        org = self.stack.call("GET", f"/v1/orgs/{self.org_id}", self.admin_key).body
        assert org["seats"]["used"] == seated <= org["seats"]["capacity"]
        return seated


def _reply(status: int, headers: dict[str, str], raw: bytes) -> ApiReply:
    return ApiReply(status, json.loads(raw) if raw else None, headers)


def member_ids(group: dict[str, Any]) -> set[str]:
    return {m["value"] for m in group.get("members", [])}


def test_okta_group_push_against_the_local_stack(stack: RunningStack) -> None:
    idp = Idp(stack)
    ann, bob = idp.user("ann"), idp.user("bob")
    name = f"Engineering {uuid.uuid4().hex[:4]}"
    # Okta looks the group up by name before pushing it.
    looked = idp("GET", "/Groups?" + urllib.parse.urlencode({"filter": f'displayName eq "{name}"', "count": 100}))
    assert looked.status == 200 and looked.body["totalResults"] == 0
    created = idp("POST", "/Groups", {"schemas": [GROUP], "displayName": name, "members": []})
    assert created.status == 201, created.body
    group_id = created.body["id"]
    idp.map_to_seat(name)
    # Members are pushed as a value list; Okta adds each one's display name.
    pushed = idp.patch(
        f"/Groups/{group_id}",
        {"op": "add", "path": "members", "value": [{"value": ann, "display": "ann"}, {"value": bob, "display": "bob"}]},
    )
    assert pushed.status == 200, pushed.body
    assert idp.seated(ann) and idp.seated(bob)
    secret = idp.token_for(ann)
    assert idp.active(secret)
    # Okta renames with a value object holding the group's id and its new name.
    renamed = idp.patch(f"/Groups/{group_id}", {"op": "replace", "value": {"id": group_id, "displayName": f"{name}s"}})
    assert renamed.status == 200 and renamed.body["displayName"] == f"{name}s", renamed.body
    # Okta removes one member per operation, by a path filter.
    removed = idp.patch(f"/Groups/{group_id}", {"op": "remove", "path": f'members[value eq "{ann}"]'})
    assert removed.status == 200, removed.body
    assert member_ids(idp("GET", f"/Groups/{group_id}").body) == {bob}
    assert not idp.seated(ann) and not idp.active(secret) and idp.seated(bob)
    idp.counters_exact()
    assert idp("DELETE", f"/Groups/{group_id}").status == 204
    assert idp("GET", f"/Groups/{group_id}").status == 404
    assert not idp.seated(bob)
    idp.counters_exact()


def test_entra_group_provisioning_against_the_local_stack(stack: RunningStack) -> None:
    idp = Idp(stack)
    ada, cy = idp.user("ada"), idp.user("cy")
    name = f"Finance {uuid.uuid4().hex[:4]}"
    external_id = str(uuid.uuid4())
    # Entra matches on displayName, asking without members.
    looked = idp(
        "GET",
        "/Groups?" + urllib.parse.urlencode({"excludedAttributes": "members", "filter": f'displayName eq "{name}"'}),
    )
    assert looked.status == 200 and looked.body["totalResults"] == 0
    created = idp(
        "POST",
        "/Groups",
        {
            "externalId": external_id,
            "displayName": name,
            "members": [],
            "meta": {"resourceType": "Group"},
            "schemas": [GROUP],
        },
    )
    assert created.status == 201, created.body
    group_id = created.body["id"]
    fetched = idp("GET", f"/Groups/{group_id}?excludedAttributes=members")
    assert fetched.status == 200 and fetched.body["externalId"] == external_id and "members" not in fetched.body
    idp.map_to_seat(group_id)
    for person in (ada, cy):  # one Add per member, "$ref": null as Entra sends it
        added = idp.patch(
            f"/Groups/{group_id}", {"op": "Add", "path": "members", "value": [{"$ref": None, "value": person}]}
        )
        assert added.status == 200, added.body
    assert idp.seated(ada) and idp.seated(cy)
    secret = idp.token_for(ada)
    assert idp.active(secret)
    renamed = idp.patch(f"/Groups/{group_id}", {"op": "Replace", "path": "displayName", "value": f"{name} Team"})
    assert renamed.status == 200 and renamed.body["displayName"] == f"{name} Team", renamed.body
    removed = idp.patch(
        f"/Groups/{group_id}", {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": ada}]}
    )
    assert removed.status == 200, removed.body
    assert member_ids(idp("GET", f"/Groups/{group_id}").body) == {cy}
    assert not idp.seated(ada) and not idp.active(secret) and idp.seated(cy)
    idp.counters_exact()
    assert idp("DELETE", f"/Groups/{group_id}").status == 204
    assert not idp.seated(cy)
    idp.counters_exact()
