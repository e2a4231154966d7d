"""Header safety covers every Unicode line break (issue 12, finding 10)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import Message, OutboxMailer, SesMailer, header_safe
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import run_stream, stream_batch

BREAKS = ["\r", "\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("ch", BREAKS, ids=[f"U+{ord(c):04X}" for c in BREAKS])
def test_header_safe_leaves_one_line(ch: str) -> None:
    value = header_safe(f"Acme{ch}Bcc: victim{ch}{ch}x")
    assert value.splitlines() == [value] and ch not in value
    mime = Message(to="a@example.com", subject=f"Join Acme{ch}Corp", text="t", html="<p>t</p>").to_mime(
        f"no-reply@example.com{ch}"
    )
    assert mime["Bcc"] is None
    assert str(mime["Subject"]) == "Join Acme Corp"
    assert b"Join Acme Corp" in bytes(mime)


@pytest.mark.parametrize("ch", BREAKS, ids=[f"U+{ord(c):04X}" for c in BREAKS])
def test_a_mail_of_an_org_with_a_line_break_in_its_name_is_sent(api: Api, seed: Seed, tmp_path: Path, ch: str) -> None:
    OrgModel(seed.org_id).update(actions=[OrgModel.name.set(f"Acme{ch}Corp")])  # stored before names were checked
    reset_mailer(OutboxMailer(tmp_path, "no-reply@example.com"))  # builds the MIME message, as the local stack does
    try:
        r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["line@example.com"]})
        assert r.status == 200
        assert run_stream(stream_batch(seed.org_id))["sent"] == 1
    finally:
        reset_mailer(None)
    [eml] = list(tmp_path.glob("*.eml"))
    assert b"Subject: You are invited to join Acme Corp" in eml.read_bytes()


def test_ses_sends_the_mail_of_an_org_named_with_unicode_line_breaks(api: Api, seed: Seed) -> None:
    OrgModel(seed.org_id).update(actions=[OrgModel.name.set("Acme\u2028Corp\u0085Ltd\u2029")])
    boto3.client("sesv2", region_name=get_settings().aws_region).create_email_identity(
        EmailIdentity=get_settings().mail_sender
    )
    mailer = SesMailer(get_settings())
    sent: list[dict] = []
    original = mailer.client.send_email

    def recording(**params: object) -> object:
        sent.append(dict(params))
        return original(**params)

    mailer.client.send_email = recording
    reset_mailer(mailer)
    try:
        api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["ses@example.com"]})
        assert run_stream(stream_batch(seed.org_id))["sent"] == 1
    finally:
        reset_mailer(None)
    [params] = sent
    subject = params["Content"]["Simple"]["Subject"]["Data"]  # type: ignore[index]
    assert subject == "You are invited to join Acme Corp Ltd"
