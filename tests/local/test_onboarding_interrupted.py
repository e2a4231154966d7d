"""An onboarding killed after some items committed strands no live token secret; rerunning it repairs (DynamoDB Local).

The onboarding runs in a child process that SIGKILLs itself after its
``DIE_AFTER``-th item committed, before any answer exists. The child also
writes down every secret it minted (the secrets nobody received), so the
test can check that none of them verifies. Rerunning the same onboarding
over the API revokes those tokens and answers new ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from chalicelib.services import tokens
from chalicelib.storage.tokens import TokenModel, access_token_owner
from tests.support.helpers import Api, seed_org

ROOT = Path(__file__).resolve().parents[2]
EMAILS = [f"hire{i}@acme.test" for i in range(6)]
DIE_AFTER = 3

CHILD = r"""
import json, os, signal, sys
from pathlib import Path
from chalicelib.domain.models import Actor
from chalicelib.services import onboarding, tokens

minted = Path(sys.argv[2])
original_item, original_one = tokens.new_token_item, onboarding._onboard_one

def noting_item(*args, **kwargs):
    item, secret = original_item(*args, **kwargs)
    with minted.open("a") as f:
        f.write(secret + "\n")
    return item, secret

done = 0
def dying_one(*args, **kwargs):
    global done
    result = original_one(*args, **kwargs)
    done += 1
    if done == int(os.environ["DIE_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)  # committed, not answered
    return result

tokens.new_token_item, onboarding._onboard_one = noting_item, dying_one
args = json.loads(sys.argv[1])
actor = Actor(actor="account:" + args["admin"], request_id="child", account_id=args["admin"])
onboarding.onboard(args["org"], actor, args["emails"], token=onboarding.TokenRequest("laptop"))
"""


def test_an_interrupted_onboarding_strands_no_live_token_and_a_rerun_answers_new_ones(
    local_tables: str, tmp_path: Path
) -> None:
    api = Api()
    seed = seed_org(api)
    minted = tmp_path / "minted.txt"
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            json.dumps({"org": seed.org_id, "admin": seed.admin.account_id, "emails": EMAILS}),
            str(minted),
        ],
        cwd=ROOT,
        env={**os.environ, "DIE_AFTER": str(DIE_AFTER)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    lost = minted.read_text().split()
    assert len(lost) == DIE_AFTER  # committed with their tokens, never answered
    assert all(tokens.verify(secret) == {"active": False} for secret in lost)

    body = {"emails": EMAILS, "issue_token": {"name": "laptop"}}
    rerun = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, body)
    assert rerun.status == 200, rerun.body
    items = rerun.body["items"]
    assert [i["status"] for i in items] == ["already_member"] * DIE_AFTER + ["onboarded"] * (len(EMAILS) - DIE_AFTER)
    answered = [i["token"]["secret"] for i in items]
    assert all(tokens.verify(secret)["active"] is True for secret in answered)  # every member has a live token
    assert all(tokens.verify(secret) == {"active": False} for secret in lost)  # the stranded ones stay dead

    # No live token anywhere whose secret was not in an answer.
    answered_ids = {i["token"]["token_id"] for i in items}
    for item in items:
        owned = TokenModel.by_owner.query(access_token_owner(seed.org_id, item["account_id"]))
        live = {t.token_id for t in owned if t.revoked_at is None and not t.awaiting_handover}
        assert live <= answered_ids, (item["email"], live)
    stranded = [
        t
        for item in items[:DIE_AFTER]
        for t in TokenModel.by_owner.query(access_token_owner(seed.org_id, item["account_id"]))
        if t.revoked_reason == tokens.STRANDED
    ]
    assert len(stranded) == DIE_AFTER

    # A third run finds nothing stranded: plain already_member, no new tokens.
    third = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, body).body["items"]
    assert [i["status"] for i in third] == ["already_member"] * len(EMAILS)
    assert all(i["token"] is None for i in third)
