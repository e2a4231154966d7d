"""The link signing key: from SSM SecureString when named, resolved lazily and once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.config import get_settings, link_signing_key, reset_settings

PARAMETER = "/orgmembers/test/link-signing-key"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        monkeypatch.setenv("LINK_SIGNING_KEY_PARAMETER", PARAMETER)
        reset_settings()
        yield client
    reset_settings()


def test_without_a_parameter_the_setting_is_the_key() -> None:
    reset_settings()
    assert get_settings().link_signing_key_parameter is None
    assert link_signing_key() == get_settings().link_signing_key == "test-signing-key"


def test_the_named_secure_string_is_the_key_and_is_read_once(ssm: Any) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="k-from-ssm", Type="SecureString")
    assert link_signing_key() == "k-from-ssm"
    ssm.delete_parameter(Name=PARAMETER)
    assert link_signing_key() == "k-from-ssm"  # cached for the life of the process


def test_settings_load_without_touching_ssm(ssm: Any) -> None:
    # No parameter exists: reading settings (as every import does) must not fail;
    # only the first use of the key reaches SSM.
    assert get_settings().link_signing_key_parameter == PARAMETER
    with pytest.raises(ClientError) as error:
        link_signing_key()
    assert error.value.response["Error"]["Code"] == "ParameterNotFound"


def test_code_reads_the_key_only_through_the_resolver() -> None:
    # settings.link_signing_key is the local default; in AWS the real key is in SSM,
    # so reading the field directly would sign links with the wrong (public) key.
    root = Path(__file__).resolve().parents[2] / "chalicelib"
    direct = re.compile(r"\.link_signing_key\b(?!_parameter)(?!\()")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == [], "use chalicelib.config.link_signing_key()"


def test_the_public_development_key_is_refused_where_mail_really_goes_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment that forgot its key must fail closed, not sign forgeable links."""
    monkeypatch.delenv("LINK_SIGNING_KEY", raising=False)
    monkeypatch.setenv("MAIL_BACKEND", "ses")
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    reset_settings()
    with pytest.raises(RuntimeError, match="LINK_SIGNING_KEY_PARAMETER"):
        link_signing_key()
    monkeypatch.setenv("MAIL_BACKEND", "outbox")  # the local stack: mail never leaves the machine
    reset_settings()
    assert link_signing_key() == "local-development-signing-key-change-me"
    reset_settings()
