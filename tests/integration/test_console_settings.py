"""The Audit Log and Settings pages: filters and paging, name, seat capacity in words, SCIM tokens shown once."""

from __future__ import annotations

import re

from chalicelib.domain.models import Actor
from chalicelib.domain.roles import Role
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import domains, members, orgs, scim_tokens, seats
from tests.support.console_support import Browser, sign_in
from tests.support.dns_support import publish
from tests.support.helpers import Api, Seed
from tests.support.table_scan import snapshot


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def signed_in(seed: Seed, mailer: MemoryMailer, email: str) -> Browser:
    browser = Browser()
    assert sign_in(browser, mailer, email).status == 303
    browser.get("/")
    return browser


def test_navigation_shows_what_each_role_may_use(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    expected = {
        seed.admin.email: ["Invitations", "Users", "Token Access", "Audit Log", "Settings"],
        seed.billing.email: ["Users", "Token Access", "Settings"],
        seed.member.email: ["Token Access"],
    }
    for email, links in expected.items():
        page = signed_in(seed, mailer, email).get(f"/orgs/{seed.org_id}/tokens")
        nav = page.html.split('class="side"')[1].split("</nav>")[0]
        assert re.findall(r'">([^<]+)</a></li>', nav) == links, email
        assert ("User Management" in nav) == (links[0] in ("Invitations", "Users")), email
    refused = signed_in(seed, mailer, seed.member.email).get(f"/orgs/{seed.org_id}/settings")
    assert refused.status == 403 and "does not allow this" in refused.text and "{" not in refused.text


def test_audit_log_newest_first_with_filters_and_paging(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    for n in range(60):
        seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
        seats.revoke(seed.org_id, admin_actor(seed), seed.member.account_id)
        if n == 0:
            members.change_role(seed.org_id, admin_actor(seed), seed.billing.account_id, Role.MEMBER)
    browser = signed_in(seed, mailer, seed.admin.email)
    page = browser.get(f"/orgs/{seed.org_id}/audit-log")
    assert page.status == 200
    actions = re.findall(r"<code>([a-z_.]+)</code>", page.html)
    assert len(actions) == 50 and actions[0] == "seat.revoked"
    nxt = re.search(r'href="(/orgs/[^"]+after=[^"]+)"', page.html)
    assert nxt
    second = browser.get(nxt.group(1).replace("&amp;", "&"))
    assert second.status == 200 and len(re.findall(r"<code>([a-z_.]+)</code>", second.html)) > 0
    roles = browser.get(f"/orgs/{seed.org_id}/audit-log?action=member.role_changed")
    assert set(re.findall(r"<code>([a-z_.]+)</code>", roles.html)) == {"member.role_changed"}
    bad = browser.get(f"/orgs/{seed.org_id}/audit-log?since=yesterday")
    assert bad.status == 400 and "Since must be a date" in bad.text and 'value="yesterday"' in bad.html
    broken = browser.get(f"/orgs/{seed.org_id}/audit-log?after=!!!")
    assert broken.status == 400 and "{" not in broken.text


def test_capacity_below_usage_is_refused_in_words(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    for person in (seed.admin, seed.member):
        seats.assign(seed.org_id, admin_actor(seed), person.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.billing.email)  # a billing manager sets the capacity
    page = browser.get(f"/orgs/{seed.org_id}/settings")
    assert "2 used of 10; 8 available" in page.text and "Save Name" not in page.text and "SCIM" not in page.text
    before = snapshot()
    low = browser.post(f"/orgs/{seed.org_id}/settings/capacity", {"capacity": "1"})
    assert low.status == 409 and "2 seats are in use" in low.text and "Nothing was changed" in low.text
    assert 'value="1"' in low.html
    junk = browser.post(f"/orgs/{seed.org_id}/settings/capacity", {"capacity": "ten"})
    assert junk.status == 400 and "whole number" in junk.text
    assert snapshot() == before
    ok = browser.post(f"/orgs/{seed.org_id}/settings/capacity", {"capacity": "25"})
    assert ok.status == 200 and "Seat capacity is now 25." in ok.text
    assert orgs.load(seed.org_id).seat_capacity == 25


def test_rename_and_scim_tokens(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.admin.email)
    browser.get(f"/orgs/{seed.org_id}/settings")
    assert browser.post(f"/orgs/{seed.org_id}/settings/name", {"name": ""}).status == 400
    assert browser.post(f"/orgs/{seed.org_id}/settings/name", {"name": "Acme Corp"}).status == 200
    assert orgs.load(seed.org_id).name == "Acme Corp"
    made = browser.post(f"/orgs/{seed.org_id}/settings/scim-tokens", {"name": "okta"})
    assert made.status == 201 and "shown only once" in made.text
    secret = made.html.split('id="new-scim" readonly value="')[1].split('"')[0]
    assert secret.startswith("osc_")
    assert api.get("/scim/v2/Users", headers={"Authorization": f"Bearer {secret}"}).status == 200
    assert secret not in browser.get(f"/orgs/{seed.org_id}/settings").html
    [token] = scim_tokens.list_tokens(seed.org_id, admin_actor(seed))
    asked = browser.post(f"/orgs/{seed.org_id}/settings/scim-tokens/{token.token_id}/revoke")
    assert asked.status == 200 and "Revoke this SCIM token?" in asked.text
    done = browser.post(f"/orgs/{seed.org_id}/settings/scim-tokens/{token.token_id}/revoke", {"confirmed": "yes"})
    assert done.status == 303
    assert api.get("/scim/v2/Users", headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_domains_claim_verify_and_remove_in_words(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.admin.email)
    base = f"/orgs/{seed.org_id}/settings"
    page = browser.get(base)
    assert "Domains" in page.text and "acme.test" in page.text and "Verified" in page.text

    bad = browser.post(f"{base}/domains", {"domain": "https://nope"})
    assert bad.status == 400 and "not a domain name" in bad.text

    made = browser.post(f"{base}/domains", {"domain": "Corp.Example"})
    assert made.status == 201, made.text
    claim = next(d for d in domains.list_domains(seed.org_id, admin_actor(seed)) if d.domain == "corp.example")
    assert "_orgs-challenge.corp.example" in made.text and claim.record_value in made.text
    again = browser.post(f"{base}/domains", {"domain": "corp.example"})
    assert again.status == 409 and "already in the list" in again.text

    missing = browser.post(f"{base}/domains/corp.example/verify")
    assert missing.status == 409 and "Not verified yet" in missing.text and claim.record_value in missing.text
    publish(claim.record_name, claim.record_value)
    ok = browser.post(f"{base}/domains/corp.example/verify")
    assert ok.status == 200 and "corp.example is verified" in ok.text
    assert domains.is_verified(seed.org_id, "corp.example")

    asked = browser.post(f"{base}/domains/corp.example/remove")
    assert asked.status == 200 and "Remove corp.example?" in asked.text
    assert domains.is_verified(seed.org_id, "corp.example")  # nothing until confirmed
    done = browser.post(f"{base}/domains/corp.example/remove", {"confirmed": "yes"})
    assert done.status == 303
    assert not domains.is_verified(seed.org_id, "corp.example")
    assert "corp.example" not in browser.get(base).text


def test_domains_section_is_for_admins_only(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    page = signed_in(seed, mailer, seed.billing.email).get(f"/orgs/{seed.org_id}/settings")
    assert page.status == 200 and "domains-title" not in page.text


def test_settings_shows_what_each_scim_group_grants(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    from chalicelib.services import groups

    def want(group: object, holders: object) -> groups.Wanted:
        return groups.Wanted("Field <Sales>", None, set(), Role.BILLING_MANAGER, True)

    groups.change(seed.org_id, admin_actor(seed), None, want, action="group.created")
    page = signed_in(seed, mailer, seed.admin.email).get(f"/orgs/{seed.org_id}/settings")
    assert page.status == 200
    panel = page.html.split('id="scim-groups-title"')[1].split("</section>")[0]
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td data-label="Role">([^<]+)</td>\s*<td data-label="Seat">(\w+)', panel
    )
    assert rows == [
        ("Account Admins", "Account Admin", "No"),
        ("Billing Managers", "Billing Manager", "No"),
        ("Seat Holders", "—", "Yes"),
    ]
    pushed = panel.split("Field &lt;Sales&gt;</th>")[1].split("</tr>")[0]
    assert re.search(r'<option value="billing_manager" selected>Billing Manager</option>', pushed)
    assert re.search(r'name="seat" value="yes" form="[^"]+" checked', pushed)
    billing = signed_in(seed, mailer, seed.billing.email).get(f"/orgs/{seed.org_id}/settings")
    assert billing.status == 200 and "scim-groups-title" not in billing.html


def test_an_admin_maps_a_pushed_group_from_settings(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    """Save on a group's row gives its members the grant at once; a grant the org cannot take changes nothing."""
    from chalicelib.services import groups
    from chalicelib.storage.audit import AuditModel
    from chalicelib.storage.groups import GroupModel
    from chalicelib.storage.members import MemberModel
    from chalicelib.storage.orgs import OrgModel

    holders = {seed.member.account_id, seed.billing.account_id}

    def want(group: object, current: object) -> groups.Wanted:
        return groups.Wanted("Data Science", None, holders, None, False)

    gid = groups.change(seed.org_id, admin_actor(seed), None, want, action="group.created").group_id
    browser = signed_in(seed, mailer, seed.admin.email)
    url = f"/orgs/{seed.org_id}/settings/scim-groups/{gid}"

    def seated() -> set[str]:
        return {m.account_id for m in MemberModel.query(seed.org_id, consistent_read=True) if m.has_seat}

    orgs.set_capacity(seed.org_id, admin_actor(seed), OrgModel.get(seed.org_id).seats_used + 1)
    before = seated()
    refused = browser.post(url, {"role": "", "seat": "yes"})
    assert refused.status == 402 and "Nothing was changed" in refused.text and "{" not in refused.text
    assert seated() == before and GroupModel.get(seed.org_id, gid).seat is None  # the stored group grants no seat

    orgs.set_capacity(seed.org_id, admin_actor(seed), 10)
    saved = browser.post(url, {"role": "billing_manager", "seat": "yes"})
    assert saved.status == 200, saved.text
    assert "Data Science now gives its members the Billing Manager role and a seat." in saved.text
    assert holders <= seated()
    roles = {m.account_id: m.role for m in MemberModel.query(seed.org_id, consistent_read=True)}
    assert roles[seed.member.account_id] == "billing_manager"

    cleared = browser.post(url, {"role": "", "seat": ""})
    assert cleared.status == 200 and "Data Science now gives its members nothing." in cleared.text
    assert not holders & seated()
    entries = [e.action for e in AuditModel.query(seed.org_id) if e.target == gid]
    assert "group.mapping_set" in entries and "group.mapping_removed" in entries

    bad = browser.post(url, {"role": "owner"})
    assert bad.status == 400 and "Choose a role" in bad.text
    gone = browser.post(f"/orgs/{seed.org_id}/settings/scim-groups/grp_nothing", {"role": "member"})
    assert gone.status == 404 and "no longer there" in gone.text


def test_settings_lists_service_accounts_read_only(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    from chalicelib.domain.roles import Scope
    from chalicelib.services import service_accounts

    account, _, secret = service_accounts.create(
        seed.org_id, admin_actor(seed), "Deploy <bot>", frozenset({Scope.SEATS_WRITE, Scope.MEMBERS_READ})
    )
    service_accounts.grant(account.sa_id, secret, None, basic=True)
    idle, _, idle_secret = service_accounts.create(
        seed.org_id, admin_actor(seed), "idle", frozenset({Scope.AUDIT_READ})
    )
    service_accounts.update(seed.org_id, admin_actor(seed), idle.sa_id, disabled=True)
    page = signed_in(seed, mailer, seed.admin.email).get(f"/orgs/{seed.org_id}/settings")
    assert page.status == 200
    panel = page.html.split('id="service-accounts-title"')[1].split("</section>")[0]
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td data-label="Client ID"><code>([^<]+)</code></td>\s*'
        r'<td data-label="Scopes">([^<]+)</td>\s*<td data-label="Status"><span[^>]*>(\w+)</span>',
        panel,
    )
    assert rows == [
        ("Deploy &lt;bot&gt;", account.sa_id, "members:read, seats:write", "Active"),
        ("idle", idle.sa_id, "audit:read", "Disabled"),
    ]
    assert "last used never" in panel and "last used never" in panel.split(idle.sa_id)[1]
    assert panel.split(idle.sa_id)[0].count("last used never") == 0  # the granted one shows its use
    assert secret not in page.html and idle_secret not in page.html and "<form" not in panel
    billing = signed_in(seed, mailer, seed.billing.email).get(f"/orgs/{seed.org_id}/settings")
    assert billing.status == 200 and "service-accounts-title" not in billing.html


def test_settings_says_why_a_credential_of_a_removed_admin_stopped(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    from chalicelib.domain.roles import Scope
    from chalicelib.services import service_accounts
    from tests.support.helpers import add_person
    from tests.support.member_stream import deliver, raw_member, record

    maker = add_person(seed.org_id, seed.admin, "leaver@acme.test", Role.ACCOUNT_ADMIN)
    maker_actor = Actor(actor=f"account:{maker.account_id}", request_id="test", account_id=maker.account_id)
    scim_tokens.issue(seed.org_id, maker_actor, "leaver-idp")
    service_accounts.create(seed.org_id, maker_actor, "leaver-bot", frozenset({Scope.MEMBERS_READ}))
    before = raw_member(seed.org_id, maker.account_id)
    assert api.delete(f"/v1/orgs/{seed.org_id}/members/{maker.account_id}", seed.admin.key).status == 204
    deliver(record(before, None))
    page = signed_in(seed, mailer, seed.admin.email).get(f"/orgs/{seed.org_id}/settings")
    scim_row = page.html.split("leaver-idp</th>")[1].split("</tr>")[0]
    assert "Revoked" in scim_row and "its creator left the organization" in scim_row
    bot_row = page.html.split("leaver-bot</th>")[1].split("</tr>")[0]
    assert "Disabled" in bot_row and "its creator left the organization" in bot_row
    assert "maker_removed" not in page.html
