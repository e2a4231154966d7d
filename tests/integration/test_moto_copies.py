"""Copies of the seeded tables stand for a new build, and only where a new build would make the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from chalicelib.clock import set_clock
from chalicelib.config import reset_settings
from chalicelib.services import bootstrap
from chalicelib.storage.schema import ensure_tables
from tests.conftest import MOTO_PREFIX, use_backend
from tests.support.helpers import Api, build_seed, seed_org
from tests.support.moto_copies import made_once
from tests.support.table_scan import snapshot


@contextmanager
def fresh_moto() -> Iterator[pytest.MonkeyPatch]:
    """What the moto_tables fixture gives a test: a new mock_aws, the moto prefix, the tables."""
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        use_backend(mp, None, MOTO_PREFIX)
        made_once("tables", ensure_tables)
        yield mp
    reset_settings()


def counts(tables: dict[str, list[dict]]) -> dict[str, int]:
    return {name: len(items) for name, items in tables.items()}


def test_a_copy_holds_the_seed_and_nothing_a_test_wrote_after_it() -> None:
    with fresh_moto():
        first = seed_org()
        seeded = snapshot()
        invited = Api().post(f"/v1/orgs/{first.org_id}/invitations", first.admin.key, {"emails": ["x@else.test"]})
        assert invited.status == 200, invited.body
        assert snapshot() != seeded
    with fresh_moto():
        again = seed_org()
        assert again == first
        assert snapshot() == seeded
        me = Api().get("/v1/me", again.member.key)
        assert me.status == 200 and me.body["memberships"][0]["org_id"] == again.org_id
    with fresh_moto():
        built = build_seed(10)  # a build of its own: other ids, the same items
        assert built.org_id != first.org_id
        assert counts(snapshot()) == counts(seeded)


def test_the_build_runs_again_wherever_it_could_make_something_else(monkeypatch: pytest.MonkeyPatch) -> None:
    what = f"org-{uuid.uuid4().hex}"  # a key no other test used in this process
    builds: list[str] = []

    def build() -> str:
        org_id = bootstrap.bootstrap("Copies", f"{len(builds)}@copies.test").org_id
        builds.append(org_id)
        return org_id

    with fresh_moto():
        made = made_once(what, build)
        tables = snapshot()
    with fresh_moto():
        assert made_once(what, build) == made and len(builds) == 1, "the same start and settings: a copy"
        assert snapshot() == tables
        made_once(what, build)
        assert len(builds) == 2, "tables that already hold items: built"
    with fresh_moto():
        set_clock(lambda: datetime(2030, 1, 1, tzinfo=UTC))
        made_once(what, build)
        assert len(builds) == 3, "a moved clock: built"
        set_clock(None)
    with fresh_moto() as mp:
        mp.setenv("INVITATIONS_PER_ORG_DAY", "7")
        reset_settings()
        made_once(what, build)
        assert len(builds) == 4, "other settings: built"
    with fresh_moto():
        assert made_once(what, build) == made and len(builds) == 4
