"""Test backends: moto in process (fast) and DynamoDB Local (the real engine).

Each test gets its own table prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

# Settings are read from the environment; fix them before chalicelib is imported.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_REGION"] = "us-east-1"
os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ["MAIL_BACKEND"] = "memory"
os.environ["LINK_SIGNING_KEY"] = "test-signing-key"
os.environ.pop("DYNAMODB_ENDPOINT", None)
# Tests invite and resend far more than a day's abuse limits allow a new org; the tests of
# those limits (test_abuse_limits.py) set small ones themselves. The cooldown is kept at 0
# here for the same reason (tests resend what they have just invited).
os.environ.update(
    dict.fromkeys(
        (
            "INVITATIONS_PER_ORG_DAY",
            "INVITATIONS_PER_NEW_ORG_DAY",
            "INVITATIONS_PER_ACCOUNT_DAY",
            "RESENDS_PER_ORG_DAY",
            "RESENDS_PER_NEW_ORG_DAY",
            "RESENDS_PER_ACCOUNT_DAY",
        ),
        "1000000",
    )
)
os.environ["RESEND_COOLDOWN_SECONDS"] = "0"

from tests.support.dns_support import responder

# Domain verification asks this process's embedded DNS responder (a real UDP query).
os.environ["DNS_RESOLVER"] = responder().address

import botocore.session
import pytest
from botocore.client import BaseClient
from moto import mock_aws
from pynamodb.connection import base as pynamodb_connection

from chalicelib.clock import set_clock
from chalicelib.config import reset_settings
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.base import ensure_bound
from chalicelib.storage.schema import delete_tables, ensure_tables
from local.dynamodb_local import DynamoDBLocal
from tests.support.helpers import Api, Seed, seed_org
from tests.support.moto_copies import made_once
from tests.support.table_scan import moto_backend

# pynamodb opens a new botocore session per connection, and every test binds
# new connections (new table prefix); a fresh session re-reads the service
# models from disk (~0.2 s per client). Sharing the loader keeps that to ~0.02 s.
_shared_loader = botocore.session.get_session().get_component("data_loader")


def _session_with_shared_loader() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader)
    return session


pynamodb_connection.get_session = _session_with_shared_loader  # type: ignore[attr-defined]


# moto's tables live and die with one test's mock_aws, so one prefix serves every moto test (and
# lets tests.support.moto_copies reuse the tables it made); DynamoDB Local's outlive a test.
MOTO_PREFIX = "tmoto-"


def use_backend(monkeypatch: pytest.MonkeyPatch, endpoint: str | None, prefix: str | None = None) -> str:
    prefix = prefix or f"t{uuid.uuid4().hex[:10]}-"
    monkeypatch.setenv("TABLE_PREFIX", prefix)
    if endpoint:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
        # Lambda's 4 s read timeout is a production choice; one DynamoDB Local JVM serving every
        # test worker of a loaded 2-core machine can take longer on a large transaction, and a
        # timeout there is the machine, not the code. Tests of timeouts set their own.
        if "DYNAMODB_READ_TIMEOUT_SECONDS" not in os.environ:
            monkeypatch.setenv("DYNAMODB_READ_TIMEOUT_SECONDS", "20")
    else:
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    reset_settings()
    ensure_bound()
    return prefix


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    set_clock(None)


@pytest.fixture(autouse=True)
def _fresh_health() -> Iterator[None]:
    """Each test's health checks ask its own tables (a process keeps a healthy answer for a few seconds)."""
    from chalicelib.services import health

    health.forget()
    yield
    health.forget()


@pytest.fixture
def moto_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mock_aws():
        # Inside another mock_aws (a module's seeded world) moto keeps the tables from test to test:
        # there a test's tables get a prefix of their own.
        use_backend(monkeypatch, None, None if moto_backend().tables else MOTO_PREFIX)
        made_once("tables", ensure_tables)
        yield "moto"
    reset_settings()


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    ddb = DynamoDBLocal().start()
    yield ddb
    ddb.stop()


@pytest.fixture
def local_tables(dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_backend(monkeypatch, dynamodb_local.endpoint)
    ensure_tables()
    yield "dynamodb_local"
    delete_tables()
    reset_settings()


@pytest.fixture(params=["moto", "dynamodb_local"])
def tables(request: pytest.FixtureRequest) -> str:
    """Run the test once on moto and once on DynamoDB Local."""
    return str(request.getfixturevalue("moto_tables" if request.param == "moto" else "local_tables"))


@pytest.fixture
def mailer() -> Iterator[MemoryMailer]:
    """Record every message sent during the test (instead of the settings' mailer)."""
    recorder = MemoryMailer()
    reset_mailer(recorder)
    yield recorder
    reset_mailer(None)


@pytest.fixture
def api(moto_tables: str) -> Api:
    return Api()


@pytest.fixture
def seed(api: Api) -> Seed:
    return seed_org(api)


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count DynamoDB API calls by operation name, at the botocore client."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    yield calls
