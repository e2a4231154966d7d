"""Invariants under concurrent requests, on DynamoDB Local (the real engine's transactions).

Threads call the services directly: Chalice keeps ``current_request`` on the
app object (one request per Lambda process), so concurrent calls through one
app in one process would read each other's requests.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import (
    AlreadyMember,
    CannotChangeOwnRole,
    Conflict,
    DomainError,
    Forbidden,
    LastAdmin,
    NotFound,
)
from chalicelib.domain.models import Actor, Member
from chalicelib.domain.roles import Role
from chalicelib.services import accounts, bootstrap, members
from chalicelib.storage.accounts import AccountModel, email_claim_key
from chalicelib.storage.audit import AuditModel
from chalicelib.storage.base import Tx
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import verify_domain_of

THREADS = 20
# What a losing request may get: the rule held, the target is gone, the caller lost its rights, or retry later.
EXPECTED_REFUSALS = (LastAdmin, NotFound, Forbidden, CannotChangeOwnRole, Conflict)


def actor(account_id: str, n: int) -> Actor:
    return Actor(actor=f"account:{account_id}", request_id=f"race-{n}", account_id=account_id)


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment; return each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))

    def go(call: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(go, calls))


def real_counts(org_id: str) -> tuple[int, int, int]:
    """(stored admin_count, admins among the members, member rows)."""
    rows = list(MemberModel.query(org_id, consistent_read=True))
    org = OrgModel.get(org_id, consistent_read=True)
    assert int(org.member_count) == len(rows), "member_count drifted"
    return int(org.admin_count), sum(1 for m in rows if m.role == Role.ACCOUNT_ADMIN.value), len(rows)


@pytest.mark.parametrize("round_no", range(3))
def test_two_admins_never_lose_the_last_one(local_tables: str, round_no: int) -> None:
    boot = bootstrap.bootstrap(f"Race {round_no}", f"a{round_no}@race.test")
    verify_domain_of(boot.org_id, boot.account_id, "race.test")
    org = boot.org_id
    a = boot.account_id
    b = members.add_member(org, actor(a, 0), f"b{round_no}@race.test", Role.ACCOUNT_ADMIN).member.account_id
    for i in range(3):
        members.add_member(org, actor(a, 0), f"m{round_no}-{i}@race.test", Role.MEMBER)
    assert real_counts(org)[:2] == (2, 2)

    rng = random.Random(round_no)
    ops: list[Callable[[], object]] = []
    for n in range(THREADS):
        me, other = (a, b) if n % 2 == 0 else (b, a)
        kind = rng.choice(["demote", "remove", "leave", "demote_billing"])
        if kind == "demote":
            ops.append(lambda me=me, other=other, n=n: members.change_role(org, actor(me, n), other, Role.MEMBER))
        elif kind == "demote_billing":
            ops.append(
                lambda me=me, other=other, n=n: members.change_role(org, actor(me, n), other, Role.BILLING_MANAGER)
            )
        elif kind == "remove":
            ops.append(lambda me=me, other=other, n=n: members.remove_member(org, actor(me, n), other))
        else:
            ops.append(lambda me=me, n=n: members.remove_member(org, actor(me, n), me))

    results = run_together(ops)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, EXPECTED_REFUSALS)]
    assert not unexpected, unexpected
    stored, admins, _ = real_counts(org)
    assert admins >= 1, "the org lost its last admin"
    assert stored == admins, f"admin_count {stored} but {admins} admins"
    # Exactly one admin-losing change can win against two admins.
    wins = sum(1 for r in results if not isinstance(r, Exception))
    assert admins == 1 and wins >= 1, Counter(type(r).__name__ for r in results)


def test_concurrent_adds_of_one_email_make_one_member(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Adds", "admin@adds.test")
    verify_domain_of(boot.org_id, boot.account_id, "adds.test")
    org = boot.org_id
    emails = ["same@adds.test", "SAME@adds.test", " same@ADDS.test "] * 4
    results = run_together(
        [
            lambda e=e, n=n: members.add_member(org, actor(boot.account_id, n), e, Role.MEMBER)
            for n, e in enumerate(emails)
        ]
    )
    wins = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1, Counter(type(r).__name__ for r in results)
    assert all(isinstance(e, AlreadyMember | Conflict) for e in errors), errors
    _, _, rows = real_counts(org)
    assert rows == 2
    # One account and one email claim for the address.
    claim = AccountModel.get(email_claim_key("same@adds.test"), consistent_read=True)
    account = accounts.find_by_email("same@adds.test")
    assert account is not None and claim.owner == account.account_id
    holders = [i for i in AccountModel.scan(consistent_read=True) if i.email == "same@adds.test" and i.owner is None]
    assert [h.account_id for h in holders] == [account.account_id]


def test_concurrent_adds_of_different_emails_count_exactly(local_tables: str) -> None:
    boot = bootstrap.bootstrap("Many", "admin@many.test")
    verify_domain_of(boot.org_id, boot.account_id, "many.test")
    org = boot.org_id
    results = run_together(
        [
            lambda n=n: members.add_member(org, actor(boot.account_id, n), f"p{n}@many.test", Role.MEMBER)
            for n in range(THREADS)
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, DomainError) for e in errors), errors
    _, _, rows = real_counts(org)
    assert rows == 1 + THREADS - len(errors)
    assert not [e for e in errors if not isinstance(e, Conflict)], errors


@pytest.mark.parametrize("change", ["remove", "demote", "add"])
def test_an_admin_demoted_mid_request_cannot_finish_it(
    local_tables: str, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A is authorized as admin, then demoted by B before A's change commits: the change is refused."""
    boot = bootstrap.bootstrap("Stale", "a@stale.test")
    org, a = boot.org_id, boot.account_id
    verify_domain_of(org, a, "stale.test")
    b = members.add_member(org, actor(a, 0), "b@stale.test", Role.ACCOUNT_ADMIN).member.account_id
    target = members.add_member(org, actor(a, 0), "t@stale.test", Role.MEMBER).member.account_id
    audit_before = len(list(AuditModel.query(org, consistent_read=True)))

    # Demote A at the moment A's request reads its target (after A's authorization).
    real_found_or_added_to = accounts.found_or_added_to
    real_get_item = members.get_item
    demoted: list[bool] = []

    def demote_a_once() -> None:
        if not demoted:
            demoted.append(True)
            members.change_role(org, actor(b, 1), a, Role.MEMBER)

    def get_item(org_id: str, account_id: str) -> Member | None:
        demote_a_once()
        return real_get_item(org_id, account_id)

    def found_or_added_to(tx: Tx, email: str) -> accounts.Account:
        demote_a_once()
        return real_found_or_added_to(tx, email)

    monkeypatch.setattr(members, "get_item", get_item)
    monkeypatch.setattr(accounts, "found_or_added_to", found_or_added_to)
    with pytest.raises(Forbidden):
        if change == "remove":
            members.remove_member(org, actor(a, 2), target)
        elif change == "demote":
            members.change_role(org, actor(a, 2), b, Role.MEMBER)
        else:
            members.add_member(org, actor(a, 2), "late@stale.test", Role.MEMBER)
    monkeypatch.undo()
    assert demoted
    assert members.find(org, target) is not None and members.find(org, b).role is Role.ACCOUNT_ADMIN
    assert real_counts(org) == (1, 1, 3)
    # Only B's demotion of A was recorded.
    assert len(list(AuditModel.query(org, consistent_read=True))) == audit_before + 1
