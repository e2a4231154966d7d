"""Races against DynamoDB Local (the real engine): conditions, not luck, decide."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import DomainError
from chalicelib.domain.invitations import InviteItem
from chalicelib.domain.models import Actor
from chalicelib.services import bootstrap, invitation_accept, invitation_links, invitations
from chalicelib.storage.accounts import AccountModel, email_claim_key
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.invitations import InvitationModel, slot_id
from chalicelib.storage.members import MemberModel


def admin_of(boot: bootstrap.Bootstrapped) -> Actor:
    return Actor(actor=f"account:{boot.account_id}", request_id="test", account_id=boot.account_id)


def test_twenty_concurrent_accepts_make_one_membership(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Race", "admin@race.test")
    invitations.invite(boot.org_id, admin_of(boot), [InviteItem("racer@race.test")])
    item = InvitationModel.get(boot.org_id, slot_id(boot.org_id, "racer@race.test"))
    token = invitation_links.token_for(item.org_id, item.invitation_id, str(item.link_nonce))

    def attempt(i: int) -> str:
        try:
            invitation_accept.accept(token, None, f"req-{i}")
        except DomainError as exc:
            return exc.code
        return "accepted"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("accepted") == 1, outcomes
    assert set(outcomes) <= {"accepted", "already_accepted"}, outcomes
    joined = [m for m in MemberModel.query(boot.org_id) if m.email == "racer@race.test"]
    assert len(joined) == 1
    claim = AccountModel.get(email_claim_key("racer@race.test"))
    assert claim.owner == joined[0].account_id
    accepted = [a for a in AuditModel.query(boot.org_id) if a.action == "invitation.accepted"]
    assert len(accepted) == 1


def test_concurrent_invites_of_one_email_make_one_pending_invitation(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Race", "admin@race.test")
    actor = admin_of(boot)

    def attempt(i: int) -> str:
        email = "Same@Race.test" if i % 2 else " same@race.test"
        return (
            invitations.invite(boot.org_id, actor, [InviteItem(email), InviteItem(f"other{i}@race.test")])
            .results[0]
            .status
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("invited") == 1, outcomes
    assert outcomes.count("already_invited") == 9, outcomes
    item = InvitationModel.get(boot.org_id, slot_id(boot.org_id, "same@race.test"), consistent_read=True)
    assert item.status == "pending" and item.issue == 1
    created = [a for a in AuditModel.query(boot.org_id) if a.action == "invitation.created"]
    assert len(created) == 11  # one for the shared email, one per distinct other email


def test_concurrent_bulk_invites_never_pass_the_daily_quota(local_tables: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four bulk calls of 60 (two transactions each) race for a quota of 100: exactly 100 get in."""
    from chalicelib.storage.quotas import QuotaModel
    from tests.support.helpers import set_limits

    set_limits(monkeypatch, INVITATIONS_PER_NEW_ORG_DAY=100)
    boot = bootstrap.bootstrap("Race", "admin@race.test")
    actor = admin_of(boot)

    def attempt(i: int) -> list[str]:
        items = [InviteItem(f"c{i}-{n}@race.test") for n in range(60)]
        return [r.status for r in invitations.invite(boot.org_id, actor, items).results]

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = [s for call in pool.map(attempt, range(4)) for s in call]
    assert outcomes.count("invited") == 100, outcomes
    assert outcomes.count("invitation_quota_exceeded") == 140
    pending = [i for i in InvitationModel.query(boot.org_id, consistent_read=True) if i.status == "pending"]
    assert len(pending) == 100
    counters = {q.quota_id.split("#")[0]: int(q.used) for q in QuotaModel.scan(consistent_read=True)}
    assert counters == {"org": 100, "account": 100}
