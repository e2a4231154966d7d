"""Where a local stack keeps its data, and the environment its processes share.

Everything of one stack lives under ``$LOCAL_DIR`` (default ``.local``):
``stack.json`` says which processes and ports belong to the running stack
(``python -m local bootstrap`` finds the database through it), ``demo.json``
holds the demo org and its admin key, ``dynamodb/`` the DynamoDB Local data,
``outbox/`` the mail, ``pump/`` the stream positions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.config import Config

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
REGION = "us-east-1"


@dataclass(frozen=True)
class StackFiles:
    root: Path

    @classmethod
    def from_env(cls) -> StackFiles:
        return cls(Path(os.environ.get("LOCAL_DIR") or ".local").resolve())

    @property
    def stack_json(self) -> Path:
        return self.root / "stack.json"

    @property
    def demo_json(self) -> Path:
        return self.root / "demo.json"

    @property
    def dynamodb_dir(self) -> Path:
        return self.root / "dynamodb"

    @property
    def dynamodb_log(self) -> Path:
        return self.root / "dynamodb.log"

    @property
    def outbox_dir(self) -> Path:
        return self.root / "outbox"

    @property
    def pump_dir(self) -> Path:
        return self.root / "pump"

    @property
    def dns_json(self) -> Path:
        """The embedded DNS responder's TXT records: ``{"<name>": ["<text>", ...]}``."""
        return self.root / "dns.json"


def write_json(path: Path, data: dict[str, Any], *, private: bool = False) -> None:
    """Write atomically (readers never see half a file); ``private`` files are 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stage_environment(stage: str = STAGE) -> dict[str, str]:
    """The environment variables ``chalice local --stage`` puts into the API process.

    ``chalice local`` overwrites the environment with the stage's variables
    from .chalice/config.json (TABLE_PREFIX among them), so the rest of the
    stack takes the same values to talk to the same tables.
    """
    config = Config(chalice_stage=stage, config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
    return {str(k): str(v) for k, v in config.environment_variables.items()}


def local_aws_environment(endpoint: str, table_prefix: str) -> dict[str, str]:
    """Point boto3/pynamodb at a local endpoint with dummy credentials, never at real AWS."""
    return {
        "DYNAMODB_ENDPOINT": endpoint,
        "TABLE_PREFIX": table_prefix,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        # moto's stream endpoints fail botocore's account-id endpoint routing.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def apply_environment(values: dict[str, str]) -> None:
    """Set ``values`` in this process and drop AWS settings that could reach a real account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(values)
