"""A planned filter matches exactly what scim2-models' own evaluation matches (no AWS: pure evaluation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.scim.filters import FilterPlan, parse_user_filter
from chalicelib.scim.users import to_user
from chalicelib.storage.members import MemberModel

STAMP = datetime(2026, 5, 1, tzinfo=UTC)
USERS = [
    to_user(
        MemberModel(
            "org_1",
            f"acc_{n}",
            email=f"user{n}@acme.test",
            role=("member", "account_admin", "billing_manager")[n % 3],
            has_seat=n % 2 == 0,
            joined_at=STAMP,
            updated_at=STAMP,
            name=f"User {n}" if n % 4 else None,
            external_id=f"ext-{n}" if n % 5 else None,
        ),
        "https://members.example",
    )
    for n in range(40)
]

FILTERS = [
    'userName eq "user7@acme.test"',
    'userName eq "USER7@ACME.TEST"',  # caseExact false
    'userName sw "user1"',
    'userName ew "3@acme.test"',
    'displayName co "ser 1"',
    "displayName pr",
    "not (displayName pr)",
    'externalId eq "ext-3"',
    'externalId eq "EXT-3"',  # caseExact true
    "active eq true",
    'active eq false and userName co "2"',
    'emails[value co "user2"]',
    'emails.value ew "9@acme.test" or externalId pr',
    'title co "x"',
    'userName ne "user1@acme.test"',
    " or ".join(f'userName co "{n}3"' for n in range(60)),
    " and ".join(f'userName ne "user{n}@acme.test"' for n in range(30)),
]


@pytest.mark.parametrize("text", FILTERS)
def test_a_planned_filter_matches_what_scim2_models_matches(text: str) -> None:
    scim_filter = parse_user_filter(text)
    assert scim_filter is not None
    plan = FilterPlan(scim_filter)
    expected = [u.id for u in USERS if scim_filter.match(u)]
    assert [u.id for u in USERS if plan.match(u)] == expected
    assert [u.id for u in USERS if plan.match(u)] == expected  # the plan is reused as it is kept
