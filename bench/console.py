"""Console pages vs the JSON API's call for the same data, on DynamoDB Local.

A page reads what its JSON counterpart reads plus the session (and renders
HTML instead of serializing JSON), so both are driven through
``chalice.test.Client`` in the same run, interleaved, and compared per call:
DynamoDB requests (counted at the botocore client), the items those reads
returned, and server time (wall time of the in-process client call). The
first call of each page is reported apart as the cold render (Jinja2 is
imported on the first page, and each template is compiled on first use).

Besides the small pairs (Organizations, Token Access, the invitation link),
two list pages of big orgs, each against the JSON list call for the same rows:

- Users (``/orgs/{org_id}/users``) of an org with 10,000 members, against
  ``GET /v1/orgs/{org_id}/members?limit=50``;
- Invitations (``/orgs/{org_id}/invitations``) of an org with 5,000 pending
  invitations, against ``GET /v1/orgs/{org_id}/invitations?limit=50``;

each on its first page and on the page after it, reached through the page's
own "Next page" link and the API's ``next_cursor`` (the two must show the same
rows). The big orgs are seeded with batch writes of the very items the services
write (``seed_members``, ``seed_invitations``), checked attribute by attribute
against items the services wrote in the same run, and the org's counters
against a count of the partition.

Targets (exit 1 when one is missed):
- no page makes more than 2 DynamoDB requests above its JSON counterpart;
- no request per row: a list page makes as many requests on a later page as
  on the first, and as with 1 row; its JSON call as many on both pages.
The session's idle expiry slides at most every 5 minutes (one ``UpdateItem``
on the page view that does it); such calls are counted and shown apart.
Time ratios are reported, not asserted. One-shot probes at the end show what
filtered lists cost (not targets).

Run: python -m bench.console [--n 200] [--orgs 5] [--tokens 10] [--members 10000] [--invitations 5000]
(``--members 0`` / ``--invitations 0`` leave that big org out.)
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .common import RequestCounter, local_backend, table, verify_domain

if TYPE_CHECKING:
    from pynamodb.models import Model

    from chalicelib.domain.models import Actor
    from chalicelib.storage.invitations import InvitationModel

MAX_EXTRA_REQUESTS = 2
WARMUP_ROUNDS = 20
LIST_ROWS = 50  # rows per page of the Users and Invitations pages (checked against the console's constants)
SEAT_EVERY = 10  # 1 seeded member in 10 holds a seat
SEED_CHUNK = 500  # items per batch-writing thread task
SEED_THREADS = 4
NEXT_LINK = re.compile(r'<a href="(/orgs/[^"]+)">Next page</a>')
# One match per row: the user's email links to their page; a pending invitation has a Resend form.
HTML_ROWS = {
    "account_id": re.compile(r'/users/(acc_[0-9a-f]+)">'),
    "invitation_id": re.compile(r'/invitations/(inv_[0-9a-f]+)/resend"'),
}


@dataclass
class Series:
    """One endpoint as called in the bench: what to send, what the answer must contain, what it cost."""

    label: str
    path: str
    headers: dict[str, str]
    must_contain: list[str]
    content_type: str
    row_key: str | None = None  # list endpoints: the id each row shows ("account_id", "invitation_id")
    rows: int = 0  # ... and how many rows the answer must have
    more: bool = False  # ... and whether it links a next page (a "Next page" link, a next_cursor)
    ms: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)  # calls without a session slide
    items: list[int] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    slides: int = 0  # calls that also slid the session's idle expiry (one UpdateItem)
    cold_ms: float = 0.0
    cold_requests: int = 0
    body_bytes: int = 0
    body: str = ""
    ids: list[str] = field(default_factory=list)

    @property
    def is_page(self) -> bool:
        return self.content_type == "text/html"


@dataclass
class Pair:
    name: str
    page: Series
    api: Series
    family: str = ""  # list pairs: the first and the later page of one list share a family


@dataclass
class Seeded:
    account_id: str
    email: str
    api_key: str
    session: str
    org_ids: list[str]
    org_names: list[str]
    token_names: list[str]
    invitation_token: str
    invitee: str
    invitee_account_id: str
    invitee_session: str


@dataclass
class Big:
    """The admin of the big orgs (the caller of their pages) and what was seeded there."""

    admin_id: str
    admin_email: str
    api_key: str
    members_org: str | None = None
    members_org_name: str = ""
    members: int = 0
    seated: int = 0
    search_email: str = ""  # one member's email: the Users page with 1 row
    invitations_org: str | None = None
    invitations_org_name: str = ""
    invitations: int = 0
    seed_notes: list[str] = field(default_factory=list)
    session: str = ""


# --- small pairs ---------------------------------------------------------------------------------------


def seed(n_orgs: int, n_tokens: int) -> Seeded:
    """One person: admin of ``n_orgs`` orgs, seated in the first with ``n_tokens`` tokens; one pending invitation
    (to an address that already has an account, so the invitee can also open it signed in)."""
    from chalicelib.domain.invitations import InviteItem
    from chalicelib.domain.models import Actor
    from chalicelib.services import accounts, bootstrap, invitation_links, invitations, seats, sessions, tokens
    from chalicelib.storage import invitations as invitation_slots

    email = "pat@bench.test"
    names = [f"Bench Org {i + 1}" for i in range(n_orgs)]
    boots = [bootstrap.bootstrap(name, email, seat_capacity=1) for name in names]
    account_id = boots[0].account_id
    assert all(b.account_id == account_id for b in boots)
    org_id = boots[0].org_id
    actor = Actor(actor=f"account:{account_id}", request_id="bench", account_id=account_id)
    seats.assign(org_id, actor, account_id, notify=False)
    token_names = [f"bench-token-{i:02d}" for i in range(n_tokens)]
    for name in token_names:
        tokens.issue_own(org_id, actor, name)
    invitee = "invitee@bench.test"
    invitee_account, _ = accounts.get_or_create(invitee)
    outcome = invitations.invite(org_id, actor, [InviteItem(email=invitee, role="member")])
    [result] = outcome.results
    assert result.status == "invited" and result.invitation_id, result
    item = invitation_slots.get(org_id, result.invitation_id)
    assert item is not None and item.link_nonce
    return Seeded(
        account_id=account_id,
        email=email,
        api_key=boots[0].api_key,
        session=sessions.start(account_id, email),
        org_ids=[b.org_id for b in boots],
        org_names=names,
        token_names=token_names,
        invitation_token=invitation_links.token_for(org_id, result.invitation_id, item.link_nonce),
        invitee=invitee,
        invitee_account_id=invitee_account.account_id,
        invitee_session=sessions.start(invitee_account.account_id, invitee),
    )


def pairs(s: Seeded) -> list[Pair]:
    from chalicelib.console.web import cookie_name

    cookie = {"Cookie": f"{cookie_name()}={s.session}"}
    invitee_cookie = {"Cookie": f"{cookie_name()}={s.invitee_session}"}
    bearer = {"Authorization": f"Bearer {s.api_key}"}
    org = s.org_ids[0]
    html_type, json_type = "text/html", "application/json"
    return [
        Pair(
            f"Organizations ({len(s.org_ids)} orgs)",
            Series("GET /", "/", cookie, ["<h1>Organizations</h1>", *s.org_names], html_type),
            Series("GET /v1/me", "/v1/me", bearer, s.org_names, json_type),
        ),
        Pair(
            f"Token Access ({len(s.token_names)} tokens)",
            Series("GET /orgs/{org_id}/tokens", f"/orgs/{org}/tokens", cookie, s.token_names, html_type),
            Series("GET /v1/orgs/{org_id}/tokens", f"/v1/orgs/{org}/tokens", bearer, s.token_names, json_type),
        ),
        Pair(
            "Invitation (signed out)",
            Series(
                "GET /invitations/{token}", f"/invitations/{s.invitation_token}", {}, ["Accept Invitation"], html_type
            ),
            Series("GET /v1/invitations/{token}", f"/v1/invitations/{s.invitation_token}", {}, [s.invitee], json_type),
        ),
        # The invitee already signed in (own account): the session read on top.
        Pair(
            "Invitation (invitee signed in)",
            Series(
                "GET /invitations/{token} + cookie",
                f"/invitations/{s.invitation_token}",
                invitee_cookie,
                ["Accept Invitation", 'name="csrf_token"'],
                html_type,
            ),
            Series("GET /v1/invitations/{token}", f"/v1/invitations/{s.invitation_token}", {}, [s.invitee], json_type),
        ),
    ]


# --- big orgs: seeding -----------------------------------------------------------------------------------


def role_of_seeded(i: int) -> str:
    """The role of the i-th seeded member: 1 in 250 an Account Admin, 1 in 100 a Billing Manager."""
    if i % 250 == 125:
        return "account_admin"
    if i % 100 == 50:
        return "billing_manager"
    return "member"


def put_all(model: type[Model], items: Sequence[Model]) -> None:
    """Batch-write ``items`` (``Model.batch_write``: 25 per BatchWriteItem, unprocessed items resent).

    The first chunk goes alone, so the model's connection and botocore client exist before threads share them.
    """
    chunks = [items[i : i + SEED_CHUNK] for i in range(0, len(items), SEED_CHUNK)]

    def write(chunk: Sequence[Model]) -> None:
        with model.batch_write() as batch:
            for item in chunk:
                batch.save(item)

    if not chunks:
        return
    write(chunks[0])
    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        list(pool.map(write, chunks[1:]))


@functools.cache
def member_mark_model() -> type[InvitationModel]:
    """The invitations-table item that marks an email as a member (``members.mark_member_slot``).

    The service writes it with an update that sets only ``email``, ``status`` and ``member_account_id``;
    a put of ``InvitationModel`` would add the model's default ``issue = 1``, so this subclass leaves it out.
    """
    from chalicelib.storage.invitations import InvitationModel

    class MemberMark(InvitationModel):
        def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
            data = super().serialize(null_check)
            data.pop("issue", None)
            return data

    return MemberMark


def attribute_types(table_name: str, key: dict[str, str]) -> dict[str, str]:
    """An item's attribute names and DynamoDB types, read raw (consistent)."""
    from chalicelib.storage.base import client

    found = (
        client()
        .get_item(TableName=table_name, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
        .get("Item")
    )
    assert found, (table_name, key)
    return {name: next(iter(value)) for name, value in found.items()}


def same_shape(what: str, model: type[Model], service_key: dict[str, str], seeded_key: dict[str, str]) -> None:
    """A seeded item has exactly the attributes (and types) of the one the service wrote."""
    table_name = str(model.Meta.table_name)
    written, seeded = attribute_types(table_name, service_key), attribute_types(table_name, seeded_key)
    assert written == seeded, (what, "service:", written, "seeded:", seeded)


def partition(model: type[Model], org_id: str, names: list[str]) -> list[dict[str, Any]]:
    """Every item of an org's partition, projected to ``names`` (raw, consistent): for the counter checks."""
    from chalicelib.storage.base import client

    found: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {
            "TableName": model.Meta.table_name,
            "KeyConditionExpression": "org_id = :o",
            "ExpressionAttributeValues": {":o": {"S": org_id}},
            "ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#a{i}": n for i, n in enumerate(names)},
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = client().query(**kwargs)
        found += answer["Items"]
        start = answer.get("LastEvaluatedKey")
        if not start:
            return found


def seed_members(org_id: str, actor: Actor, count: int) -> tuple[int, str, list[str]]:
    """Make the org (bootstrapped with its admin) one of ``count`` members; returns (seated, an email, notes).

    Two members are added through ``members.add_member`` (one with a seat): the references. The rest are the
    items ``add_member`` writes, built with the services' own builders where they exist and batch-written:
    account + email claim (``accounts.new_account``, ``storage.accounts.items_of``), member
    (``storage.members.item_of(members.new_member(...))``), the email's member mark in the invitations table
    (``mark_member_slot``),
    the audit records (``audit.build``: ``member.added``, and ``seat.assigned`` with a seat); then the org's
    counters get the sums of what each add's transaction adds (``member_count``, ``admin_count``,
    ``seats_used``).
    """
    from chalicelib.domain.invitations import NO_INVITATION
    from chalicelib.domain.roles import Role
    from chalicelib.services import accounts, audit, members, orgs
    from chalicelib.storage import accounts as account_rows
    from chalicelib.storage import audit as audit_rows
    from chalicelib.storage import members as member_rows
    from chalicelib.storage.accounts import AccountModel, email_claim_key
    from chalicelib.storage.bulk import put_rows
    from chalicelib.storage.invitations import InvitationModel, slot_id
    from chalicelib.storage.members import MemberModel
    from chalicelib.storage.orgs import OrgModel

    verify_domain(org_id, actor.account_id or "", "members.bench.test")  # direct adds act on verified domains
    plain = members.add_member(org_id, actor, "sample-plain@members.bench.test", Role.MEMBER).member
    with_seat = members.add_member(org_id, actor, "sample-seat@members.bench.test", Role.MEMBER, seat=True).member
    assert plain is not None and with_seat is not None
    mark = member_mark_model()
    account_items: list[Model] = []
    member_items: list[Model] = []
    marks: list[Model] = []
    audits: list[tuple[str, dict[str, Any]]] = []
    admins = seated = 0
    n = count - 3  # the bootstrap's admin and the two references
    started = time.perf_counter()
    for i in range(n):
        role = Role(role_of_seeded(i))
        seat = i % SEAT_EVERY == 0
        account = accounts.new_account(f"user{i:05d}@members.bench.test")
        account_items += account_rows.items_of(account)
        member_items.append(member_rows.item_of(members.new_member(org_id, account, role, seat=seat)))
        marks.append(
            mark(
                org_id,
                slot_id(org_id, account.email),
                email=account.email,
                status=NO_INVITATION,
                member_account_id=account.account_id,
            )
        )
        details = {"email": account.email, "role": role.value}
        audits.append(audit_rows.row(audit.build(org_id, actor, "member.added", account.account_id, details)))
        if seat:
            notified = {"email": account.email, "notify": True}
            audits.append(audit_rows.row(audit.build(org_id, actor, "seat.assigned", account.account_id, notified)))
        admins += role is Role.ACCOUNT_ADMIN
        seated += seat
    built = time.perf_counter() - started
    started = time.perf_counter()
    put_all(AccountModel, account_items)
    put_all(MemberModel, member_items)
    put_all(mark, marks)
    put_rows(audits)
    OrgModel(org_id).update(
        actions=[OrgModel.member_count.add(n), OrgModel.admin_count.add(admins), OrgModel.seats_used.add(seated)]
    )
    written = time.perf_counter() - started
    total_items = len(account_items) + len(member_items) + len(marks) + len(audits)

    # The seeded items are what the services write: same attributes and types as the references.
    first_seated = member_items[0]
    first_plain = member_items[1]
    assert isinstance(first_seated, MemberModel) and isinstance(first_plain, MemberModel)
    assert first_seated.has_seat and not first_plain.has_seat and first_plain.role == "member"
    ref, ref_seat = plain.account_id, with_seat.account_id
    same_shape("member", MemberModel, {"org_id": org_id, "account_id": ref}, member_key(first_plain))
    same_shape("member with seat", MemberModel, {"org_id": org_id, "account_id": ref_seat}, member_key(first_seated))
    same_shape(
        "member mark",
        InvitationModel,
        {"org_id": org_id, "invitation_id": slot_id(org_id, plain.email)},
        {"org_id": org_id, "invitation_id": slot_id(org_id, first_plain.email)},
    )
    same_shape("account", AccountModel, {"account_id": ref}, {"account_id": first_plain.account_id})
    same_shape(
        "email claim",
        AccountModel,
        {"account_id": email_claim_key(plain.email)},
        {"account_id": email_claim_key(first_plain.email)},
    )
    # The org's counters agree with its partition.
    org = orgs.load(org_id)
    rows = partition(MemberModel, org_id, ["role", "has_seat"])
    assert org.member_count == len(rows) == count, (org.member_count, len(rows), count)
    assert org.admin_count == sum(r["role"]["S"] == "account_admin" for r in rows), org
    assert org.seats_used == sum(r["has_seat"]["BOOL"] for r in rows) <= org.seat_capacity, org
    notes = [
        f"members org: {count:,} members ({org.seats_used:,} seated of {org.seat_capacity:,} seats, "
        f"{org.admin_count} admins): {total_items:,} items built in {built:.1f} s, batch-written in {written:.1f} s"
    ]
    return org.seats_used, first_plain.email, notes


def member_key(item: Any) -> dict[str, str]:
    return {"org_id": str(item.org_id), "account_id": str(item.account_id)}


def seed_invitations(org_id: str, actor: Actor, count: int) -> list[str]:
    """Give the org ``count`` pending invitations; returns notes.

    One goes through ``invitations.invite`` (the reference); the rest are the items its ``_invite_op`` puts
    (``storage.invitations.item_of(invitations.new_invitation(...))``)
    (the invitation in its (org, email) slot, ``status = pending``, in an expiry-index shard, email queued:
    the bench runs no stream handler) and their ``invitation.created`` audit records, one time stamp per
    1,000 as a CSV upload has. An invitation touches no counter of the org.
    """
    from chalicelib.clock import now
    from chalicelib.domain.invitations import InviteItem
    from chalicelib.domain.roles import Role
    from chalicelib.services import audit, invitations
    from chalicelib.storage import audit as audit_rows
    from chalicelib.storage import invitations as invitation_slots
    from chalicelib.storage.bulk import put_rows
    from chalicelib.storage.invitations import InvitationModel

    outcome = invitations.invite(org_id, actor, [InviteItem(email="sample-invite@invites.bench.test")])
    [reference] = outcome.results
    assert reference.status == "invited" and reference.invitation_id, reference
    inviter = invitations.inviter_of(actor)  # what invite() names as the inviter for this caller
    items: list[Model] = []
    audits: list[tuple[str, dict[str, Any]]] = []
    n = count - 1
    started = time.perf_counter()
    for first in range(0, n, invitations.MAX_ITEMS):
        stamp = now()
        for i in range(first, min(n, first + invitations.MAX_ITEMS)):
            email = f"invitee{i:05d}@invites.bench.test"
            role = "billing_manager" if i % 20 == 10 else "member"
            item = invitation_slots.item_of(
                invitations.new_invitation(org_id, email, Role(role), actor, inviter, stamp)
            )
            invitation_id = item.invitation_id
            items.append(item)
            details = {"email": email, "role": role}
            audits.append(audit_rows.row(audit.build(org_id, actor, "invitation.created", invitation_id, details)))
    built = time.perf_counter() - started
    started = time.perf_counter()
    put_all(InvitationModel, items)
    put_rows(audits)
    written = time.perf_counter() - started
    first_item = items[0]
    assert isinstance(first_item, InvitationModel) and first_item.role == "member"
    same_shape(
        "invitation",
        InvitationModel,
        {"org_id": org_id, "invitation_id": reference.invitation_id},
        {"org_id": org_id, "invitation_id": first_item.invitation_id},
    )
    statuses = Counter(r["status"]["S"] for r in partition(InvitationModel, org_id, ["status"]))
    # Beside the invitations, the slot of the admin's own email marks them a member (not listed).
    assert statuses == {"pending": count, "none": 1}, statuses
    return [
        f"invitations org: {count:,} pending invitations (+ the admin's member mark): "
        f"{len(items) + len(audits):,} items built in {built:.1f} s, batch-written in {written:.1f} s"
    ]


def seed_big(n_members: int, n_invitations: int) -> Big | None:
    """The admin of the big orgs: an org of ``n_members`` members, another of ``n_invitations`` invitations."""
    from chalicelib.domain.models import Actor
    from chalicelib.services import bootstrap

    if not n_members and not n_invitations:
        return None
    email = "admin@big.bench.test"
    big: Big | None = None
    if n_members:
        seats = math.ceil((n_members - 3) / SEAT_EVERY) + 1
        name = f"Bench Org of {n_members:,} members"
        boot = bootstrap.bootstrap(name, email, seat_capacity=seats + max(1, seats // 5))
        big = Big(boot.account_id, email, boot.api_key, members_org=boot.org_id, members_org_name=name)
        actor = Actor(actor=f"account:{boot.account_id}", request_id="bench-seed", account_id=boot.account_id)
        big.seated, big.search_email, notes = seed_members(boot.org_id, actor, n_members)
        big.members = n_members
        big.seed_notes += notes
    if n_invitations:
        name = f"Bench Org of {n_invitations:,} invitations"
        boot = bootstrap.bootstrap(name, email, seat_capacity=10)
        if big is None:
            big = Big(boot.account_id, email, boot.api_key)
        assert boot.account_id == big.admin_id
        big.invitations_org, big.invitations_org_name, big.invitations = boot.org_id, name, n_invitations
        actor = Actor(actor=f"account:{big.admin_id}", request_id="bench-seed", account_id=big.admin_id)
        big.seed_notes += seed_invitations(boot.org_id, actor, n_invitations)
    return big


# --- big orgs: pairs -------------------------------------------------------------------------------------


def listing(
    label: str, path: str, headers: dict[str, str], row_key: str, rows: int, more: bool, must: Sequence[str] = ()
) -> Series:
    """A list endpoint: a page (``/orgs/...``) or a JSON call (``/v1/...``) with ``rows`` rows, and a next page
    (``more``) or not."""
    content_type = "application/json" if path.startswith("/v1/") else "text/html"
    return Series(label, path, headers, list(must), content_type, row_key, rows, more)


def big_first_pages(big: Big) -> list[Pair]:
    """The first page of each big list, page and JSON call (the later pages follow their cursors)."""
    from chalicelib.console.web import cookie_name

    cookie = {"Cookie": f"{cookie_name()}={big.session}"}
    bearer = {"Authorization": f"Bearer {big.api_key}"}
    found: list[Pair] = []
    if big.members_org:
        base = f"/orgs/{big.members_org}/users"
        must = ["<h1>Users</h1>", f"<strong>Seats:</strong> {big.seated} used"]
        found.append(
            Pair(
                f"Users ({big.members:,} members), first page",
                listing("GET /orgs/{org_id}/users", base, cookie, "account_id", LIST_ROWS, True, must),
                listing(
                    "GET /v1/orgs/{org_id}/members?limit=50",
                    f"/v1{base.removesuffix('/users')}/members?limit={LIST_ROWS}",
                    bearer,
                    "account_id",
                    LIST_ROWS,
                    True,
                ),
                family="Users",
            )
        )
    if big.invitations_org:
        base = f"/orgs/{big.invitations_org}/invitations"
        found.append(
            Pair(
                f"Invitations ({big.invitations:,} pending), first page",
                listing("GET /orgs/{org_id}/invitations", base, cookie, "invitation_id", LIST_ROWS, True),
                listing(
                    "GET /v1/orgs/{org_id}/invitations?limit=50",
                    f"/v1{base}?limit={LIST_ROWS}",
                    bearer,
                    "invitation_id",
                    LIST_ROWS,
                    True,
                ),
                family="Invitations",
            )
        )
    return found


def next_page(first: Pair) -> Pair:
    """The page after ``first``: the page's own Next link, the API's ``next_cursor`` (both already fetched)."""
    links = NEXT_LINK.findall(first.page.body)
    assert len(links) == 1, (first.name, links)
    page_path = html.unescape(links[0])
    cursor = json.loads(first.api.body)["next_cursor"]
    assert cursor, first.name
    api_path = f"{first.api.path}&cursor={quote(cursor, safe='')}"
    name = first.name.replace("first page", "page 2 (Next / next_cursor)")

    def after(s: Series, path: str) -> Series:
        return Series(f"{s.label} page 2", path, s.headers, s.must_contain, s.content_type, s.row_key, s.rows, True)

    return Pair(name, after(first.page, page_path), after(first.api, api_path), family=first.family)


def check_same_rows(first: Pair, later: Pair) -> None:
    """Page and JSON call show the same rows, in the same order; the later page shows others."""
    for p in (first, later):
        assert p.page.ids == p.api.ids, (p.name, p.page.ids[:3], p.api.ids[:3])
    assert not set(first.page.ids) & set(later.page.ids), first.name


# --- calling ----------------------------------------------------------------------------------------------


def row_ids(series: Series, body: str) -> list[str]:
    assert series.row_key is not None
    if series.is_page:
        return list(HTML_ROWS[series.row_key].findall(body))
    return [str(item[series.row_key]) for item in json.loads(body)["items"]]


def call(client: Any, counter: RequestCounter, series: Series) -> tuple[float, Counter[str], int]:
    """One request through the local gateway: wall ms, the DynamoDB calls it made and the items they read
    (the answer is checked)."""
    with counter.lock:
        items_before = counter.items_read
    with counter.measure() as ops:
        start = time.perf_counter()
        response = client.http.get(series.path, headers=series.headers)
        elapsed = (time.perf_counter() - start) * 1000
    with counter.lock:
        items = counter.items_read - items_before
    body = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    assert response.status_code == 200, (series.label, response.status_code, body[:300])
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers.get("content-type", "").startswith(series.content_type), (series.label, headers)
    missing = [text for text in series.must_contain if text not in body]
    assert not missing, (series.label, missing, body[:300])
    if series.row_key:
        ids = row_ids(series, body)
        assert len(ids) == series.rows, (series.label, len(ids), series.rows)
        more = bool(NEXT_LINK.search(body)) if series.is_page else json.loads(body)["next_cursor"] is not None
        assert more is series.more, (series.label, "next page:", more)
        series.ids = ids
    series.body_bytes = len(body.encode())
    series.body = body
    return elapsed, ops, items


def slid(series: Series, ops: Counter[str]) -> bool:
    """A page view that also slid its session's idle expiry (the only write a GET page makes)."""
    return series.is_page and ops.get("UpdateItem", 0) > 0


def cold(client: Any, counter: RequestCounter, batch: Iterable[Pair]) -> None:
    """First calls: each JSON call, then each page, so a page is charged only for its own first-use costs."""
    chosen = list(batch)
    for series in [p.api for p in chosen] + [p.page for p in chosen]:
        elapsed, ops, _ = call(client, counter, series)
        series.cold_ms, series.cold_requests = elapsed, sum(ops.values())


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: list[int]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def ops_text(ops: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(ops.items())) or "-"


@dataclass
class Probe:
    """A one-shot call (after one unmeasured call): what a variant of a list page costs."""

    name: str
    series: Series
    ms: float = 0.0
    requests: int = 0
    items: int = 0
    ops: Counter[str] = field(default_factory=Counter)


def probes(big: Big | None, s: Seeded) -> list[Probe]:
    from chalicelib.console.web import cookie_name

    if big is None:
        return []
    cookie = {"Cookie": f"{cookie_name()}={big.session}"}
    bearer = {"Authorization": f"Bearer {big.api_key}"}
    found: list[Probe] = []
    if big.members_org:
        users = f"/orgs/{big.members_org}/users"
        invitations = f"/orgs/{big.members_org}/invitations"
        members_api = f"/v1/orgs/{big.members_org}/members?limit={LIST_ROWS}"
        label = "GET /orgs/{org_id}/users"
        seated, more = min(LIST_ROWS, big.seated), big.seated > LIST_ROWS
        found += [
            Probe(
                "Users, 1 row (email search)",
                listing(
                    f"{label}?email=...",
                    f"{users}?email={quote(big.search_email)}",
                    cookie,
                    "account_id",
                    1,
                    False,
                    [big.search_email],
                ),
            ),
            Probe(
                f"Users, Revoke Seats mode (seat filter; 1 member in {SEAT_EVERY} seated)",
                listing(f"{label}?select=revoke", f"{users}?select=revoke", cookie, "account_id", seated, more),
            ),
            Probe(
                "  same filter, JSON",
                listing(
                    "GET /v1/orgs/{org_id}/members?limit=50&seat=true",
                    f"{members_api}&seat=true",
                    bearer,
                    "account_id",
                    seated,
                    more,
                ),
            ),
            Probe(
                f"Invitations page of the {big.members:,}-member org (no invitation; a member mark per member)",
                listing("GET /orgs/{org_id}/invitations", invitations, cookie, "invitation_id", 0, False),
            ),
            Probe(
                "  same list, JSON",
                listing(
                    "GET /v1/orgs/{org_id}/invitations?limit=50",
                    f"/v1{invitations}?limit={LIST_ROWS}",
                    bearer,
                    "invitation_id",
                    0,
                    False,
                ),
            ),
        ]
    if big.invitations_org:
        small_cookie = {"Cookie": f"{cookie_name()}={s.session}"}
        found.append(
            Probe(
                "Invitations, 1 row (the small pairs' org)",
                listing(
                    "GET /orgs/{org_id}/invitations",
                    f"/orgs/{s.org_ids[0]}/invitations",
                    small_cookie,
                    "invitation_id",
                    1,
                    False,
                    [s.invitee],
                ),
            )
        )
    return found


# --- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="measured calls per endpoint (after warm-up)")
    parser.add_argument("--orgs", type=int, default=5, help="orgs the signed-in person is a member of")
    parser.add_argument("--tokens", type=int, default=10, help="tokens of the person on the Token Access page")
    parser.add_argument("--members", type=int, default=10_000, help="members of the Users page's org (0: leave it out)")
    parser.add_argument(
        "--invitations", type=int, default=5_000, help="pending invitations of the Invitations page's org (0: out)"
    )
    args = parser.parse_args()
    for name in ("members", "invitations"):
        value = getattr(args, name)
        if value and value < 2 * LIST_ROWS + 1:
            parser.error(f"--{name}: 0 or at least {2 * LIST_ROWS + 1} (two full pages and a third)")
    counter = RequestCounter().install()
    with local_backend("benchconsole"):
        from chalice.test import Client

        from app import app
        from chalicelib.console import routes_invitations_admin, routes_users
        from chalicelib.services import sessions

        assert routes_users.PAGE_SIZE == routes_invitations_admin.PER_PAGE == LIST_ROWS
        # The small pairs first, so that no table is empty while the big orgs are batch-written: on DynamoDB
        # Local, GetItem on a table that was still empty then took some 30 ms instead of 3-8 afterwards
        # (seen on the sessions table; not on one written before the seeding).
        seeded = seed(args.orgs, args.tokens)
        started = time.perf_counter()
        big = seed_big(args.members, args.invitations)
        seed_s = time.perf_counter() - started
        # Fresh sessions after the long seeding, so that the run stays in their first 5 minutes if it can.
        seeded = replace(
            seeded,
            session=sessions.start(seeded.account_id, seeded.email),
            invitee_session=sessions.start(seeded.invitee_account_id, seeded.invitee),
        )
        if big is not None:
            big.session = sessions.start(big.admin_id, big.admin_email)
        small = pairs(seeded)
        client = Client(app)

        jinja_before = "jinja2" in sys.modules
        # Cold: each JSON call first, then each page, so a page's first render is charged only for its own
        # first-use costs (the first page also imports Jinja2 and compiles base.html).
        # The extra signed-in invitation row reuses warmed code paths: no cold figure for it.
        cold(client, counter, small[:3])
        lists: list[Pair] = []
        if big is not None:
            firsts = big_first_pages(big)
            cold(client, counter, firsts)
            laters = [next_page(p) for p in firsts]
            cold(client, counter, laters)
            for first, later in zip(firsts, laters, strict=True):
                check_same_rows(first, later)
                lists += [first, later]
        bench = small + lists
        for _ in range(WARMUP_ROUNDS):
            for p in bench:
                call(client, counter, p.page)
                call(client, counter, p.api)

        # Interleaved, order alternating, so that load from elsewhere on the machine hits every series alike.
        measured_from = time.perf_counter()
        for i in range(args.n):
            for p in bench:
                for series in (p.page, p.api) if i % 2 == 0 else (p.api, p.page):
                    elapsed, ops, items = call(client, counter, series)
                    series.ms.append(elapsed)
                    if slid(series, ops):
                        series.slides += 1
                        continue
                    series.requests.append(sum(ops.values()))
                    series.items.append(items)
                    series.ops = ops
        measured_s = time.perf_counter() - measured_from

        shots = probes(big, seeded)
        for probe in shots:
            call(client, counter, probe.series)
            probe.ms, probe.ops, probe.items = call(client, counter, probe.series)
            probe.requests = sum(probe.ops.values())

    report(args, bench, shots, big, jinja_before, seed_s, measured_s)


def report(
    args: argparse.Namespace,
    bench: list[Pair],
    shots: list[Probe],
    big: Big | None,
    jinja_before: bool,
    seed_s: float,
    measured_s: float,
) -> None:
    if big is not None:
        print(f"Seeded the big orgs in {seed_s:.1f} s (bootstrap, reference items through the services, checks):")
        for note in big.seed_notes:
            print(f"  {note}")
        print()
    rows: list[tuple[Any, ...]] = []
    for p in bench:
        for series in (p.page, p.api):
            rows.append(
                (
                    p.name,
                    series.label,
                    spread(series.requests),
                    ops_text(series.ops),
                    spread(series.items),
                    f"{statistics.median(series.ms):.2f}",
                    f"{pct(series.ms, 0.90):.2f}",
                    f"{pct(series.ms, 0.95):.2f}",
                    f"{series.cold_ms:.1f}" if series.cold_ms else "-",
                    series.cold_requests if series.cold_ms else "-",
                    f"{series.body_bytes:,}",
                )
            )
    print(
        f"Console pages vs JSON API: {args.n} calls per endpoint after {WARMUP_ROUNDS} warm-up rounds, "
        f"interleaved ({measured_s:.0f} s); in process through chalice.test.Client on DynamoDB Local "
        f"(Jinja2 imported before the first page: {jinja_before})\n"
    )
    header = (
        "pair",
        "endpoint",
        "requests",
        "DynamoDB ops",
        "items read",
        "p50 ms",
        "p90 ms",
        "p95 ms",
        "cold ms",
        "cold req",
        "body bytes",
    )
    print(table(rows, header))
    slides = [(p.name, p.page.slides) for p in bench if p.page.slides]
    if slides:
        listed = ", ".join(f"{name} x{n}" for name, n in slides)
        print(f"\nSession slides (one UpdateItem more on that call, left out of the figures above): {listed}")

    missed: list[str] = []
    ratio_rows: list[tuple[Any, ...]] = []
    for p in bench:
        extra = max(p.page.requests) - min(p.api.requests)
        ok = extra <= MAX_EXTRA_REQUESTS
        if not ok:
            missed.append(f"{p.name}: page {extra:+d} requests over the JSON call")
        ratio_rows.append(
            (
                p.name,
                f"{statistics.median(p.page.ms) / statistics.median(p.api.ms):.2f}",
                f"{pct(p.page.ms, 0.90) / pct(p.api.ms, 0.90):.2f}",
                f"{pct(p.page.ms, 0.95) / pct(p.api.ms, 0.95):.2f}",
                f"{extra:+d}",
                "met" if ok else "MISSED",
            )
        )
    print()
    print(
        table(
            ratio_rows,
            ("pair", "p50 page/JSON", "p90 page/JSON", "p95 page/JSON", "page - JSON requests", "target <= +2"),
        )
    )

    paging_rows: list[tuple[Any, ...]] = []
    one_row = {"Users": "Users, 1 row", "Invitations": "Invitations, 1 row"}
    for family in dict.fromkeys(p.family for p in bench if p.family):
        members = [p for p in bench if p.family == family]
        page_counts = [spread(p.page.requests) for p in members]
        api_counts = [spread(p.api.requests) for p in members]
        shot = next((s for s in shots if s.name.startswith(one_row[family])), None)
        if shot is not None:
            page_counts.append(str(shot.requests))
        ok = len(set(page_counts)) == 1 and len(set(api_counts)) == 1
        if not ok:
            missed.append(f"{family}: requests per page {page_counts}, JSON {api_counts}")
        paging_rows.append(
            (
                family,
                " / ".join(page_counts[:2]),
                page_counts[2] if len(page_counts) > 2 else "-",
                " / ".join(api_counts),
                f"{LIST_ROWS} / {LIST_ROWS}",
                "met" if ok else "MISSED",
            )
        )
    if paging_rows:
        print()
        paging = ("list", "page req first / page 2", "page req, 1 row", "JSON req first / page 2", "rows", "target")
        print(table(paging_rows, paging))

    if shots:
        print("\nOne-shot probes (second call of each; not targets):\n")
        probe_rows = [
            (s.name, s.series.label, s.requests, ops_text(s.ops), s.items, s.series.rows, f"{s.ms:.1f}") for s in shots
        ]
        print(table(probe_rows, ("probe", "endpoint", "requests", "DynamoDB ops", "items read", "rows", "ms")))

    print()
    if missed:
        print("Target missed:")
        for line in missed:
            print(f"  {line}")
        sys.exit(1)
    print(
        f"Target met: every page within {MAX_EXTRA_REQUESTS} DynamoDB requests of its JSON counterpart"
        + ("; list pages cost the same requests on every page and with 1 row." if paging_rows else ".")
    )


if __name__ == "__main__":
    main()
