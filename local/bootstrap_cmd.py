"""``python -m local bootstrap``: the first org and its admin, where no API key exists yet.

Target database: the endpoint and table prefix in DYNAMODB_ENDPOINT /
TABLE_PREFIX when either is set (a deployed stage; no endpoint means real
AWS with the usual credentials), otherwise the running local stack recorded
in ``$LOCAL_DIR/stack.json``. Stdout carries exactly one JSON object, so
scripts can parse it; everything else goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

from .files import StackFiles, apply_environment, local_aws_environment, pid_alive, read_json


class BootstrapError(Exception):
    """Why nothing was created, for stderr."""


def _target_local_stack() -> str:
    files = StackFiles.from_env()
    stack = read_json(files.stack_json)
    if stack is None:
        raise BootstrapError(
            f"No running local stack found ({files.stack_json} is missing). Start one with `make run` "
            "(same LOCAL_DIR), or set TABLE_PREFIX (and DYNAMODB_ENDPOINT unless it is real AWS) for a deployed stage."
        )
    if not pid_alive(stack.get("pids", {}).get("stack")) or not stack.get("dynamodb_endpoint"):
        raise BootstrapError(
            f"The local stack recorded in {files.stack_json} is not running; start it with `make run`."
        )
    apply_environment(local_aws_environment(str(stack["dynamodb_endpoint"]), str(stack["table_prefix"])))
    return f"local stack {stack.get('api_url')} ({stack['dynamodb_endpoint']}, prefix {stack['table_prefix']})"


def bootstrap(org: str, admin_email: str, seats: int) -> dict[str, str]:
    if os.environ.get("DYNAMODB_ENDPOINT") or os.environ.get("TABLE_PREFIX"):
        endpoint = os.environ.get("DYNAMODB_ENDPOINT") or "AWS"
        target = f"{endpoint}, prefix {os.environ.get('TABLE_PREFIX', '(default)')}"
    else:
        target = _target_local_stack()
    from chalicelib.config import reset_settings
    from chalicelib.domain.emails import InvalidEmail, normalize_email
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import bootstrap as service
    from chalicelib.services import health

    reset_settings()
    if not org.strip():
        raise BootstrapError("--org must not be empty")
    if seats < 0:
        raise BootstrapError("--seats must not be negative")
    try:
        normalize_email(admin_email)
    except InvalidEmail as exc:
        raise BootstrapError(f"--admin-email is not a usable address: {exc}") from exc
    try:
        health.check_tables()
        done = service.bootstrap(org.strip(), admin_email, seat_capacity=seats)
    except DomainError as exc:
        raise BootstrapError(f"{exc.code}: {exc.message} (target: {target})") from exc
    print(f"created org {done.org_id} with admin {admin_email} on {target}", file=sys.stderr)
    return {"org_id": done.org_id, "account_id": done.account_id, "api_key": done.api_key}


def main(org: str, admin_email: str, seats: int) -> int:
    stdout = sys.stdout
    try:
        # Nothing but the result may reach stdout, whatever a library prints.
        with contextlib.redirect_stdout(sys.stderr):
            result = bootstrap(org, admin_email, seats)
    except BootstrapError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"bootstrap failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    stdout.write(json.dumps(result) + "\n")
    stdout.flush()
    return 0
