"""A process killed between claiming an invitation email and recording it loses no email (DynamoDB Local).

The Invitations stream handler runs in a child process against DynamoDB
Local and writes mail to an outbox folder. The child SIGKILLs itself in the
middle of a burst, right after it claimed an email and before it sent it: the
worst moment. Then, as in AWS, the stream hands the batch again (a replay),
and the hourly job runs once the claim's lease is over. Every invitation must
end up with its email, none left ``sending``; the API shows the stuck one as
``failed`` while it waits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib.clock import set_clock
from chalicelib.config import get_settings
from chalicelib.domain.invitations import FAILED, SENDING, SENT, InviteItem
from chalicelib.domain.models import Actor
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import OutboxMailer
from chalicelib.services import invitations, jobs
from chalicelib.storage.invitations import InvitationModel
from tests.support.helpers import Api, seed_org
from tests.support.invitation_support import stream_batch
from tests.support.stream_support import counts

ROOT = Path(__file__).resolve().parents[2]
BURST, DIE_AT = 40, 12

CHILD = r"""
import json, os, signal, sys
from pathlib import Path
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import OutboxMailer
from chalicelib.events.streams import on_invitation_change

class Context:
    aws_request_id = "req-dies-mid-burst"

class DiesMidBurst(OutboxMailer):
    sends = 0
    def send(self, message):
        DiesMidBurst.sends += 1
        if DiesMidBurst.sends == int(os.environ["DIE_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)  # claimed, not sent, not recorded
        return super().send(message)

reset_mailer(DiesMidBurst(Path(sys.argv[2]), "no-reply@example.com"))
on_invitation_change(json.loads(Path(sys.argv[1]).read_text()), Context())
"""


def outbox_addresses(folder: Path) -> list[str]:
    return sorted(p.name.split("-", 1)[1].removesuffix(".eml") for p in folder.glob("*.eml"))


def test_a_send_lost_with_its_process_is_sent_after_the_lease(local_tables: str, tmp_path: Path) -> None:
    api = Api()
    seed = seed_org(api)
    admin = Actor(actor=f"account:{seed.admin.account_id}", request_id="t", account_id=seed.admin.account_id)
    emails = [f"burst{i:02d}@example.com" for i in range(BURST)]
    outcome = invitations.invite(seed.org_id, admin, [InviteItem(email=e) for e in emails])
    assert all(r.status == "invited" for r in outcome.results)

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(stream_batch(seed.org_id)))
    outbox = tmp_path / "outbox"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(batch), str(outbox)],
        cwd=ROOT,
        env={**os.environ, "DIE_AT": str(DIE_AT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert len(outbox_addresses(outbox)) == DIE_AT - 1
    items = {i.email: i for i in InvitationModel.query(seed.org_id, consistent_read=True) if i.email in emails}
    stuck = [e for e, i in items.items() if i.delivery_status == SENDING]
    assert len(stuck) == 1, stuck  # the one claimed when the process died

    mailer = OutboxMailer(outbox, "no-reply@example.com")
    reset_mailer(mailer)
    try:
        # The stream hands the batch again: the queued ones go out; the live claim is left alone.
        replay = counts("on_invitation_change", stream_batch_from(batch))
        assert replay[SENT] == BURST - DIE_AT and replay["skipped"] == DIE_AT, replay
        invitation_id = items[stuck[0]].invitation_id
        shown = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
        assert shown["delivery"]["status"] == "sending", shown
        # However loaded the machine, the claim is live until the clock passes its lease.
        set_clock(lambda: datetime.now(UTC) + timedelta(seconds=get_settings().send_lease_seconds + 1))
        shown = api.get(f"/v1/orgs/{seed.org_id}/invitations/{invitation_id}", seed.admin.key).body
        assert shown["delivery"]["status"] == FAILED and "sent again" in shown["delivery"]["error"], shown

        ran = jobs.expire_invitations("hourly")
        assert ran["lost_sends"] == 1 and ran[SENT] == 1, ran
        again = jobs.expire_invitations("hourly-2")
        assert again["lost_sends"] == 0 and again[SENT] == 0, again  # the index no longer holds it
    finally:
        reset_mailer(None)

    assert sorted(set(outbox_addresses(outbox))) == emails  # every invitation got its email
    assert len(outbox_addresses(outbox)) == BURST  # and this time none twice (the claim died before sending)
    after = [i for i in InvitationModel.query(seed.org_id, consistent_read=True) if i.email in emails]
    assert {i.delivery_status for i in after} == {SENT}
    assert all(i.sending_shard is None and i.send_claimed_at is None for i in after)


def stream_batch_from(path: Path) -> list[dict[str, object]]:
    records: list[dict[str, object]] = json.loads(path.read_text())["Records"]
    return records
