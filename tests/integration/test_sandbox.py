"""`deploy/sandbox.py`: the stage's tables exist with streams before `chalice deploy` reads them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.config import reset_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))

import sandbox


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TABLE_PREFIX", "unused-")  # prepare() replaces it; monkeypatch restores it
    with mock_aws():
        yield
    reset_settings()


def test_prepare_creates_the_stage_tables_and_returns_their_streams(aws: None) -> None:
    first = sandbox.prepare("sandbox")
    assert set(first) == {"MEMBERS_STREAM_ARN", "INVITATIONS_STREAM_ARN", "SESSIONS_STREAM_ARN"}
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    names = set(ddb.list_tables()["TableNames"])
    assert {"orgmembers-sandbox-members", "orgmembers-sandbox-invitations", "orgmembers-sandbox-tokens"} <= names
    for table in ("members", "invitations", "sessions"):
        variable = f"{table.upper()}_STREAM_ARN"
        described = ddb.describe_table(TableName=f"orgmembers-sandbox-{table}")["Table"]
        assert first[variable] == described["LatestStreamArn"]
    assert sandbox.prepare("sandbox") == first  # idempotent: same tables, same streams
