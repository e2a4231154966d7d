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


def _verify_admin_domain(org_id: str, account_id: str, admin_email: str, local: bool) -> None:
    """The admin's email domain: verified at once on the local stack (its DNS responder), else claimed."""
    from chalicelib.domain.domains import domain_of_email
    from chalicelib.domain.emails import normalize_email
    from chalicelib.domain.errors import DomainError
    from chalicelib.domain.models import Actor
    from chalicelib.services import domains

    domain = domain_of_email(normalize_email(admin_email))
    if local:
        from .dns_cmd import verify_local_domain

        ok = verify_local_domain(StackFiles.from_env(), org_id, account_id, domain)
        print(f"domain {domain}: {'verified' if ok else 'not verified (see the warning above)'}", file=sys.stderr)
        return
    actor = Actor(actor=f"account:{account_id}", request_id="bootstrap", account_id=account_id)
    try:
        claimed = domains.claim(org_id, actor, domain)
    except DomainError as exc:
        print(f"domain {domain} not claimed: {exc.code}", file=sys.stderr)
        return
    print(
        f"domain {domain} claimed: publish TXT {claimed.record_name} {claimed.record_value!r}, then"
        f" POST /v1/orgs/{org_id}/domains/{domain}/verify",
        file=sys.stderr,
    )


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
    if stack.get("dns_resolver"):  # verification asks the stack's own DNS responder
        apply_environment({"DNS_RESOLVER": str(stack["dns_resolver"])})
    return f"local stack {stack.get('api_url')} ({stack['dynamodb_endpoint']}, prefix {stack['table_prefix']})"


def bootstrap(org: str, admin_email: str, seats: int) -> dict[str, str]:
    local = not (os.environ.get("DYNAMODB_ENDPOINT") or os.environ.get("TABLE_PREFIX"))
    if not local:
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
        _verify_admin_domain(done.org_id, done.account_id, admin_email, local)
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
