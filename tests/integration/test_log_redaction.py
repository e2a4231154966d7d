"""Invitation and sign-in credentials never reach a log line (issue 12, finding 12).

The local stack's access log (``chalice local``'s request log, through local/api_server.py)
printed ``/invitations/<token>`` and ``/sign-in/<code>``; the app's own log lines are checked
while the same links are used.
"""

from __future__ import annotations

import io
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.mail.base import MemoryMailer
from chalicelib.redact import REDACTED, RedactingFilter, redact
from tests.support.console_support import deliver_signins, signin_code
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_stream, stream_batch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from local import api_server  # noqa: E402

INVITATION = "org_1a2b.inv_3c4d.Zm9vYmFyYmF6cXV4.c2VjcmV0LW1hYy1vZi10aGUtbGluay1hYmNkZWZnaGlq"
CODE = "olc_" + "Q" * 43


def access_line(path: str, method: str = "GET", status: int = 200) -> str:
    """What chalice local's request handler writes for one request, through the stack's patch."""
    handler = SimpleNamespace(
        address_string=lambda: "127.0.0.1",
        log_date_time_string=lambda: "01/Jan/2030 00:00:00",
    )
    captured = io.StringIO()
    real, sys.stderr = sys.stderr, captured
    try:
        # BaseHTTPRequestHandler.log_request's own call.
        api_server.log_message(handler, '"%s" %s %s', f"{method} {path} HTTP/1.1", str(status), "-")
    finally:
        sys.stderr = real
    return captured.getvalue()


@pytest.mark.parametrize(
    ("method", "path", "secret"),
    [
        ("GET", f"/invitations/{INVITATION}", INVITATION),
        ("POST", f"/invitations/{INVITATION}/accept", INVITATION),
        ("GET", f"/v1/invitations/{INVITATION}", INVITATION),
        ("POST", f"/v1/invitations/{INVITATION}/accept", INVITATION),
        ("GET", f"/api/v1/invitations/{INVITATION}", INVITATION),
        ("GET", f"/sign-in/{CODE}", CODE),
        ("POST", f"/sign-in/{CODE}", CODE),
        ("GET", f"/sign-in?next=/invitations/{INVITATION}", INVITATION),
        ("GET", f"/v1/auth/login-link/redeem?code={CODE}", CODE),
        ("GET", f"/anything?token={INVITATION}&limit=5", INVITATION),
    ],
)
def test_the_local_access_log_redacts_credentials_in_paths_and_queries(method: str, path: str, secret: str) -> None:
    line = access_line(path, method)
    assert secret not in line and secret[:12] not in line
    assert REDACTED in line and f'"{method} /' in line and "200 -" in line


def test_the_access_log_keeps_paths_that_carry_no_credential() -> None:
    for path in ("/orgs/org_1/invitations/inv_2/resend", "/v1/orgs/org_1/invitations?status=pending", "/sign-in"):
        assert path in access_line(path)


def test_chalice_local_uses_the_redacting_log_message() -> None:
    from chalice import local

    api_server._patch()
    assert local.ChaliceRequestHandler.log_message is api_server.log_message


def test_the_stack_relays_api_output_redacted_except_the_mailbox_mirror(caplog: pytest.LogCaptureFixture) -> None:
    from local.stack import Stack

    lines = [
        f'127.0.0.1 - - [x] "GET /invitations/{INVITATION} HTTP/1.1" 200 -\n',
        f"Traceback: ... /sign-in/{CODE}\n",
    ]
    process = SimpleNamespace(stdout=iter(lines))
    with caplog.at_level(logging.INFO, logger="local.api"):
        Stack._relay_api_output(process)  # type: ignore[arg-type]
    assert INVITATION not in caplog.text and CODE not in caplog.text
    assert caplog.text.count(REDACTED) == 2


def test_bearer_secrets_are_redacted_wherever_they_appear() -> None:
    secrets = ("oak_" + "a" * 43, "oat_" + "b" * 43, "osc_" + "c" * 43, "ose_" + "d" * 43, CODE)
    for secret in (*secrets, "oss_" + "e" * 43, "osa_" + "f" * 63):
        assert secret not in redact(f"Authorization: Bearer {secret} and again={secret}")
        assert secret[4:] not in redact(f"Authorization: Bearer {secret} and again={secret}")


def test_client_credentials_are_redacted_in_basic_headers_and_forms() -> None:
    import base64

    secret = "oss_" + "Zz" * 21
    basic = base64.b64encode(f"sa_{'0' * 20}:{secret}".encode()).decode()
    line = redact(f"authorization: Basic {basic} body grant_type=client_credentials&client_secret={secret}")
    assert basic not in line and secret not in line and secret[4:] not in line
    assert "grant_type=client_credentials" in line and "Basic [redacted]" in line
    assert access_line(f"/v1/oauth/token?client_secret={secret}", "POST").count(secret[4:]) == 0


def test_the_app_logs_no_client_secret_or_service_token(api: Api, seed: Seed, caplog: pytest.LogCaptureFixture) -> None:
    from tests.support import service_account_support as sa

    caplog.set_level(logging.DEBUG)
    client = sa.create(api, seed.org_id, seed.admin.key, ["members:read"])
    token = sa.grant(api, client).body["access_token"]
    assert sa.grant(api, client, use_basic=False).status == 200
    assert api.get(f"/v1/orgs/{seed.org_id}/members", token).status == 200
    assert api.get(f"/v1/orgs/{seed.org_id}/audit-log", token).status == 403
    wrong = sa.Client(client.client_id, client.client_secret[:-2] + "xx", client.secret_id)
    assert sa.grant(api, wrong).status == 401
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (client.client_secret, token, wrong.client_secret):
        assert secret not in logged and secret[4:] not in logged


def test_the_app_logs_no_link_or_code_while_they_are_used(
    api: Api, seed: Seed, mailer: MemoryMailer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invited = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["log.me@example.com"]})
    assert invited.status == 200, invited.body
    run_stream(stream_batch(seed.org_id))
    (token,) = links_to(mailer, "log.me@example.com")
    assert api.get(f"/v1/invitations/{token}").status == 200
    assert api.get(f"/invitations/{token}", headers={"Accept": "text/html"}).status == 200
    assert api.post(f"/v1/invitations/{token}/accept").status == 200
    assert api.post(f"/v1/invitations/{token}/accept").status == 409  # used: still nothing logged

    assert api.post("/v1/auth/login-link", json_body={"email": seed.member.email}).status == 202
    deliver_signins()
    code = signin_code(mailer, seed.member.email)
    assert api.get(f"/sign-in/{code}", headers={"Accept": "text/html"}).status == 200
    redeemed = api.post("/v1/auth/login-link/redeem", json_body={"code": code})
    assert redeemed.status == 201, redeemed.body
    assert api.post("/v1/auth/login-link/redeem", json_body={"code": code}).status == 400

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged and token.split(".")[-1] not in logged
    assert code not in logged and code[4:] not in logged
    assert redeemed.body["secret"] not in logged


def test_the_redacting_filter_rewrites_a_record_before_formatting() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "opened %s", (f"/sign-in/{CODE}",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"opened /sign-in/{REDACTED}"


def test_the_stack_redacts_app_log_lines_but_keeps_its_banner(capsys: pytest.CaptureFixture[str]) -> None:
    from local import stack

    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        stack.configure_logging()
        logging.getLogger("chalicelib.services.x").warning("accepting /invitations/%s", INVITATION)
        logging.getLogger("local.stack").info("API key    oak_%s", "k" * 43)
    finally:
        root.handlers[:], root.level = saved, level
    out = capsys.readouterr().out
    assert INVITATION not in out and f"/invitations/{REDACTED}" in out
    assert "oak_" + "k" * 43 in out


def test_the_outbox_mail_line_names_the_file_but_never_the_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.mail import templates
    from chalicelib.mail.base import OutboxMailer

    link = f"http://127.0.0.1:8000/sign-in/{CODE}"
    message = templates.login_code(
        to="ann@example.com",
        code=CODE,
        signin_url=link,
        redeem_url="http://127.0.0.1:8000/v1/auth/login-link/redeem",
        expires_at=datetime.now(UTC),
    )
    OutboxMailer(tmp_path, "no-reply@example.com").send(message)
    printed = capsys.readouterr().out
    [written] = tmp_path.glob("*.eml")
    assert printed.startswith("[mail] to ann@example.com: ") and str(written) in printed
    assert CODE not in printed and "/sign-in/" not in printed
    assert CODE.encode() in written.read_bytes()  # the message itself still carries it
