"""Quick AWS stage with `chalice deploy`: ensure the stage's tables, then deploy.

`chalice deploy` creates no tables, and it reads the stream ARNs when it imports
the app (events/streams.py). So this creates or updates the stage's tables
(idempotent), puts their stream ARNs in the environment and runs chalice deploy.
Needs AWS credentials for the target account. Production uses `make package`.
The stage is "sandbox": "dev" is the local stack's (`chalice local --stage dev`).

Usage: python deploy/sandbox.py [--stage sandbox] [--print-env]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.config import Settings, reset_settings  # noqa: E402
from chalicelib.events import streams  # noqa: E402
from chalicelib.storage.base import registered_models  # noqa: E402
from chalicelib.storage.schema import ensure_tables, stream_arn  # noqa: E402


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables .chalice/config.json gives the stage."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def prepare(stage: str) -> dict[str, str]:
    """Ensure the stage's tables; returns the stream ARN variables the stream handlers need."""
    os.environ["TABLE_PREFIX"] = stage_environment(stage)["TABLE_PREFIX"]
    reset_settings()
    ensure_tables()
    by_base = {model.Meta.base_name: model for model in registered_models()}  # type: ignore[attr-defined]
    arns: dict[str, str] = {}
    for table in streams.HANDLERS_BY_TABLE:
        field = f"{table}_stream_arn"
        if field not in Settings.model_fields:
            raise SystemExit(f"Settings has no {field} for the {table} stream handler")
        arn = stream_arn(by_base[table])
        if not arn:
            raise SystemExit(f"table {by_base[table].Meta.table_name} has no stream")
        arns[field.upper()] = arn
    return arns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="sandbox")
    parser.add_argument("--print-env", action="store_true", help="only ensure tables and print the variables")
    args = parser.parse_args()
    arns = prepare(args.stage)
    if args.print_env:
        for name, value in arns.items():
            print(f"export {name}={value}")
        return 0
    chalice = [sys.executable, "-c", "from chalice.cli import main; main()"]
    return subprocess.run([*chalice, "deploy", "--stage", args.stage], cwd=ROOT, env={**os.environ, **arns}).returncode


if __name__ == "__main__":
    raise SystemExit(main())
