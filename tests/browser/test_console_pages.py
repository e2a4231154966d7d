"""The console in a real Chromium against the real local stack, mail read from the outbox like a mailbox.

Each story is followed as a person does it: type, press the buttons the
product reference names, open the links in the emails. axe-core runs on
every page a story reaches; sign-in and accepting are also done by keyboard
alone. Screenshots of each page go to docs/screenshots/ for the README.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS
from tests.browser.harness import RunningStack
from tests.browser.screenshots import screenshot


def new_person() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


def context_for(browser: Browser, stack: RunningStack, phone: bool = False, script: bool = True) -> BrowserContext:
    context = browser.new_context(
        base_url=stack.base_url,
        bypass_csp=True,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        java_script_enabled=script,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(page: Page, stack: RunningStack, email: str, *, keyboard: bool = False, look: bool = False) -> None:
    """Ask for a link on the sign-in page, open it from the mail, press Sign in.

    ``look``: run axe-core on the link-sent page and the emailed link's page, and keep their screenshots.
    """
    mark = stack.mailbox.mark()
    page.goto("/sign-in")
    if keyboard:
        # The Email field has the focus when the page opens (autofocus lands a moment after the load event).
        expect(page.get_by_label("Email")).to_be_focused()
        page.keyboard.type(email)
        expect(page.get_by_label("Email")).to_have_value(email)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    if look:
        assert_accessible(page, "the link-sent page")
        screenshot(page, "sign-in-link-sent")
    mail = stack.mailbox.wait_for(email, "Your sign-in link", after=mark)
    page.goto(mail.link("sign-in page"))
    if look:
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert_accessible(page, "the emailed sign-in link's page")
        screenshot(page, "sign-in-link")
    if keyboard:
        expect(page.get_by_role("button", name="Sign in")).to_be_focused()
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organizations")).to_be_visible()


@pytest.fixture(scope="module")
def admin(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    """The demo org's admin, signed in once for the module (sign-in mail is rate-limited per account)."""
    context = context_for(browser, stack)
    page = context.new_page()
    sign_in(page, stack, stack.demo.admin_email)
    yield page
    context.close()


def invite(stack: RunningStack, email: str, org_id: str | None = None, role: str = "member") -> str:
    """Invite through the JSON API as the demo admin; returns the invitation id."""
    reply = stack.call(
        "POST",
        f"/v1/orgs/{org_id or stack.demo.org_id}/invitations",
        stack.demo.api_key,
        {"emails": [email], "role": role},
    )
    assert reply.status == 200 and reply.body["summary"]["invited"] == 1, reply.body
    return str(reply.body["results"][0]["invitation_id"])


def account_of(stack: RunningStack, email: str) -> str:
    members = stack.call("GET", f"/v1/orgs/{stack.demo.org_id}/members?email_prefix={email}", stack.demo.api_key)
    [member] = members.body["items"]
    return str(member["account_id"])


def accept_as_new_person(page: Page, stack: RunningStack) -> str:
    """Invite a new person to the demo org and accept from the mail in ``page`` (signed in after); the email."""
    email = new_person()
    mark = stack.mailbox.mark()
    invite(stack, email)
    page.goto(stack.mailbox.wait_for(email, "You are invited", after=mark).link("See the invitation"))
    page.get_by_role("button", name="Accept Invitation").click()
    expect(page.get_by_role("heading", name="You joined")).to_be_visible()
    return email


def joined(browser: Browser, stack: RunningStack) -> str:
    """A new person who accepted an invitation to the demo org (so has an account); returns the email."""
    context = context_for(browser, stack)
    email = accept_as_new_person(context.new_page(), stack)
    context.close()
    return email


def verify(stack: RunningStack, secret: str) -> bool:
    return bool(stack.call("POST", "/v1/tokens/verify", json={"token": secret}).body["active"])


# --- sign-in -----------------------------------------------------------------------------------------


def test_sign_in_by_the_emailed_link(admin: Page, stack: RunningStack) -> None:
    page = admin
    page.goto("/")
    expect(page.get_by_role("link", name=stack.demo.org_name)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(stack.demo.admin_email)
    assert_accessible(page, "the Organizations page")
    screenshot(page, "organizations")


def test_sign_in_pages_are_accessible_and_work_by_keyboard(browser: Browser, stack: RunningStack) -> None:
    context = context_for(browser, stack)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="Send sign-in link")).to_be_visible()
    assert_accessible(page, "the sign-in page")
    screenshot(page, "sign-in")
    mark = stack.mailbox.mark()
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Send sign-in link").click()
    expect(page.get_by_text("Enter an email address")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("not an email")
    assert_accessible(page, "the sign-in page with an error")
    assert stack.mailbox.messages(mark) == []
    context.close()

    email = joined(browser, stack)  # someone with an account, signing in by keyboard alone
    context = context_for(browser, stack)
    page = context.new_page()
    sign_in(page, stack, email, keyboard=True, look=True)
    expect(page.get_by_role("banner")).to_contain_text(email)
    context.close()


def test_unknown_email_gets_the_same_page_and_no_mail(browser: Browser, stack: RunningStack) -> None:
    context = context_for(browser, stack)
    page = context.new_page()
    mark = stack.mailbox.mark()
    page.goto("/sign-in")
    page.get_by_label("Email").fill("nobody-here@example.com")
    page.get_by_role("button", name="Send sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page, "the link-sent page")
    page.wait_for_timeout(1500)  # the stream pump has had time to act on the request
    assert [m for m in stack.mailbox.messages(mark) if m.to == "nobody-here@example.com"] == []
    context.close()


# --- invitations -------------------------------------------------------------------------------------


def test_invitee_without_account_accepts_from_the_email_by_keyboard_and_lands_signed_in(
    browser: Browser, stack: RunningStack
) -> None:
    email = new_person()
    mark = stack.mailbox.mark()
    invite(stack, email, role="billing_manager")
    mail = stack.mailbox.wait_for(email, f"You are invited to join {stack.demo.org_name}", after=mark)
    assert "POST" not in mail.text
    context = context_for(browser, stack)
    page = context.new_page()
    mail.show_in(page)
    page.get_by_role("link", name="See the invitation and accept it").click()
    expect(page.get_by_role("heading", name=f"Join {stack.demo.org_name}")).to_be_visible()
    expect(page.locator("dl")).to_contain_text("Billing Manager")
    expect(page.locator("dl")).to_contain_text(email)
    assert_accessible(page, "the invitation page")
    screenshot(page, "invitation")
    for _ in range(10):  # by keyboard alone: Tab to the button, press Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Accept Invitation":
            break
    else:
        raise AssertionError("Accept Invitation cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"You joined {stack.demo.org_name}")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(email)  # signed in
    assert_accessible(page, "the joined page")
    screenshot(page, "invitation-joined")
    page.get_by_role("link", name="Go to Token Access").click()
    expect(page.get_by_text(f"ask an admin of {stack.demo.org_name} for a seat")).to_be_visible()
    expect(page.get_by_role("button", name="Issue Token")).to_have_count(0)
    context.close()


def test_invitee_with_an_account_accepts(browser: Browser, stack: RunningStack, admin: Page) -> None:
    email = new_person()
    first = context_for(browser, stack)  # becomes an account by joining the demo org
    page = first.new_page()
    mark = stack.mailbox.mark()
    invite(stack, email)
    page.goto(stack.mailbox.wait_for(email, "You are invited", after=mark).link("See the invitation"))
    page.get_by_role("button", name="Accept Invitation").click()
    expect(page.get_by_role("heading", name="You joined")).to_be_visible()
    first.close()

    second_org = stack.call("POST", "/v1/orgs", stack.demo.api_key, {"name": f"Second {uuid.uuid4().hex[:4]}"})
    assert second_org.status == 201, second_org.body
    context = context_for(browser, stack)
    page = context.new_page()
    sign_in(page, stack, email)
    mark = stack.mailbox.mark()
    invite(stack, email, org_id=second_org.body["org_id"])
    link = stack.mailbox.wait_for(email, "You are invited", after=mark).link("See the invitation")
    admin.goto(link)  # someone else's browser: the page says whose invitation it is
    expect(admin.get_by_role("alert")).to_contain_text(f"This invitation is for {email}")
    expect(admin.get_by_role("alert").get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(admin, "the invitation page, signed in as someone else")
    page.goto(link)
    page.get_by_role("button", name="Accept Invitation").click()
    expect(page.get_by_role("heading", name=f"You joined {second_org.body['name']}")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("link", name=second_org.body["name"])).to_be_visible()
    context.close()


def stack_table(stack: RunningStack, base: str) -> object:
    """A table of the running stack's DynamoDB Local (what the stack's own stack.json records)."""
    info = json.loads((stack.local_dir / "stack.json").read_text())
    ddb = boto3.resource(
        "dynamodb",
        endpoint_url=info["dynamodb_endpoint"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return ddb.Table(f"{info['table_prefix']}{base}")


def test_expired_and_removed_links_show_their_pages(page: Page, stack: RunningStack) -> None:
    expired, removed = new_person(), new_person()
    mark = stack.mailbox.mark()
    expired_id, removed_id = invite(stack, expired), invite(stack, removed)
    expired_link = stack.mailbox.wait_for(expired, "You are invited", after=mark).link("See the invitation")
    removed_link = stack.mailbox.wait_for(removed, "You are invited", after=mark).link("See the invitation")

    # Seven days pass for one of them (its expiry moved into the past; the hourly job has not run).
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stack_table(stack, "invitations").update_item(  # type: ignore[attr-defined]
        Key={"org_id": stack.demo.org_id, "invitation_id": expired_id},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": past},
    )
    page.goto(expired_link)
    expect(page.get_by_role("heading", name="This invitation has expired")).to_be_visible()
    expect(page.get_by_text(f"Ask an admin of {stack.demo.org_name} to resend it.")).to_be_visible()
    assert_accessible(page, "the expired-invitation page")
    screenshot(page, "invitation-expired")

    assert (
        stack.call("DELETE", f"/v1/orgs/{stack.demo.org_id}/invitations/{removed_id}", stack.demo.api_key).status == 204
    )
    response = page.goto(removed_link)
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", name="This invitation was removed")).to_be_visible()
    expect(page.get_by_role("button", name="Accept Invitation")).to_have_count(0)
    assert_accessible(page, "the removed-invitation page")
    screenshot(page, "invitation-removed")


# --- Token Access ------------------------------------------------------------------------------------


def test_seated_member_issues_a_token_that_dies_with_the_seat(browser: Browser, stack: RunningStack) -> None:
    email = new_person()
    context = context_for(browser, stack)
    page = context.new_page()
    mark = stack.mailbox.mark()
    invite(stack, email)
    page.goto(stack.mailbox.wait_for(email, "You are invited", after=mark).link("See the invitation"))
    page.get_by_role("button", name="Accept Invitation").click()
    expect(page.get_by_role("heading", name="You joined")).to_be_visible()

    account_id = account_of(stack, email)
    mark = stack.mailbox.mark()
    seated = stack.call("POST", f"/v1/orgs/{stack.demo.org_id}/members/{account_id}/seat", stack.demo.api_key)
    assert seated.status == 200, seated.body
    seat_mail = stack.mailbox.wait_for(email, f"You have a seat in {stack.demo.org_name}", after=mark)
    assert "POST" not in seat_mail.text
    seat_mail.show_in(page)
    page.get_by_role("link", name="Token Access").click()
    expect(page.get_by_role("heading", name="Token Access")).to_be_visible()
    assert_accessible(page, "the Token Access page")

    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Expires after").select_option("90")
    page.get_by_role("button", name="Issue Token").click()
    expect(page.get_by_text("shown only once")).to_be_visible()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("oat_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert_accessible(page, "the Token Access page with a new secret")
    screenshot(page, "token-access")
    assert verify(stack, secret)

    page.reload()  # the browser posts the form again: nothing is issued twice, no secret is shown again
    expect(page.get_by_role("heading", name="Already done")).to_be_visible()
    page.goto(f"/orgs/{stack.demo.org_id}/tokens")
    expect(page.get_by_role("row", name=re.compile("laptop"))).to_contain_text("Active")
    assert secret not in page.content()

    revoked = stack.call("DELETE", f"/v1/orgs/{stack.demo.org_id}/members/{account_id}/seat", stack.demo.api_key)
    assert revoked.status == 204, revoked.body
    assert not verify(stack, secret)  # dead the moment the call returned
    page.reload()
    row = page.get_by_role("row", name=re.compile("laptop"))
    expect(row).to_contain_text("Revoked")
    expect(row).to_contain_text("seat revoked")
    expect(page.get_by_text(f"ask an admin of {stack.demo.org_name} for a seat")).to_be_visible()
    context.close()


def test_revoke_asks_in_a_dialog(browser: Browser, stack: RunningStack, admin: Page) -> None:
    page = admin
    seat = stack.call("POST", f"/v1/orgs/{stack.demo.org_id}/members/{stack.demo.account_id}/seat", stack.demo.api_key)
    assert seat.status in (200, 409), seat.body
    page.goto(f"/orgs/{stack.demo.org_id}/tokens")
    name = f"ci-{uuid.uuid4().hex[:4]}"
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Issue Token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    page.get_by_role("button", name=f"Revoke {name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Revoke the token “{name}”?")
    assert_accessible(page, "the revoke dialog")
    dialog.get_by_role("button", name="Cancel").click()
    assert verify(stack, secret)
    page.get_by_role("button", name=f"Revoke {name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text("revoked by you")
    assert not verify(stack, secret)


# --- profile, sign out, safety -----------------------------------------------------------------------


def test_profile_page(admin: Page) -> None:
    admin.goto("/profile")
    expect(admin.get_by_role("heading", name="Personal API keys")).to_be_visible()
    admin.get_by_label("Name").fill("deploy script")
    admin.get_by_role("button", name="Create API Key").click()
    expect(admin.get_by_label("API key", exact=True)).to_have_value(re.compile("^oak_"))
    assert_accessible(admin, "the Profile page")
    screenshot(admin, "profile")
    admin.get_by_role("button", name="Leave organization Demo Org").click()
    admin.get_by_role("dialog").get_by_role("button", name="Leave organization").click()
    expect(admin.get_by_role("alert")).to_contain_text("last Account Admin of Demo Org")


def test_sign_out(browser: Browser, stack: RunningStack) -> None:
    context = context_for(browser, stack)
    page = context.new_page()
    accept_as_new_person(page, stack)
    page.goto("/profile")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert_accessible(page, "the signed-out page")
    page.goto("/profile")
    expect(page.get_by_role("button", name="Send sign-in link")).to_be_visible()
    context.close()


def test_sign_out_everywhere_without_script_asks_on_a_page(browser: Browser, stack: RunningStack) -> None:
    """Every action works as a plain form: with script off, the question is a page of its own."""
    context = context_for(browser, stack, script=False)
    page = context.new_page()
    accept_as_new_person(page, stack)
    page.goto("/profile")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("Sign out on every browser and device, this one too?")).to_be_visible()
    screenshot(page, "confirm")
    # axe needs script: the same page's markup, checked in a page that runs it (same origin, same stylesheet).
    checker = context_for(browser, stack).new_page()
    checker.goto("/sign-in")
    checker.set_content(page.content())
    assert_accessible(checker, "the confirmation page")
    checker.context.close()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Signed out everywhere")).to_be_visible()
    expect(page.get_by_text("(1 in all)")).to_be_visible()
    page.goto("/profile")
    expect(page.get_by_role("button", name="Send sign-in link")).to_be_visible()
    context.close()


def test_a_cross_site_form_post_is_refused(admin: Page, stack: RunningStack) -> None:
    evil = "http://attacker.example/"
    name = f"Forged {uuid.uuid4().hex[:6]}"
    admin.route(
        evil,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<!doctype html><html lang="en"><title>win</title><form method="post" '
            f'action="{stack.base_url}/orgs"><input name="name" value="{name}"><button>Claim</button></form>',
        ),
    )
    admin.goto(evil)
    admin.get_by_role("button", name="Claim").click()
    expect(admin.get_by_role("heading", name="Form refused")).to_be_visible()
    expect(admin.get_by_text("sent from another site")).to_be_visible()
    assert_accessible(admin, "the form-refused page")
    admin.unroute(evil)
    admin.goto("/")
    expect(admin.get_by_text(name)).to_have_count(0)


def test_an_org_name_with_markup_renders_as_text(admin: Page) -> None:
    dialogs: list[str] = []
    admin.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    name = f"<img src=x onerror=alert(1)> Ltd {uuid.uuid4().hex[:4]}"
    admin.goto("/")
    admin.get_by_label("Name").fill(name)
    admin.get_by_role("button", name="Create Organization").click()
    expect(admin.get_by_role("heading", name="Token Access")).to_be_visible()
    expect(admin.get_by_role("navigation", name=name)).to_contain_text(name)  # shown as the words typed
    assert admin.locator("img[src=x]").count() == 0 and dialogs == []
    admin.goto("/")
    expect(admin.get_by_role("link", name=name)).to_be_visible()


def test_unknown_pages_are_a_404_page(page: Page) -> None:
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page, "the 404 page")
    screenshot(page, "not-found")


def test_pages_fit_a_phone(browser: Browser, stack: RunningStack, admin: Page) -> None:
    context = context_for(browser, stack, phone=True)
    context.add_cookies(admin.context.cookies())
    page = context.new_page()
    for path in ("/", f"/orgs/{stack.demo.org_id}/tokens", "/profile"):
        page.goto(path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 360px screen"
    screenshot(page, "profile-phone")
    context.close()


def test_pages_run_under_their_own_content_security_policy(browser: Browser, stack: RunningStack, admin: Page) -> None:
    """Without the CSP bypass the other tests use for axe: the script runs, and nothing is blocked."""
    context = browser.new_context(base_url=stack.base_url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies(admin.context.cookies())
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    for path in ("/", f"/orgs/{stack.demo.org_id}/tokens", "/profile", "/sign-in/olc_" + "x" * 43):
        response = page.goto(path)
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.goto("/profile")
    page.get_by_role("button", name="Sign out everywhere").click()
    dialog = page.get_by_role("dialog")  # drawn by the console's script: it ran under the policy
    expect(dialog).to_contain_text("Sign out on every browser")
    dialog.get_by_role("button", name="Cancel").click()
    assert blocked == []
    context.close()


def test_audit_log_and_settings_pages(admin: Page, stack: RunningStack) -> None:
    page = admin
    seat = stack.call("POST", f"/v1/orgs/{stack.demo.org_id}/members/{stack.demo.account_id}/seat", stack.demo.api_key)
    assert seat.status in (200, 409), seat.body  # at least one seat in use, so capacity 0 is refused
    page.goto(f"/orgs/{stack.demo.org_id}/tokens")
    nav = page.get_by_role("navigation", name=stack.demo.org_name)
    expect(nav.get_by_role("link")).to_have_text(["Invitations", "Users", "Token Access", "Audit Log", "Settings"])
    nav.get_by_role("link", name="Audit Log").click()
    expect(page.get_by_role("heading", name="Audit Log")).to_be_visible()
    expect(page.get_by_role("row").nth(1)).to_be_visible()
    assert_accessible(page, "the Audit Log page")
    screenshot(page, "audit-log")
    page.get_by_label("Action").fill("invitation.created")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody code").first).to_have_text("invitation.created")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    page.get_by_label("Seat capacity").fill("0")
    page.get_by_role("button", name="Save Capacity").click()
    expect(page.get_by_role("alert")).to_contain_text("seats are in use")
    page.get_by_label("Token name").fill("okta")
    page.get_by_role("button", name="Create SCIM Token").click()
    expect(page.get_by_label("SCIM token", exact=True)).to_have_value(re.compile("^osc_"))
    scim_secret = page.get_by_label("SCIM token", exact=True).input_value()

    # The identity provider pushes a group; the admin makes it seat-granting from its row.
    name = f"Data Science {secrets.token_hex(3)}"
    group = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": stack.demo.account_id}],
    }
    pushed = stack.call("POST", "/scim/v2/Groups", scim_secret, group)
    assert pushed.status == 201, pushed.body
    page.goto(f"/orgs/{stack.demo.org_id}/settings")
    row = page.get_by_role("row", name=re.compile(name))
    expect(row.get_by_label(f"Role for {name}")).to_have_value("")
    row.get_by_label(f"Grants a seat ({name})").check()
    row.get_by_role("button", name=f"Save what {name} grants").click()
    expect(page.get_by_role("status").filter(has_text=name)).to_have_text(f"{name} now gives its members a seat.")
    expect(page.get_by_role("row", name=re.compile(name)).get_by_label(f"Grants a seat ({name})")).to_be_checked()
    assert_accessible(page, "the Settings page")
    screenshot(page, "settings")
