"""Transaction items that declare what their failure means (``on_fail``), on both backends.

The commit raises the declared error of the first failing item that declared
one; items without a declaration (or adding items) never shift another item's
meaning; ``lost_race`` keeps the cancellation (a race, retried by ``retry_races``).
"""

from __future__ import annotations

import pytest

from chalicelib.clock import now
from chalicelib.domain.errors import Forbidden, LastAdmin, NotFound, SeatLimitReached
from chalicelib.storage.base import CancelReason, TransactionCancelled, Tx, lost_race
from chalicelib.storage.orgs import OrgModel


def org_item(org_id: str, **kw: object) -> OrgModel:
    return OrgModel(org_id, name=org_id, created_at=now(), **kw)


def exists(tx: Tx, org_id: str, **kw: object) -> None:
    """A put that fails: the org exists (and nothing declared for it)."""
    tx.put(org_item(org_id), condition=OrgModel.org_id.does_not_exist(), **kw)  # type: ignore[arg-type]


def missing(tx: Tx, org_id: str, **kw: object) -> None:
    """An update that fails: no such org."""
    tx.update(OrgModel(org_id), [OrgModel.admin_count.add(1)], condition=OrgModel.org_id.exists(), **kw)  # type: ignore[arg-type]


def test_the_first_failing_item_with_a_declared_meaning_decides(tables: str) -> None:
    org_item("org_x").save()
    tx = Tx()
    tx.put(org_item("org_new"))  # succeeds on its own
    exists(tx, "org_x")  # fails, no meaning declared: skipped
    missing(tx, "org_gone", on_fail=SeatLimitReached)  # fails: this is the answer
    missing(tx, "org_gone2", on_fail=LastAdmin)  # fails too, but later
    with pytest.raises(SeatLimitReached) as info:
        tx.commit()
    cancelled = info.value.__cause__
    assert isinstance(cancelled, TransactionCancelled) and cancelled.failed_indexes() == [1, 2, 3]
    assert OrgModel.count("org_new", consistent_read=True) == 0  # nothing written


def test_an_item_added_in_front_does_not_change_what_a_failure_means(tables: str) -> None:
    for extra in range(3):
        tx = Tx()
        for n in range(extra):
            tx.put(org_item(f"org_ok{n}"))
        missing(tx, "org_gone", on_fail=lambda _: NotFound("No such organization."))
        with pytest.raises(NotFound, match="No such organization"):
            tx.commit()


def test_a_declared_lost_race_keeps_the_cancellation_over_later_meanings(tables: str) -> None:
    tx = Tx()
    missing(tx, "org_gone", on_fail=lost_race)
    missing(tx, "org_gone2", on_fail=LastAdmin)
    with pytest.raises(TransactionCancelled) as info:
        tx.commit()
    assert info.value.retryable and info.value.failed_indexes() == [0, 1]


def test_a_meaning_may_read_the_reason_and_decline(tables: str) -> None:
    org_item("org_y", seats_used=3).save()
    seen: list[CancelReason] = []

    def below(reason: CancelReason) -> Exception | None:
        seen.append(reason)
        return SeatLimitReached() if reason.item is not None and reason.item["seats_used"] == {"N": "3"} else None

    tx = Tx()
    tx.update(
        OrgModel("org_y"),
        [OrgModel.seats_used.add(1)],
        condition=OrgModel.seats_used < 3,
        return_old=True,
        on_fail=below,
    )
    with pytest.raises(SeatLimitReached):
        tx.commit()
    assert [r.code for r in seen] == ["ConditionalCheckFailed"]
    tx = Tx()  # no old item (no return_old): declined, the cancellation stands
    tx.update(OrgModel("org_y"), [OrgModel.seats_used.add(1)], condition=OrgModel.seats_used < 2, on_fail=below)
    with pytest.raises(TransactionCancelled):
        tx.commit()


def test_undeclared_failures_raise_the_cancellation_with_handles_to_ask(tables: str) -> None:
    org_item("org_z").save()
    tx = Tx()
    ok = tx.put(org_item("org_new2"))
    failed = tx.put(org_item("org_z"), condition=OrgModel.org_id.does_not_exist(), return_old=True)
    with pytest.raises(TransactionCancelled) as info:
        tx.commit()
    assert not info.value.failed(ok) and info.value.failed(failed)
    reason = info.value.reason_for(failed)
    assert reason is not None and reason.item is not None and reason.item["org_id"] == {"S": "org_z"}


def test_a_guard_wins_over_every_declared_meaning(tables: str) -> None:
    tx = Tx()
    missing(tx, "org_gone", on_fail=SeatLimitReached)
    tx.guard(
        OrgModel, "org_caller", None, OrgModel.org_id.exists(), lambda: Forbidden("no longer allowed"), lambda: False
    )
    with pytest.raises(Forbidden, match="no longer allowed"):
        tx.commit()


def test_a_conflict_is_never_mapped(tables: str) -> None:
    tx = Tx()
    missing(tx, "org_gone", on_fail=SeatLimitReached)
    conflict = TransactionCancelled([CancelReason("TransactionConflict", None)])
    assert tx.answer(conflict) is None
    refused = TransactionCancelled([CancelReason("ConditionalCheckFailed", None)])
    assert isinstance(tx.answer(refused), SeatLimitReached)
