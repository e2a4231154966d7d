"""Abuse limits over HTTP (issue 12, finding 5): daily quotas, the resend cooldown, org names in mail."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.clock import set_clock
from chalicelib.mail.base import MemoryMailer
from chalicelib.storage.orgs import OrgModel
from tests.support.helpers import Api, Seed, set_limits
from tests.support.invitation_support import run_stream, stream_batch

SPAM_NAME = "ACME IT - Your mailbox is full, sign in at https://evil.example/login"


def invite(api: Api, seed: Seed, *emails: str, org_id: str | None = None) -> list[dict[str, Any]]:
    r = api.post(f"/v1/orgs/{org_id or seed.org_id}/invitations", seed.admin.key, {"emails": list(emails)})
    assert r.status == 200, r.body
    return list(r.body["results"])


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


def until_midnight(at: datetime) -> int:
    return int(((at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - at).total_seconds())


# --- quotas ------------------------------------------------------------------


def test_org_quota_refuses_the_items_over_it_and_counts_only_what_was_invited(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limits(monkeypatch, INVITATIONS_PER_NEW_ORG_DAY=3)
    assert statuses(invite(api, seed, "a@example.com", "b@example.com")) == ["invited", "invited"]
    # "a" is already invited: it uses no quota, so "c" still fits and only "d" is over.
    results = invite(api, seed, "a@example.com", "c@example.com", "d@example.com")
    assert statuses(results) == ["already_invited", "invited", "invitation_quota_exceeded"]
    over = results[2]
    assert over["invitation_id"] is None
    assert 0 < over["retry_after"] <= 86400
    assert "organization's daily invitation limit (3)" in over["message"]
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key, {"emails": ["e@example.com"]})
    assert r.status == 200 and r.body["summary"]["invitation_quota_exceeded"] == 1
    listed = api.get(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key).body["items"]
    assert sorted(i["email"] for i in listed) == ["a@example.com", "b@example.com", "c@example.com"]


def test_csv_upload_over_the_quota_gets_per_row_statuses(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    set_limits(monkeypatch, INVITATIONS_PER_NEW_ORG_DAY=2)
    body = "email\nx1@example.com\nnot-an-email\nx2@example.com\nx3@example.com\n"
    r = api.call(
        "POST",
        f"/v1/orgs/{seed.org_id}/invitations",
        seed.admin.key,
        body=body,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status == 200, r.body
    assert [(x["line"], x["status"]) for x in r.body["results"]] == [
        (2, "invited"),
        (3, "invalid_email"),
        (4, "invited"),
        (5, "invitation_quota_exceeded"),
    ]


def test_account_quota_counts_the_inviting_account_in_every_org(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limits(monkeypatch, INVITATIONS_PER_ACCOUNT_DAY=3)
    second = api.post("/v1/orgs", seed.admin.key, {"name": "Acme Two"}).body["org_id"]
    assert statuses(invite(api, seed, "p1@example.com", "p2@example.com")) == ["invited", "invited"]
    results = invite(api, seed, "p3@example.com", "p4@example.com", org_id=second)
    assert statuses(results) == ["invited", "invitation_quota_exceeded"]
    assert "Your daily invitation limit (3, all organizations)" in results[1]["message"]


def test_a_new_org_gets_the_smaller_limit_until_it_is_old_enough(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limits(monkeypatch, INVITATIONS_PER_NEW_ORG_DAY=2, INVITATIONS_PER_ORG_DAY=4, NEW_ORG_DAYS=7)
    emails = [f"n{i}@example.com" for i in range(5)]
    assert statuses(invite(api, seed, *emails[:3])) == ["invited", "invited", "invitation_quota_exceeded"]
    later = datetime.now(UTC) + timedelta(days=8)
    set_clock(lambda: later)
    results = invite(api, seed, *[f"m{i}@example.com" for i in range(5)])
    assert statuses(results) == ["invited"] * 4 + ["invitation_quota_exceeded"]
    assert results[4]["retry_after"] == pytest.approx(until_midnight(later), abs=2)


# --- resends -----------------------------------------------------------------


def test_resend_cooldown_answers_429_with_retry_after(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    set_limits(monkeypatch, RESEND_COOLDOWN_SECONDS=600)
    start = datetime.now(UTC)
    set_clock(lambda: start)
    [made] = invite(api, seed, "cool@example.com")
    path = f"/v1/orgs/{seed.org_id}/invitations/{made['invitation_id']}/resend"
    set_clock(lambda: start + timedelta(seconds=60))
    r = api.post(path, seed.admin.key)
    assert (r.status, r.code) == (429, "resend_too_soon"), r.body
    assert 539 <= int(r.headers["Retry-After"]) <= 541
    bulk = api.post(
        f"/v1/orgs/{seed.org_id}/invitations/resend", seed.admin.key, {"invitation_ids": [made["invitation_id"]]}
    )
    assert bulk.status == 200
    [item] = bulk.body["results"]
    assert item["status"] == "resend_too_soon" and 539 <= item["retry_after"] <= 541
    assert bulk.body["summary"]["resend_too_soon"] == 1
    set_clock(lambda: start + timedelta(minutes=11))
    assert api.post(path, seed.admin.key).status == 200
    set_clock(lambda: start + timedelta(minutes=12))
    assert api.post(path, seed.admin.key).code == "resend_too_soon"  # the cooldown starts again


def test_resend_quota_answers_429_until_the_next_day(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    set_limits(monkeypatch, RESENDS_PER_NEW_ORG_DAY=1)
    now = datetime.now(UTC)
    set_clock(lambda: now)  # one instant: the day cannot roll over mid-test
    ids = [r["invitation_id"] for r in invite(api, seed, "r1@example.com", "r2@example.com")]
    assert api.post(f"/v1/orgs/{seed.org_id}/invitations/{ids[0]}/resend", seed.admin.key).status == 200
    r = api.post(f"/v1/orgs/{seed.org_id}/invitations/{ids[1]}/resend", seed.admin.key)
    assert (r.status, r.code) == (429, "resend_quota_exceeded"), r.body
    assert int(r.headers["Retry-After"]) == pytest.approx(until_midnight(now), abs=1)
    bulk = api.post(f"/v1/orgs/{seed.org_id}/invitations/resend", seed.admin.key, {"invitation_ids": ids})
    assert statuses(bulk.body["results"]) == ["resend_quota_exceeded", "resend_quota_exceeded"]


def test_resend_quota_per_account(api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    set_limits(monkeypatch, RESENDS_PER_ACCOUNT_DAY=2)
    ids = [r["invitation_id"] for r in invite(api, seed, "s1@example.com", "s2@example.com", "s3@example.com")]
    bulk = api.post(f"/v1/orgs/{seed.org_id}/invitations/resend", seed.admin.key, {"invitation_ids": ids})
    assert statuses(bulk.body["results"]) == ["resent", "resent", "resend_quota_exceeded"]


# --- org names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        SPAM_NAME,
        "Sign in at evil.example",
        "Visit www.evil",
        "Support: mailto:help",
        "javascript:alert(1)",
        "ftp://files",
        "Mail admin@evil.example",
        "Full width \uff45\uff56\uff49\uff4c\uff0e\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45",
        "Ideographic evil\u3002example",
        "Call 10.0.0.1",
        "Log in: evil.com_/login",
        "Zero width evil\u200b.example",
        "Line\u2028break",
        "Next\u0085line",
    ],
)
def test_org_names_that_carry_a_link_or_a_line_break_are_refused(api: Api, seed: Seed, name: str) -> None:
    created = api.post("/v1/orgs", seed.admin.key, {"name": name})
    assert (created.status, created.code) == (400, "org_name_not_allowed"), created.body
    renamed = api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": name})
    assert (renamed.status, renamed.code) == (400, "org_name_not_allowed"), renamed.body
    assert api.get(f"/v1/orgs/{seed.org_id}", seed.admin.key).body["name"] == "Acme"


@pytest.mark.parametrize("name", ["Acme Inc.", "J. P. Morgan & Co.", "Müller GmbH", "Team: Platform", "R&D / Ops"])
def test_ordinary_org_names_are_accepted(api: Api, seed: Seed, name: str) -> None:
    assert api.post("/v1/orgs", seed.admin.key, {"name": name}).status == 201
    assert api.patch(f"/v1/orgs/{seed.org_id}", seed.admin.key, {"name": name}).status == 200


LINKABLE = re.compile(r"(?:[a-z][a-z0-9+.-]*:|www\.)\S*|[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b", re.IGNORECASE)


def test_an_old_stored_spam_name_reaches_no_subject_or_text_as_a_link(
    api: Api, seed: Seed, mailer: MemoryMailer
) -> None:
    # Stored before names were checked: written straight to the table.
    OrgModel(seed.org_id).update(actions=[OrgModel.name.set(SPAM_NAME + "\r\nBcc: x\u2028y")])
    invite(api, seed, "victim@example.com")
    run_stream(stream_batch(seed.org_id))
    [message] = mailer.sent
    assert "evil.example" not in message.subject and "https://" not in message.subject
    assert LINKABLE.findall(message.subject) == []
    assert "evil[.]example" in message.subject and "https[:]//" in message.subject
    accept_links = re.findall(r"http://127\.0\.0\.1:8000/invitations/\S+", message.text)
    assert len(accept_links) == 1
    assert [m for m in LINKABLE.findall(message.text.replace(accept_links[0], "")) if "evil" in m] == []
    assert "evil.example" not in message.text and "evil.example" not in message.html
    assert "\u2028" not in message.subject + message.text
    mime = message.to_mime("no-reply@example.com")
    assert mime["Bcc"] is None


def test_a_direct_add_and_onboarding_over_the_quota_say_so(
    api: Api, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off the verified domains a direct add or an onboarding row is an invitation: over a quota it is
    429 / a per-row status with retry_after, never a silent ``already_invited``, and nothing is sent."""
    set_limits(monkeypatch, INVITATIONS_PER_NEW_ORG_DAY=1)
    first = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "one@example.com"})
    assert first.status == 202 and first.body["status"] == "invited", first.body
    over = api.post(f"/v1/orgs/{seed.org_id}/members", seed.admin.key, {"email": "two@example.com"})
    assert over.status == 429 and over.body["error"]["code"] == "invitation_quota_exceeded", over.body
    assert int(over.headers["Retry-After"]) > 0
    onboard = api.post(f"/v1/orgs/{seed.org_id}/members/onboard", seed.admin.key, {"emails": ["three@example.com"]})
    assert onboard.status == 200, onboard.body
    [row] = onboard.body["items"]
    assert row["status"] == "invitation_quota_exceeded" and row["retry_after"] > 0, row
    assert onboard.body["summary"].get("invitation_quota_exceeded") == 1
    listed = api.get(f"/v1/orgs/{seed.org_id}/invitations", seed.admin.key).body["items"]
    assert [i["email"] for i in listed] == ["one@example.com"]


def test_anonymous_health_checks_reuse_a_healthy_answer_for_a_few_seconds(
    api: Api, dynamodb_calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/v1/health takes no credential: a flood of it must not be a flood of DescribeTable calls."""
    from chalicelib.services import health

    assert api.get("/v1/health").status == 200
    per_check = dynamodb_calls["DescribeTable"]
    assert per_check >= 10  # one per table
    for _ in range(20):
        assert api.get("/v1/health").status == 200
    assert dynamodb_calls["DescribeTable"] == per_check
    monkeypatch.setattr(health, "HEALTHY_FOR_SECONDS", 0.0)  # the kept answer is now old
    assert api.get("/v1/health").status == 200
    assert dynamodb_calls["DescribeTable"] == 2 * per_check  # asked again once the answer is old
