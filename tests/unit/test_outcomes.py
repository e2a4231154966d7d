"""Per-item outcomes: one enum with the API's words, one counter, schema fields that take only their subset,
and the one retry loop for lost races."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.domain.errors import Conflict
from chalicelib.domain.invitations import InvitationStatus
from chalicelib.domain.outcomes import INVITE_OUTCOMES, Outcome, tally
from chalicelib.http.schemas_invitations import InvitationOut, InviteResultOut
from chalicelib.storage.base import CancelReason, TransactionCancelled, any_cancellation, retry_races


@dataclass
class R:
    status: Outcome


def test_the_json_words_are_the_enum_values() -> None:
    assert json.dumps({"status": Outcome.SEAT_LIMIT_REACHED}) == '{"status": "seat_limit_reached"}'
    assert f"{Outcome.ALREADY_INVITED}" == "already_invited"


def test_tally_lists_every_invitation_status_after_the_total() -> None:
    results = [R(Outcome.INVITED), R(Outcome.INVITED), R(Outcome.FORBIDDEN)]
    counts = tally(results, INVITE_OUTCOMES)
    assert list(counts) == ["total", *[str(s) for s in INVITE_OUTCOMES], "forbidden"]
    assert counts["total"] == 3 and counts["invited"] == 2 and counts["forbidden"] == 1
    assert counts["already_member"] == 0


def test_tally_without_a_list_counts_only_what_occurs() -> None:
    results = [R(Outcome.ASSIGNED), R(Outcome.SEAT_LIMIT_REACHED), R(Outcome.ASSIGNED)]
    assert tally(results) == {"assigned": 2, "seat_limit_reached": 1}
    assert tally([]) == {}


def test_a_schema_field_takes_only_its_outcomes_and_documents_them_like_a_literal() -> None:
    ok = InviteResultOut(email="a@b.test", status=Outcome.INVITED)
    assert ok.model_dump(mode="json")["status"] == "invited"
    with pytest.raises(ValidationError):
        InviteResultOut(email="a@b.test", status=Outcome.ASSIGNED)

    class Literally(BaseModel):
        status: Literal["pending", "accepted", "expired", "revoked"]

    documented = InvitationOut.model_json_schema()["properties"]["status"]
    assert documented == Literally.model_json_schema()["properties"]["status"]
    assert [InvitationStatus(v) for v in documented["enum"]] == list(InvitationStatus)


def cancelled(code: str) -> TransactionCancelled:
    return TransactionCancelled([CancelReason(code, None)])


def test_retry_races_retries_lost_races_and_gives_409_after_its_attempts() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise cancelled("TransactionConflict")
        return "done"

    assert retry_races(attempt) == "done" and len(calls) == 3

    def always() -> None:
        calls.append(1)
        raise cancelled("ConditionalCheckFailed")

    calls.clear()
    with pytest.raises(Conflict):
        retry_races(always, attempts=4)
    assert len(calls) == 4


def test_retry_races_says_which_cancellations_are_races() -> None:
    calls: list[int] = []

    def validation() -> None:
        calls.append(1)
        raise cancelled("ValidationError")

    with pytest.raises(TransactionCancelled):  # not a race: at once
        retry_races(validation)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(Conflict):  # every cancellation read again
        retry_races(validation, attempts=3, races=any_cancellation)
    assert len(calls) == 3
