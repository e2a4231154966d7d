"""Invitation email delivery from the stream: once per issue, failures kept and resendable; no secret at rest."""

from __future__ import annotations

import json

import boto3

from chalicelib.config import get_settings
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MemoryMailer, SesMailer
from chalicelib.storage.base import client, registered_models
from chalicelib.storage.invitations import InvitationModel
from tests.support.console_support import deliver_signins, signin_code
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_expiry_job, run_stream, stream_batch


def invite(api: Api, seed: Seed, *emails: str) -> list[str]:
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": list(emails)})
    assert r.status == 200, r.body
    return [x["invitation_id"] for x in r.body["results"]]


def test_replayed_batch_sends_one_email(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    invite(api, seed, "once@example.com", "twice@example.com")
    batch = stream_batch(seed.org_id)
    first = run_stream(batch)
    assert first["sent"] == 2
    second = run_stream(batch)  # Lambda retries the whole batch
    assert second["sent"] == 0 and second["skipped"] == 2
    run_stream(stream_batch(seed.org_id))  # the MODIFY records of our own status updates
    assert sorted(m.to for m in mailer.sent) == ["once@example.com", "twice@example.com"]


def test_records_that_ask_for_nothing_are_ignored(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    [invitation_id] = invite(api, seed, "quiet@example.com")
    assert api.delete(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).status == 204
    batch = stream_batch(seed.org_id)
    batch["Records"].append({**batch["Records"][0], "eventName": "REMOVE"})
    assert run_stream(batch)["sent"] == 0
    assert mailer.sent == []


def test_html_and_subject_are_escaped(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    r = api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": "Evil <b>Co</b> Bcc: victim"})
    assert r.status == 200, r.body
    invite(api, seed, "target@example.com")
    run_stream(stream_batch(seed.org_id))
    [message] = mailer.sent
    assert "<b>Co</b>" not in message.html and "&lt;b&gt;Co&lt;/b&gt;" in message.html
    mime = message.to_mime("no-reply@example.com")
    assert mime["Bcc"] is None and "\n" not in str(mime["Subject"])


def test_ses_failure_keeps_the_invitation_and_resend_works(api: Api, seed: Seed) -> None:
    ses = boto3.client("sesv2", region_name=get_settings().aws_region)
    reset_mailer(SesMailer(get_settings()))  # the real SES sender, on moto: the sender is not verified yet
    try:
        [invitation_id] = invite(api, seed, "bounce@example.com")
        assert run_stream(stream_batch(seed.org_id))["failed"] == 1
        got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
        assert got["status"] == "pending"
        assert got["delivery"]["status"] == "failed" and "MessageRejected" in got["delivery"]["error"]
        listed = api.get(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key).body["items"]
        assert [i["delivery"]["status"] for i in listed] == ["failed"]

        ses.create_email_identity(EmailIdentity=get_settings().mail_sender)
        assert api.post(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}/resend", seed.admin.key).status == 200
        assert run_stream(stream_batch(seed.org_id))["sent"] == 1
        got = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
        assert got["delivery"] == {"status": "sent", "error": None, "sent_at": got["delivery"]["sent_at"]}
        assert got["issue"] == 2
    finally:
        reset_mailer(None)


def scan_everything() -> str:
    dump = []
    for model in registered_models():
        paginator = client().get_paginator("scan")
        for page in paginator.paginate(TableName=model.Meta.table_name):
            dump.extend(page["Items"])
    return json.dumps(dump)


def test_no_link_or_code_secret_at_rest(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    ids = invite(api, seed, "a@example.com", "b@example.com", "c@example.com")
    run_stream(stream_batch(seed.org_id))
    api.post(f"/v1/orgs/{seed.org_id}/invitations/resend", seed.admin.key, {"invitation_ids": ids[:2]})
    run_stream(stream_batch(seed.org_id))
    accepted = api.post(f"/v1/invitations/{links_to(mailer, 'a@example.com')[-1]}/accept")
    assert accepted.status == 200
    assert api.post("/v1/auth/login-link", json_body={"email": "a@example.com"}).status == 202
    deliver_signins()
    secrets_mailed = [signin_code(mailer, "a@example.com")]
    run_expiry_job()

    secrets = [accepted.body["api_key"]["secret"], *seed.secrets, *secrets_mailed]
    for message in mailer.sent:
        for token in links_to(mailer, message.to):
            secrets += [token, token.rsplit(".", 1)[1]]
        if "sign-in code" in message.text:
            secrets.append(message.text.split("one-time code: ")[1].split()[0])
    dump = scan_everything()
    assert len(secrets) > 8
    for secret in secrets:
        assert secret not in dump
    nonces = [i.link_nonce for i in InvitationModel.query(seed.org_id) if i.link_nonce]
    assert nonces  # what is stored is the nonce, useless without the server key
