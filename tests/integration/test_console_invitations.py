"""The admin's Invitations page through chalice.test.Client: invite, upload, download, resend, remove, bulk, paging."""

from __future__ import annotations

import csv
import io
import re
import uuid
from html import unescape
from urllib.parse import urlencode

from chalicelib.domain.invitations import InviteItem
from chalicelib.domain.models import Actor
from chalicelib.mail.base import MemoryMailer
from chalicelib.services import invitation_changes, invitations, sessions
from chalicelib.storage.invitations import InvitationModel, slot_id
from tests.support.console_support import ORIGIN, Browser, Page
from tests.support.helpers import Api, Person, Seed


def admin_actor(seed: Seed) -> Actor:
    return Actor(actor=f"account:{seed.admin.account_id}", request_id="test", account_id=seed.admin.account_id)


def as_person(person: Person) -> Browser:
    """A browser with a session for the person (the sign-in itself is tested in test_console.py)."""
    browser = Browser()
    secret = sessions.start(person.account_id, person.email)
    browser.cookie = f"session={secret}"
    browser.csrf = sessions.csrf_token(secret)
    return browser


def invite_as_admin(seed: Seed, *emails: str) -> list[str]:
    invitations.invite(seed.org_id, admin_actor(seed), [InviteItem(email=e) for e in emails])
    return [slot_id(seed.org_id, e) for e in emails]


def invited(seed: Seed, email: str) -> bool:
    return InvitationModel.count(seed.org_id, InvitationModel.invitation_id == slot_id(seed.org_id, email)) > 0


def status_of(seed: Seed, invitation_id: str) -> str:
    return str(InvitationModel.get(seed.org_id, invitation_id, consistent_read=True).status)


def upload(browser: Browser, path: str, data: bytes, filename: str = "people.csv", role: str = "member") -> Page:
    """A multipart/form-data post, as a browser sends a file input without script."""
    boundary = f"----form{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{browser.csrf}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="role"\r\n\r\n{role}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    headers = browser._headers(
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Origin": ORIGIN,
            "Sec-Fetch-Site": "same-origin",
        }
    )
    return browser._keep(browser.client.http.post(path, headers=headers, body=b"".join(parts)))


def result_rows(page: Page, table_id: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page.html, re.S)
    assert table, f"no table {table_id}"
    return [Page(200, row, {}).text for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]]


# --- the page ------------------------------------------------------------------------------------------


def test_page_lists_invitations_with_delivery_and_seat_meter(api: Api, seed: Seed) -> None:
    invite_as_admin(seed, "listed@acme.test")
    page = as_person(seed.admin).get(f"/orgs/{seed.org_id}/invitations")
    assert page.status == 200
    text = page.text
    assert "listed@acme.test" in text and "Queued" in text and "Pending" in text
    assert "Seats: 0 used of 10, 10 available." in text  # the same meter as on the Users page
    for words in ("Invite Users", "Invite Members", "Bulk Upload", "Resend Invitations", "Remove Invitations"):
        assert words in text
    assert 'aria-label="Resend Email Invite to listed@acme.test"' in page.html
    assert 'aria-label="Remove Invite to listed@acme.test"' in page.html
    assert 'aria-current="page">Invitations' in page.html


def test_a_failed_delivery_shows_its_reason(api: Api, seed: Seed) -> None:
    (invitation_id,) = invite_as_admin(seed, "bounced@acme.test")
    item = InvitationModel.get(seed.org_id, invitation_id)
    item.update(
        actions=[InvitationModel.delivery_status.set("failed"), InvitationModel.delivery_error.set("mailbox full")]
    )
    text = as_person(seed.admin).get(f"/orgs/{seed.org_id}/invitations").text
    assert "Failed mailbox full" in text


# --- invite by typing ----------------------------------------------------------------------------------


def test_invite_typed_list_says_each_result_in_words(api: Api, seed: Seed) -> None:
    invite_as_admin(seed, "old@acme.test")
    browser = as_person(seed.admin)
    browser.get(f"/orgs/{seed.org_id}/invitations")
    typed = f"new1@acme.test, new2@acme.test\nold@acme.test {seed.member.email};not-an-email new1@acme.test"
    page = browser.post(f"/orgs/{seed.org_id}/invitations", {"emails": typed, "role": "billing_manager"})
    assert page.status == 200
    rows = result_rows(page, "invite-results")
    assert rows[0].startswith("new1@acme.test invited")
    assert rows[1].startswith("new2@acme.test invited")
    assert rows[2].startswith("old@acme.test already invited")
    assert rows[3].startswith(f"{seed.member.email} already a member")
    assert rows[4].startswith("not-an-email not an email")
    assert rows[5].startswith("new1@acme.test duplicate")
    assert "Invitations: 2 invited, 1 already invited, 1 already a member, 1 not an email, 1 duplicate." in page.text
    assert 'role="status"' in page.html
    item = InvitationModel.get(seed.org_id, slot_id(seed.org_id, "new2@acme.test"))
    assert item.role == "billing_manager" and item.status == "pending"


def test_invite_with_nothing_typed_or_a_bad_role_keeps_the_form(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    page = browser.post(f"/orgs/{seed.org_id}/invitations", {"emails": "  , ", "role": "member"})
    assert page.status == 400 and "Type at least one email address." in page.text
    page = browser.post(f"/orgs/{seed.org_id}/invitations", {"emails": "kept@acme.test", "role": "owner"})
    assert page.status == 400 and "Choose one of the offered roles." in page.text
    assert ">kept@acme.test</textarea>" in page.html
    assert not invited(seed, "kept@acme.test")


# --- bulk upload ---------------------------------------------------------------------------------------


def test_csv_upload_reports_rows_by_line(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    data = b"email,role\r\ncsv1@acme.test,member\r\n\r\nnot an email,member\r\ncsv2@acme.test,billing_manager\r\n"
    page = upload(browser, f"/orgs/{seed.org_id}/invitations/upload", data)
    assert page.status == 200, page.text[:400]
    rows = result_rows(page, "upload-results")
    assert rows[0].startswith("2 csv1@acme.test invited")
    assert rows[1].startswith("4 not an email not an email")
    assert rows[2].startswith("5 csv2@acme.test invited")
    assert "Invitations: 2 invited, 1 not an email." in page.text
    assert InvitationModel.get(seed.org_id, slot_id(seed.org_id, "csv2@acme.test")).role == "billing_manager"


def test_csv_upload_refusals_say_why_and_change_nothing(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    before = InvitationModel.count(seed.org_id)
    page = upload(
        browser, f"/orgs/{seed.org_id}/invitations/upload", "email\nlatin1-\xe9@acme.test\n".encode("latin-1")
    )
    assert page.status == 400 and "not UTF-8" in page.text and "Nothing was changed." in page.text
    page = upload(browser, f"/orgs/{seed.org_id}/invitations/upload", b"")
    assert page.status == 400 and "Choose a .csv file to upload." in page.text
    page = browser.post(f"/orgs/{seed.org_id}/invitations/upload", {"role": "member"})
    assert page.status == 400 and "Choose a .csv file to upload." in page.text
    assert InvitationModel.count(seed.org_id) == before


def test_upload_needs_the_csrf_token_too(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    browser.csrf = "forged"
    page = upload(browser, f"/orgs/{seed.org_id}/invitations/upload", b"sneaky@acme.test\n")
    assert page.status == 403 and "Form out of date" in page.text
    assert not invited(seed, "sneaky@acme.test")


def test_results_download_is_csv_safe_against_formula_injection(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    data = b'email\n=cmd|"/c calc"!A1\n+1@acme.test\n@sum(1)\n-2\nsafe@acme.test\n'
    page = upload(browser, f"/orgs/{seed.org_id}/invitations/upload", data)
    assert page.status == 200
    token = re.search(r'name="results" value="([^"]+)"', page.html)
    assert token
    response = browser.client.http.post(
        f"/orgs/{seed.org_id}/invitations/upload-results",
        headers=browser._headers(
            {
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",  # what browsers send with a form post
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": ORIGIN,
                "Sec-Fetch-Site": "same-origin",
            }
        ),
        body=urlencode({"csrf_token": browser.csrf, "results": unescape(token.group(1))}),
    )
    assert response.status_code == 200, response.body[-2500:]
    headers = {k.lower(): v for k, v in dict(response.headers).items()}
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"].startswith("attachment;")
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["line", "email", "result", "detail"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert rows[1][:3] == ["2", '\'=cmd|"/c calc"!A1', "not an email"]
    assert rows[5][:3] == ["6", "safe@acme.test", "invited"]


def test_a_tampered_results_token_downloads_nothing(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    page = browser.post(f"/orgs/{seed.org_id}/invitations/upload-results", {"results": "eJzLSM3JyQcABiwCFQ"})
    assert page.status == 400 and "no upload results" in page.text


# --- one invitation ------------------------------------------------------------------------------------


def test_resend_one_issues_a_new_link(api: Api, seed: Seed) -> None:
    (invitation_id,) = invite_as_admin(seed, "again@acme.test")
    old = InvitationModel.get(seed.org_id, invitation_id)
    browser = as_person(seed.admin)
    page = browser.post(f"/orgs/{seed.org_id}/invitations/{invitation_id}/resend")
    assert page.status == 200 and "Invitation to again@acme.test sent again" in page.text
    new = InvitationModel.get(seed.org_id, invitation_id)
    assert new.issue == old.issue + 1 and new.link_nonce != old.link_nonce


def test_remove_one_asks_first_then_removes(api: Api, seed: Seed) -> None:
    (invitation_id,) = invite_as_admin(seed, "gone@acme.test")
    browser = as_person(seed.admin)
    page = browser.get(f"/orgs/{seed.org_id}/invitations")
    assert 'data-confirm="Remove the invitation to gone@acme.test? Its link stops working at once."' in page.html
    path = f"/orgs/{seed.org_id}/invitations/{invitation_id}/remove"
    asked = browser.post(path)
    assert asked.status == 200 and "Remove the invitation to gone@acme.test?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.html
    assert status_of(seed, invitation_id) == "pending"
    done = browser.post(path, {"confirmed": "yes"})
    assert done.status == 200 and "Invitation to gone@acme.test removed" in done.text
    assert status_of(seed, invitation_id) == "revoked"


def test_remove_an_accepted_or_unknown_invitation_is_a_page_in_words(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    page = browser.post(f"/orgs/{seed.org_id}/invitations/inv_{'0' * 24}/remove", {"confirmed": "yes"})
    assert page.status == 404 and "Page not found" in page.text


# --- many at once --------------------------------------------------------------------------------------


def test_bulk_resend_select_confirm_summary(api: Api, seed: Seed) -> None:
    ids = invite_as_admin(seed, "b1@acme.test", "b2@acme.test", "b3@acme.test")
    browser = as_person(seed.admin)
    page = browser.get(f"/orgs/{seed.org_id}/invitations?select=resend")
    assert 'aria-label="Select b1@acme.test"' in page.html and "data-select-all" in page.html
    assert "Resend Invitations" in page.text and "Resend Email Invite" not in page.text
    asked = browser.post(f"/orgs/{seed.org_id}/invitations/resend", {"invitation_id": ids[:2]})
    assert asked.status == 200 and "Resend 2 invitations?" in asked.text
    assert ">Resend</button>" in asked.html
    assert all(InvitationModel.get(seed.org_id, i).issue == 1 for i in ids)
    done = browser.post(f"/orgs/{seed.org_id}/invitations/resend", {"invitation_id": ids[:2], "confirmed": "yes"})
    assert done.status == 200 and "Resend invitations: 2 resent." in done.text
    assert [InvitationModel.get(seed.org_id, i).issue for i in ids] == [2, 2, 1]


def test_bulk_remove_with_select_all_and_mixed_outcomes(api: Api, seed: Seed) -> None:
    ids = invite_as_admin(seed, "r1@acme.test", "r2@acme.test")
    invitation_changes.remove(seed.org_id, admin_actor(seed), ids[1])
    browser = as_person(seed.admin)
    page = browser.get(f"/orgs/{seed.org_id}/invitations?select=remove")
    assert 'aria-label="Select r1@acme.test"' in page.html
    assert 'aria-label="Select r2@acme.test"' not in page.html  # already removed: nothing to select
    asked = browser.post(f"/orgs/{seed.org_id}/invitations/remove", {"all": "yes", "shown": [ids[0]]})
    assert "Remove 1 invitation?" in asked.text and ">Remove</button>" in asked.html
    done = browser.post(f"/orgs/{seed.org_id}/invitations/remove", {"invitation_id": ids, "confirmed": "yes"})
    assert "Remove invitations: 1 removed, 1 already removed." in done.text
    assert status_of(seed, ids[0]) == "revoked"


def test_bulk_with_nothing_selected_says_so(api: Api, seed: Seed) -> None:
    invite_as_admin(seed, "none@acme.test")
    page = as_person(seed.admin).post(f"/orgs/{seed.org_id}/invitations/resend", {"confirmed": "yes"})
    assert page.status == 400 and "Select at least one invitation." in page.text
    assert 'aria-label="Select none@acme.test"' in page.html


# --- filter and paging ---------------------------------------------------------------------------------


def test_filter_and_page_through_120(api: Api, seed: Seed) -> None:
    emails = [f"p{n:03}@acme.test" for n in range(120)]
    ids = [i for n in range(0, 120, 40) for i in invite_as_admin(seed, *emails[n : n + 40])]  # moto: one tx at a time
    invitation_changes.remove_many(seed.org_id, admin_actor(seed), ids[:5])
    browser = as_person(seed.admin)
    seen: list[str] = []
    path = f"/orgs/{seed.org_id}/invitations"
    pages = 0
    while path:
        page = browser.get(path)
        assert page.status == 200
        found = re.findall(r'<th scope="row">(p\d{3}@acme\.test)</th>', page.html)
        assert len(found) <= 50
        seen += found
        pages += 1
        link = re.search(r'<a href="([^"]+)">Next page</a>', page.html)
        path = link.group(1).replace("&amp;", "&") if link else ""
    assert sorted(seen) == emails and pages >= 3
    revoked = browser.get(f"/orgs/{seed.org_id}/invitations?status=revoked")
    assert sorted(re.findall(r'<th scope="row">(p\d{3}@acme\.test)</th>', revoked.html)) == emails[:5]
    assert '<option value="revoked" selected>' in revoked.html
    none = browser.get(f"/orgs/{seed.org_id}/invitations?status=accepted")
    assert "No invitations with status accepted" in none.text


def test_a_broken_cursor_is_a_page_in_words(api: Api, seed: Seed) -> None:
    page = as_person(seed.admin).get(f"/orgs/{seed.org_id}/invitations?after=garbage")
    assert page.status == 400 and "Traceback" not in page.html


# --- who may -------------------------------------------------------------------------------------------


def test_billing_manager_and_member_get_403_and_nothing_changes(api: Api, seed: Seed, mailer: MemoryMailer) -> None:
    (invitation_id,) = invite_as_admin(seed, "keep@acme.test")
    before = InvitationModel.get(seed.org_id, invitation_id)
    for person in (seed.billing, seed.member):
        browser = as_person(person)
        assert browser.get(f"/orgs/{seed.org_id}/invitations").status == 403
        base = f"/orgs/{seed.org_id}/invitations"
        posts: list[tuple[str, dict[str, object]]] = [
            (base, {"emails": "x1@acme.test", "role": "account_admin"}),
            (f"{base}/{invitation_id}/resend", {}),
            (f"{base}/{invitation_id}/remove", {"confirmed": "yes"}),
            (f"{base}/resend", {"invitation_id": invitation_id, "confirmed": "yes"}),
            (f"{base}/remove", {"invitation_id": invitation_id, "confirmed": "yes"}),
        ]
        for path, form in posts:
            page = browser.post(path, form)
            assert page.status == 403 and "Not allowed" in page.text, path
        assert upload(browser, f"{base}/upload", b"x2@acme.test\n").status == 403
        nav = browser.get(f"/orgs/{seed.org_id}/tokens").html
        assert f"/orgs/{seed.org_id}/invitations" not in nav
    after = InvitationModel.get(seed.org_id, invitation_id)
    assert (after.status, after.issue, after.link_nonce) == (before.status, before.issue, before.link_nonce)
    assert not invited(seed, "x1@acme.test") and not invited(seed, "x2@acme.test")


def test_outsider_gets_404_and_anonymous_is_sent_to_sign_in(api: Api, seed: Seed) -> None:
    (invitation_id,) = invite_as_admin(seed, "private@acme.test")
    browser = as_person(seed.outsider)
    assert browser.get(f"/orgs/{seed.org_id}/invitations").status == 404
    page = browser.post(f"/orgs/{seed.org_id}/invitations/{invitation_id}/remove", {"confirmed": "yes"})
    assert page.status == 404 and "private@acme.test" not in page.html
    assert status_of(seed, invitation_id) == "pending"
    anonymous = Browser().get(f"/orgs/{seed.org_id}/invitations")
    assert anonymous.status == 303 and anonymous.location.startswith("/sign-in?next=")


def test_cross_site_posts_are_refused(api: Api, seed: Seed) -> None:
    browser = as_person(seed.admin)
    page = browser.post(
        f"/orgs/{seed.org_id}/invitations",
        {"emails": "cross@acme.test", "role": "member"},
        origin="https://evil.example",
        site="cross-site",
    )
    assert page.status == 403 and "Form refused" in page.text
    assert not invited(seed, "cross@acme.test")
