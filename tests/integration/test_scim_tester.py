"""scim2-tester against the SCIM service, in process through a WSGI adapter.

Every check must end at SUCCESS. Two narrow, documented accommodations:
- userName is the account's email address here, and scim2-tester fills
  userName with random uuid strings; its value generator is taught to fill
  userName with random email addresses (nothing else about the tool changes).
- Both resource types run every check: Groups are created, patched,
  replaced and deleted as an identity provider pushes them (members carry
  value, $ref and type; a ``display`` is not stored, hence not published).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import scim2_tester.checkers.patch_add as patch_add
import scim2_tester.checkers.patch_replace as patch_replace
import scim2_tester.filling as filling
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from tests.support.helpers import Api, Seed, scim_seed
from tests.support.scim_helpers import issue_scim_token
from tests.support.scim_wsgi import chalice_wsgi


@pytest.fixture
def seed(api: Api) -> Seed:
    """The seeded org with the SCIM test domains verified (SCIM create acts only on verified domains)."""
    return scim_seed(api)


@pytest.fixture
def email_user_names(monkeypatch: pytest.MonkeyPatch) -> None:
    original = filling.generate_random_value

    def generate(context: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        value = original(context, path, *args, **kwargs)
        if value is not None and str(path).split(":")[-1] == "userName":
            return f"{uuid.uuid4().hex}@example.com"
        return value

    for module in (filling, patch_add, patch_replace):
        monkeypatch.setattr(module, "generate_random_value", generate)


def test_scim2_tester_passes_every_check(api: Api, seed: Seed, email_user_names: None) -> None:
    _, secret = issue_scim_token(seed)
    client = WSGISCIMClient(
        chalice_wsgi(api.client), base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {secret}"}
    )
    results = check_server(client, resource_types=["User", "Group"])
    titles = {r.title for r in results}
    assert {"object_creation", "check_replace_attribute", "search_with_attributes", "random_url"} <= titles
    group_checks = {r.title for r in results if str(getattr(r, "resource_type", "")) == "Group"}
    assert {"object_creation", "object_replacement", "object_deletion", "check_add_attribute"} <= group_checks
    assert {"check_remove_attribute", "check_replace_attribute", "object_query_with_attributes"} <= group_checks
    failures = [f"{r.status.name} {r.title}: {r.reason}" for r in results if r.status is not Status.SUCCESS]
    assert not failures, "\n".join(failures)
