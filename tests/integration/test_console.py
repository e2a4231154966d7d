"""The console's pages through chalice.test.Client: sign-in, sessions, forms, invitation and Token Access pages."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clock import set_clock
from chalicelib.config import get_settings
from chalicelib.domain.invitations import InviteItem
from chalicelib.domain.models import Actor
from chalicelib.mail import reset_mailer
from chalicelib.mail.base import MailError, MemoryMailer, Message
from chalicelib.services import invitation_changes, invitations, keys, login_links, seats, sessions
from chalicelib.storage.members import MemberModel
from chalicelib.storage.orgs import OrgModel
from chalicelib.storage.sessions import SessionModel
from chalicelib.storage.tokens import TokenModel, api_key_owner
from tests.support.console_support import (
    SESSIONS_STREAM,
    SIGNIN_LINK,
    Browser,
    deliver_signins,
    set_cookies,
    sign_in,
    signin_code,
)
from tests.support.helpers import Api, Seed
from tests.support.invitation_support import links_to, run_stream, stream_batch
from tests.support.stream_support import counts, invoke
from tests.support.table_scan import scan_all, strings_in


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def signed_in(seed: Seed, mailer: MemoryMailer, email: str | None = None) -> Browser:
    browser = Browser()
    assert sign_in(browser, mailer, email or seed.admin.email).status == 303
    assert browser.get("/").status == 200  # as after the redirect: the page's forms carry the CSRF token
    return browser


def invite(seed: Seed, email: str, role: str = "member") -> str:
    """Invite an address as the seeded admin and return the link token from the delivered email."""
    invitations.invite(seed.org_id, admin_actor(seed), [InviteItem(email=email, role=role)])
    run_stream(stream_batch(seed.org_id))
    from chalicelib.mail import get_mailer

    mailer = get_mailer()
    assert isinstance(mailer, MemoryMailer)
    return links_to(mailer, email)[-1]


# --- headers, errors ---------------------------------------------------------------------------------


def test_every_page_carries_the_security_headers(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    for path in ("/", "/profile", f"/orgs/{seed.org_id}/tokens", "/sign-in/olc_" + "x" * 43, "/orgs/org_nope/tokens"):
        page = browser.get(path)
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.html and " on" + "click=" not in page.html  # no inline script
    css = browser.get("/static/console.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert browser.get("/static/..%2Fweb.py").status == 404


def test_unknown_org_and_broken_pages_answer_pages_in_words(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    missing = browser.get("/orgs/org_doesnotexist/tokens")
    assert missing.status == 404
    assert "Page not found" in missing.text and "{" not in missing.text
    other = browser.get(f"/orgs/{seed.other_org_id}/tokens")  # someone else's org: no hint it exists
    assert other.status == 404 and "Globex" not in other.text
    assert browser.get("/static/nothing.css").status == 404


def test_signed_out_pages_send_people_to_sign_in(api: Api, seed: Seed) -> None:
    browser = Browser()
    home = browser.get("/")
    assert home.status == 200 and "Send sign-in link" in home.html and 'for="email">Email<' in home.html
    tokens = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert tokens.status == 303 and tokens.location == f"/sign-in?next=/orgs/{seed.org_id}/tokens"
    assert tokens.headers["content-type"].startswith("text/html")  # not Chalice's application/json
    assert tokens.headers["referrer-policy"] == "no-referrer"
    refused = browser.post("/orgs", {"name": "Sneaky"})
    assert refused.status == 401 and "Sign in" in refused.text


# --- sign-in -----------------------------------------------------------------------------------------


def test_sign_in_answers_the_same_for_unknown_and_known_emails(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = Browser()
    known = browser.post("/sign-in", {"email": seed.member.email})
    unknown = browser.post("/sign-in", {"email": "nobody@nowhere.test"})
    assert known.status == unknown.status == 200
    assert known.text.replace(seed.member.email, "X") == unknown.text.replace("nobody@nowhere.test", "X")
    # Both wrote one request and mailed nothing yet: the request does the same work either way.
    requests = list(SessionModel.scan())
    assert [r.kind for r in requests] == ["signin", "signin"] and mailer.sent == []
    assert deliver_signins() == {"records": 2, "sent": 1, "no_account": 1}
    [message] = mailer.sent
    assert message.to == seed.member.email
    code = signin_code(mailer, seed.member.email)
    assert f"/sign-in/{code}" in message.text and f"/sign-in/{code}" in (message.html or "")
    assert "POST" not in message.text and "POST" not in (message.html or "")
    assert deliver_signins() == {"records": 0}  # a replayed batch mails nothing again


def test_invalid_email_keeps_what_was_typed(api: Api, seed: Seed) -> None:
    page = Browser().post("/sign-in", {"email": "not-an-email<b>"})
    assert page.status == 400
    assert 'value="not-an-email&lt;b&gt;"' in page.html and 'aria-invalid="true"' in page.html
    assert list(SessionModel.scan()) == []


def test_opening_the_link_does_not_sign_in_pressing_the_button_does(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = Browser()
    browser.post("/sign-in", {"email": seed.member.email})
    deliver_signins()
    code = signin_code(mailer, seed.member.email)
    scanner = Browser()  # a mail scanner prefetching the link
    assert scanner.get(f"/sign-in/{code}").status == 200 and scanner.cookie is None
    page = browser.get(f"/sign-in/{code}")
    assert '<button type="submit" class="primary" autofocus>Sign in</button>' in page.html
    done = browser.post(f"/sign-in/{code}")
    assert done.status == 303 and done.location == "/"
    assert browser.cookie and browser.cookie.startswith("session=ose_")
    assert seed.member.email in browser.get("/").text
    again = Browser().post(f"/sign-in/{code}")
    assert again.status == 400 and "no longer works" in again.text
    assert "no longer works" in Browser().get(f"/sign-in/{code}").text


def test_cookie_flags_and_host_prefix_on_https(
    api: Api, seed: Seed, mailer: MemoryMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = Browser()
    browser.post("/sign-in", {"email": seed.member.email})
    deliver_signins()
    response = browser.client.http.post(
        f"/sign-in/{signin_code(mailer, seed.member.email)}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
        body="",
    )
    [cookie] = (
        response.headers["Set-Cookie"]
        if isinstance(response.headers["Set-Cookie"], list)
        else [response.headers["Set-Cookie"]]
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie and "Secure" not in cookie

    monkeypatch.setattr(get_settings(), "public_base_url", "https://members.example.com")
    secure = Browser()
    secure.post("/sign-in", {"email": seed.member.email}, origin="https://members.example.com")
    deliver_signins()
    raw_redeem = secure.client.http.post(
        f"/sign-in/{signin_code(mailer, seed.member.email)}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://members.example.com"},
        body="",
    )
    assert raw_redeem.status_code == 303
    [https_cookie] = set_cookies(raw_redeem)
    flags = [flag.strip() for flag in https_cookie.split(";")]
    assert "Secure" in flags and "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags
    assert https_cookie.startswith("__Host-session=ose_") and not any(f.startswith("Domain=") for f in flags)
    secure.cookie = https_cookie.split(";")[0]
    raw = secure.client.http.get("/", headers={"Cookie": secure.cookie})
    assert raw.status_code == 200 and b"Organizations" in raw.body


def test_one_used_code_retires_the_others_and_mail_is_rate_limited(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = Browser()
    for _ in range(login_links.MAILS_PER_WINDOW + 2):
        browser.post("/sign-in", {"email": seed.member.email})
        deliver_signins()
    assert len(mailer.sent) == login_links.MAILS_PER_WINDOW  # the rest were not mailed
    codes = [c for m in mailer.sent for c in SIGNIN_LINK.findall(m.text)]
    assert browser.post(f"/sign-in/{codes[-1]}").status == 303
    assert Browser().post(f"/sign-in/{codes[0]}").status == 400  # an older code died with the newer one's use


# --- sessions ----------------------------------------------------------------------------------------


def test_session_idle_and_absolute_expiry(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.member.email)
    start = datetime.now(UTC)
    set_clock(lambda: start + timedelta(hours=11))
    assert browser.get("/profile").status == 200  # within the idle time: slides forward
    set_clock(lambda: start + timedelta(hours=22))
    assert browser.get("/profile").status == 200
    set_clock(lambda: start + timedelta(hours=22 + 13))
    assert browser.get("/profile").status == 303  # idle for 13 h: gone

    set_clock(None)
    fresh = signed_in(seed, mailer, seed.member.email)
    stamp = datetime.now(UTC)
    for hours in range(10, 7 * 24, 10):  # active every 10 hours for a week
        set_clock(lambda h=hours: stamp + timedelta(hours=h))
        assert fresh.get("/profile").status == 200, hours
    set_clock(lambda: stamp + timedelta(days=7, minutes=1))
    assert fresh.get("/profile").status == 303  # the absolute limit holds however active
    item = max((i for i in SessionModel.scan() if i.kind == "session"), key=lambda i: i.created_at)
    assert item.expires_ttl <= int((stamp + timedelta(days=7)).timestamp()) + 5


def test_sign_out_and_sign_out_everywhere(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    laptop = signed_in(seed, mailer, seed.member.email)
    phone = signed_in(seed, mailer, seed.member.email)
    old_cookie = laptop.cookie
    out = laptop.post("/sign-out")
    assert out.status == 200 and "signed out" in out.text and laptop.cookie is None
    laptop.cookie = old_cookie  # a stolen copy of the cookie does not work either
    assert laptop.get("/profile").status == 303
    assert phone.get("/profile").status == 200

    other = signed_in(seed, mailer, seed.member.email)
    asked = other.post("/sign-out-everywhere")
    assert asked.status == 200 and "Sign out on every browser" in asked.text  # asked first (no script)
    done = other.post("/sign-out-everywhere", {"confirmed": "yes"})
    assert done.status == 200 and "Every session of your account ended" in done.text
    assert phone.get("/profile").status == 303
    assert Browser().get("/profile").status == 303


def test_no_session_secret_or_csrf_token_at_rest(
    api: Api, seed: Seed, mailer: MemoryMailer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    browser = signed_in(seed, mailer)
    browser.get("/")
    browser.post("/orgs", {"name": "Second"})
    received = [browser.cookie.split("=", 1)[1] if browser.cookie else "", browser.csrf]
    received += [signin_code(mailer, seed.admin.email)]
    assert all(received)
    stored = [s for items in scan_all().values() for item in items for s in strings_in(item)]
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for secret in received:
        assert not any(secret in value or secret[4:] in value for value in stored)
        assert secret not in logged


# --- forms: CSRF and origin --------------------------------------------------------------------------


def org_names() -> list[str]:
    return sorted(o.name for o in OrgModel.scan())


def test_forms_need_the_csrf_token_and_our_origin(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    browser.get("/")
    before = org_names()
    no_token = browser.post("/orgs", {"name": "NoToken"}, csrf=False)
    assert no_token.status == 403 and "Form out of date" in no_token.text
    wrong = browser.post("/orgs", {"name": "Wrong", "csrf_token": "x" * 43})
    assert wrong.status == 403
    cross = browser.post("/orgs", {"name": "Cross"}, origin="https://evil.example", site="cross-site")
    assert cross.status == 403 and "sent from another site" in cross.text
    lying = browser.post("/orgs", {"name": "Lying"}, origin="https://evil.example", site="same-origin")
    assert lying.status == 403
    blind = browser.post("/orgs", {"name": "Blind"}, origin=None, site=None)
    assert blind.status == 403
    assert org_names() == before
    # Under no-referrer, browsers send Origin: null; Sec-Fetch-Site then says where the form came from.
    ok = browser.post("/orgs", {"name": "Made Here"}, origin="null", site="same-origin")
    assert ok.status == 303 and "Made Here" in org_names()


def test_a_cross_site_post_cannot_sign_someone_in(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = Browser()
    browser.post("/sign-in", {"email": seed.member.email})
    deliver_signins()
    code = signin_code(mailer, seed.member.email)
    forced = Browser().post(f"/sign-in/{code}", origin="https://evil.example", site="cross-site")
    assert forced.status == 403
    assert browser.post(f"/sign-in/{code}").status == 303  # the code was not used up


# --- organizations and markup ------------------------------------------------------------------------


def test_org_names_with_markup_render_as_text(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    browser.get("/")
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    made = browser.post("/orgs", {"name": name})
    assert made.status == 303
    page = browser.get(made.location)
    page = browser.get(page.location) if page.status == 303 else page
    assert "<script>alert" not in page.html and "<img src=x" not in page.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.html
    home = browser.get("/")
    assert "&lt;img src=x onerror=alert(1)&gt;" in home.html


def test_create_org_refuses_a_blank_name_and_keeps_the_page(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    browser.get("/")
    before = org_names()
    page = browser.post("/orgs", {"name": "   "})
    assert page.status == 400 and "Name is required." in page.text
    assert org_names() == before


# --- the invitation page -----------------------------------------------------------------------------


def test_invitee_without_account_accepts_and_is_signed_in(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    token = invite(seed, "newbie@acme.test", "billing_manager")
    [message] = [m for m in mailer.sent if m.to == "newbie@acme.test"]
    assert f"http://127.0.0.1:8000/invitations/{token}" in message.text
    assert "POST" not in message.text and "POST" not in (message.html or "")
    browser = Browser()
    page = browser.get(f"/invitations/{token}")
    assert page.status == 200
    assert "Join Acme" in page.text and "Billing Manager" in page.text and "Accept Invitation" in page.text
    assert "creates one and signs you in" in page.text
    joined = browser.post(f"/invitations/{token}/accept")
    assert joined.status == 200 and "You joined Acme" in joined.text and "signed you in" in joined.text
    assert browser.cookie and browser.cookie.startswith("session=ose_")
    home = browser.get("/")
    assert "newbie@acme.test" in home.text and "Acme" in home.text and "Billing Manager" in home.text
    account_id = joined.html.split("/orgs/")[1].split("/")[0] and next(
        m.account_id for m in MemberModel.query(seed.org_id) if m.email == "newbie@acme.test"
    )
    assert not list(TokenModel.by_owner.query(api_key_owner(account_id)))  # a session, not an API key


def test_invitee_with_account_signed_in_joins(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    token = invite(seed, seed.outsider.email)
    browser = signed_in(seed, mailer, seed.outsider.email)
    page = browser.get(f"/invitations/{token}")
    assert "Accept Invitation" in page.text and "creates one" not in page.text
    joined = browser.post(f"/invitations/{token}/accept")
    assert joined.status == 200 and "You joined Acme" in joined.text and "Go to Token Access" in joined.text
    assert "Acme" in browser.get("/").text


def test_invitee_signed_in_as_someone_else_is_told_whose_invitation_it_is(
    api: Api, seed: Seed, mailer: MemoryMailer
) -> None:
    token = invite(seed, "carol@acme.test")
    browser = signed_in(seed, mailer, seed.outsider.email)
    page = browser.get(f"/invitations/{token}")
    assert "This invitation is for carol@acme.test" in page.text and seed.outsider.email in page.text
    assert "Accept Invitation" not in page.text
    refused = browser.post(f"/invitations/{token}/accept")
    assert refused.status == 403 and "another email address" in refused.text
    out = browser.post("/sign-out", {"next": f"/invitations/{token}"})
    assert out.status == 303 and out.location == f"/invitations/{token}" and browser.cookie is None
    assert Browser().post("/sign-out", {"next": "https://evil.example/"}).status == 200  # no open redirect


def test_existing_account_not_signed_in_joins_then_is_asked_to_sign_in(
    api: Api, seed: Seed, mailer: MemoryMailer
) -> None:
    token = invite(seed, seed.outsider.email)
    browser = Browser()
    joined = browser.post(f"/invitations/{token}/accept")
    assert joined.status == 200 and "already has an account. Sign in" in joined.text
    assert browser.cookie is None  # the link is not a sign-in for an existing account
    assert "/sign-in?email=boss%40globex.test" in joined.html


# The heading of each dead invitation link's page.
DEAD_LINK_WORDS = {
    "expired": "This invitation has expired",
    "removed": "This invitation was removed",
    "superseded": "This invitation link was replaced",
    "accepted": "already accepted",
}


@pytest.mark.parametrize("fate", ["expired", "removed", "superseded", "accepted"])
def test_dead_invitation_links_get_their_own_page(api: Api, seed: Seed, mailer: MemoryMailer, fate: str) -> None:
    token = invite(seed, "late@acme.test")
    if fate == "expired":
        later = datetime.now(UTC) + timedelta(days=8)
        set_clock(lambda: later)
    elif fate == "removed":
        [item] = invitations.list_invitations(seed.org_id, admin_actor(seed)).items
        invitation_changes.remove(seed.org_id, admin_actor(seed), item.invitation_id)
    elif fate == "superseded":
        [item] = invitations.list_invitations(seed.org_id, admin_actor(seed)).items
        invitation_changes.resend(seed.org_id, admin_actor(seed), item.invitation_id)
    else:
        assert Browser().post(f"/invitations/{token}/accept").status == 200
    browser = Browser()
    page = browser.get(f"/invitations/{token}")
    assert page.status == 410 and DEAD_LINK_WORDS[fate] in page.text and "Acme" in page.text
    assert [f for f, words in DEAD_LINK_WORDS.items() if words in page.text] == [fate]  # its own page
    assert "Accept Invitation" not in page.text and "{" not in page.text
    assert browser.post(f"/invitations/{token}/accept").status == 410


def test_a_forged_invitation_link_is_a_page_not_an_error(api: Api, seed: Seed) -> None:
    page = Browser().get("/invitations/org_x.inv_" + "0" * 24 + "." + "a" * 22 + "." + "b" * 43)
    assert page.status == 404 and "does not work" in page.text


# --- Token Access ------------------------------------------------------------------------------------


def test_without_a_seat_the_page_says_whom_to_ask(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.member.email)
    page = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert page.status == 200 and "ask an admin of Acme for a seat" in page.text
    assert "Issue Token" not in page.text
    refused = browser.post(f"/orgs/{seed.org_id}/tokens", {"name": "sneaky", "days": "30"})
    assert refused.status == 403 and "need a seat" in refused.text


def test_issue_shows_the_secret_once_and_it_verifies(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.member.email)
    page = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert "Issue Token" in page.text and 'aria-current="page">Token Access' in page.html
    issued = browser.post(f"/orgs/{seed.org_id}/tokens", {"name": "laptop", "days": "90"})
    assert issued.status == 201 and "shown only once" in issued.text
    secret = issued.html.split('id="new-secret" readonly value="')[1].split('"')[0]
    assert secret.startswith("oat_")
    verified = api.post("/v1/tokens/verify", json_body={"token": secret})
    assert verified.body["active"] is True
    again = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert secret not in again.html and "laptop" in again.text and "Active" in again.text

    # Revoking the seat: the page shows the token revoked at once, and it no longer verifies.
    seats.revoke(seed.org_id, admin_actor(seed), seed.member.account_id)
    after = browser.get(f"/orgs/{seed.org_id}/tokens")
    assert "Revoked" in after.text and "seat revoked" in after.text
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body == {"active": False}


def test_issue_form_errors_keep_what_was_typed(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.member.email)
    browser.get(f"/orgs/{seed.org_id}/tokens")
    blank = browser.post(f"/orgs/{seed.org_id}/tokens", {"name": "", "days": "30"})
    assert blank.status == 400 and "Name is required." in blank.text
    days = browser.post(f"/orgs/{seed.org_id}/tokens", {"name": "ci box", "days": "9999"})
    assert days.status == 400 and "offered expiry" in days.text and 'value="ci box"' in days.html
    assert "oat_" not in days.html


def test_revoke_asks_then_revokes(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.member.email)
    browser.get(f"/orgs/{seed.org_id}/tokens")
    issued = browser.post(f"/orgs/{seed.org_id}/tokens", {"name": "old", "days": "30"})
    secret = issued.html.split('id="new-secret" readonly value="')[1].split('"')[0]
    action = issued.html.split('action="/orgs/')[2].split('"')[0]
    assert action.endswith("/revoke")
    asked = browser.post(f"/orgs/{action}")
    assert asked.status == 200 and "Revoke this token?" in asked.text
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body["active"] is True
    done = browser.post(f"/orgs/{action}", {"confirmed": "yes"})
    assert done.status == 303
    assert api.post("/v1/tokens/verify", json_body={"token": secret}).body == {"active": False}
    assert "revoked by you" in browser.get(f"/orgs/{seed.org_id}/tokens").text
    stranger = signed_in(seed, mailer, seed.outsider.email)
    stranger.get("/")
    assert stranger.post(f"/orgs/{action}", {"confirmed": "yes"}).status == 404


def test_seat_email_points_at_the_token_access_page(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    from tests.support.member_stream import deliver, raw_member, record

    before = raw_member(seed.org_id, seed.member.account_id)
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id)
    deliver(record(before, raw_member(seed.org_id, seed.member.account_id)))
    [message] = [m for m in mailer.sent if m.to == seed.member.email]
    assert f"http://127.0.0.1:8000/orgs/{seed.org_id}/tokens" in message.text
    assert "POST" not in message.text and "POST" not in (message.html or "") and "Token Access" in (message.html or "")


# --- profile -----------------------------------------------------------------------------------------


def test_leave_explains_the_last_admin_rule(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer)
    browser.get("/profile")
    refused = browser.post(f"/orgs/{seed.org_id}/leave", {"confirmed": "yes"})
    assert refused.status == 409 and "last Account Admin of Acme" in refused.text
    member = signed_in(seed, mailer, seed.member.email)
    member.get("/profile")
    asked = member.post(f"/orgs/{seed.org_id}/leave")
    assert "Leave Acme?" in asked.text
    assert member.post(f"/orgs/{seed.org_id}/leave", {"confirmed": "yes"}).status == 303
    assert "Acme" not in member.get("/profile").text.split("Personal API keys")[0]


def test_personal_api_keys_created_once_and_revoked(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.member.email)
    browser.get("/profile")
    made = browser.post("/profile/api-keys", {"name": "script"})
    assert made.status == 201
    secret = made.html.split('id="new-key" readonly value="')[1].split('"')[0]
    assert api.get("/v1/me", secret).status == 200
    assert secret not in browser.get("/profile").html
    [key_id] = re.findall(r'action="/profile/api-keys/(key_[0-9a-f]+)/revoke" data-confirm="[^"]*script', made.html)
    assert browser.post(f"/profile/api-keys/{key_id}/revoke", {"confirmed": "yes"}).status == 303
    assert api.get("/v1/me", secret).status == 401


def test_a_personal_api_key_can_expire(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.member.email)
    page = browser.get("/profile")
    assert '<option value="never" selected>Never</option>' in page.html
    assert '<option value="365">After 365 days</option>' in page.html  # the keys' maximum (API_KEY_MAX_DAYS)
    made = browser.post("/profile/api-keys", {"name": "ci", "days": "30"})
    assert made.status == 201, made.text
    secret = made.html.split('id="new-key" readonly value="')[1].split('"')[0]
    [listed] = [k for k in api.get("/v1/me/api-keys", secret).body["items"] if k["name"] == "ci"]
    expires = datetime.fromisoformat(listed["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    never = browser.post("/profile/api-keys", {"name": "forever"})  # no choice sent: never, as in the API
    assert never.status == 201
    assert [k["expires_at"] for k in api.get("/v1/me/api-keys", secret).body["items"] if k["name"] == "forever"] == [
        None
    ]
    before = len(api.get("/v1/me/api-keys", secret).body["items"])
    for bad in ("7", "366", "soon", "-30"):
        refused = browser.post("/profile/api-keys", {"name": "odd", "days": bad})
        assert refused.status == 400 and "Choose one of the offered expiry times." in refused.text
    assert len(api.get("/v1/me/api-keys", secret).body["items"]) == before


def test_sessions_stand_on_the_account_not_on_a_membership(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.member.email)
    assert browser.get(f"/orgs/{seed.org_id}/tokens").status == 200
    api.delete(f"/v1/orgs/{seed.org_id}/members/{seed.member.account_id}", seed.admin.key)
    assert browser.get(f"/orgs/{seed.org_id}/tokens").status == 404  # removed: the org is gone for them
    assert browser.get("/").status == 200


def test_tampered_or_malformed_cookies_are_no_session(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    browser = signed_in(seed, mailer, seed.member.email)
    assert browser.cookie
    secret = browser.cookie.split("=", 1)[1]
    assert sessions.resolve(secret) is not None
    assert sessions.resolve(secret[:-2] + "zz") is None
    assert sessions.resolve("ose_bad shape") is None


def test_a_reposted_form_issues_nothing_twice(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    seats.assign(seed.org_id, admin_actor(seed), seed.member.account_id, notify=False)
    browser = signed_in(seed, mailer, seed.member.email)
    page = browser.get(f"/orgs/{seed.org_id}/tokens")
    nonce = re.search(r'name="once" value="([^"]+)"', page.html)
    assert nonce
    form = {"name": "laptop", "days": "30", "once": nonce.group(1)}
    assert browser.post(f"/orgs/{seed.org_id}/tokens", form).status == 201
    again = browser.post(f"/orgs/{seed.org_id}/tokens", form)  # a reload of the result page
    assert again.status == 409 and "Already done" in again.text and "oat_" not in again.html
    assert browser.get(f"/orgs/{seed.org_id}/tokens").text.count("laptop") == 1
    profile = browser.get("/profile")
    key_form = {"name": "script", "once": re.findall(r'name="once" value="([^"]+)"', profile.html)[0]}
    assert browser.post("/profile/api-keys", key_form).status == 201
    assert browser.post("/profile/api-keys", key_form).status == 409
    assert len([k for k in keys.list_keys(seed.member.account_id) if k.name == "script"]) == 1


def signin_record(email: str) -> dict[str, object]:
    """The stream record of the newest sign-in request for an address (as the stream would deliver it)."""
    item = max((i for i in SessionModel.scan() if i.kind == "signin" and i.email == email), key=lambda i: i.item_id)
    return {
        "eventID": "replayed",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_700_000_000,
            "Keys": {"secret_hash": {"S": item.secret_hash}},
            "NewImage": item.serialize(),
            "SequenceNumber": "1",
            "SizeBytes": 300,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": SESSIONS_STREAM,
    }


def test_a_replayed_sign_in_record_mails_once(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    login_links.request_link(seed.member.email)
    record = signin_record(seed.member.email)
    first = counts("on_session_change", [record])
    again = counts("on_session_change", [record, record])
    assert first == {"records": 1, "sent": 1} and again == {"records": 2, "skipped": 2}
    assert len(mailer.sent) == 1
    assert invoke("on_session_change", [record]) == {"batchItemFailures": []}  # Lambda's answer: all done


def test_a_failed_sign_in_mail_fails_only_that_request(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    class Down(MemoryMailer):
        def send(self, message: Message) -> str:
            raise MailError("ses down", retryable=True)

    reset_mailer(Down())
    try:
        login_links.request_link(seed.member.email)
        login_links.request_link(seed.admin.email)
        assert deliver_signins() == {"records": 2, "failed": 2}  # the batch is not failed: no other record reruns
    finally:
        reset_mailer(mailer)
    assert {i.mailed for i in SessionModel.scan() if i.kind == "signin"} == {"failed"}
    Browser().post("/sign-in", {"email": seed.member.email})  # asking again works
    assert deliver_signins() == {"records": 1, "sent": 1}
    assert [m.to for m in mailer.sent] == [seed.member.email]


def test_a_link_opened_the_moment_it_arrives_signs_in(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    """The mail reaches the person before the stream records it as sent: the link already works."""
    pages: list[tuple[int, str]] = []

    class ClickedOnArrival(MemoryMailer):
        def send(self, message: Message) -> str:
            code = SIGNIN_LINK.findall(message.text)[0]
            reader = Browser()
            shown = reader.get(f"/sign-in/{code}")
            pages.append((shown.status, shown.text))
            pages.append((reader.post(f"/sign-in/{code}").status, ""))
            return super().send(message)

    reset_mailer(ClickedOnArrival())
    try:
        login_links.request_link(seed.member.email)
        assert deliver_signins() == {"records": 1, "sent": 1}
    finally:
        reset_mailer(mailer)
    (link_status, link_text), (redeem_status, _) = pages
    assert link_status == 200 and "no longer works" not in link_text and "Sign in" in link_text
    assert redeem_status == 303


def test_session_store_on_both_backends(tables: str) -> None:
    from chalicelib.services import accounts
    from chalicelib.storage.base import client

    account, _ = accounts.get_or_create("store@example.com")
    first = sessions.start(account.account_id, account.email)
    second = sessions.start(account.account_id, account.email)
    resolved = sessions.resolve(first)
    assert resolved is not None and resolved.account_id == account.account_id
    assert resolved.csrf_token == sessions.csrf_token(first) != sessions.csrf_token(second)
    sessions.end(first)
    assert sessions.resolve(first) is None and sessions.resolve(second) is not None
    assert sessions.end_all(account.account_id) == 1  # the live one; the first was already ended
    assert sessions.resolve(second) is None
    assert sessions.end_all(account.account_id) == 0
    ttl = client().describe_time_to_live(TableName=SessionModel.Meta.table_name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING") and ttl["AttributeName"] == "expires_ttl"
    assert all(first not in s and second not in s for item in scan_all().values() for i in item for s in strings_in(i))


def test_concurrent_redeems_of_one_link_give_one_session(local_tables: str, mailer: MemoryMailer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.domain.errors import InvalidCode
    from chalicelib.services import bootstrap

    bootstrap.bootstrap("Race", "race@example.com")
    login_links.request_link("race@example.com")
    deliver_signins()
    code = signin_code(mailer, "race@example.com")

    def attempt(_: int) -> str:
        try:
            return login_links.redeem_for_session(code)[0]
        except InvalidCode:
            return "refused"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and sessions.resolve(winners[0]) is not None
    assert len([i for i in SessionModel.scan() if i.kind == "session"]) == 1


def test_the_json_api_cold_start_does_not_load_the_console_templates() -> None:
    """Nothing of Jinja2 is imported by `import app`: only the first page render loads it."""
    import subprocess
    import sys

    code = "import app, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'markupsafe')))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MAIL_BACKEND": "memory"},
    )
    assert result.stdout.strip() == "[]", result.stdout
