"""Every console page x every kind of caller, from one table; a page cannot exist without its row.

Callers are those of the API's permission matrix: the seeded org's three
roles (each with a seat here, so issuing is allowed), an outsider (admin of
another org) and anonymous (no session). Each row gives the expected status
per caller; a form post carries the caller's CSRF token and our origin.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from chalicelib.console.web import declared_pages
from chalicelib.domain.roles import Role
from chalicelib.services import orgs, seats, sessions
from tests.support import __path__ as support_path
from tests.support.console_matrix import Ctx, Row, admin_of, each, in_org
from tests.support.console_support import Browser
from tests.support.helpers import Seed
from tests.support.permission_table import CALLERS, new_person
from tests.support.worlds import MotoWorld

ROWS = [
    Row("GET", "/", each(200), lambda c: "/"),
    Row("GET", "/sign-in", each(303, anonymous=200), lambda c: "/sign-in"),
    Row("POST", "/sign-in", each(200), lambda c: "/sign-in", lambda c: {"email": "someone@example.com"}),
    Row("GET", "/sign-in/{code}", each(200), lambda c: f"/sign-in/{c.fresh_code()}"),
    Row("POST", "/sign-in/{code}", each(303), lambda c: f"/sign-in/{c.fresh_code()}"),
    Row("POST", "/sign-out", each(200), lambda c: "/sign-out"),
    Row("POST", "/sign-out-everywhere", each(200, anonymous=401), lambda c: "/sign-out-everywhere"),
    Row("GET", "/profile", each(200, anonymous=303), lambda c: "/profile"),
    Row("POST", "/profile/api-keys", each(201, anonymous=401), lambda c: "/profile/api-keys", lambda c: {"name": "k"}),
    Row(
        "POST",
        "/profile/api-keys/{key_id}/revoke",
        each(303, anonymous=401),
        lambda c: f"/profile/api-keys/{c.own_key()}/revoke",
        lambda c: {"confirmed": "yes"},
    ),
    Row("POST", "/orgs", each(303, anonymous=401), lambda c: "/orgs", lambda c: {"name": "Made in the matrix"}),
    Row("GET", "/orgs/{org_id}", in_org(303), lambda c: f"/orgs/{c.seed.org_id}"),
    Row("GET", "/orgs/{org_id}/tokens", in_org(200), lambda c: f"/orgs/{c.seed.org_id}/tokens"),
    Row(
        "POST",
        "/orgs/{org_id}/tokens",
        in_org(201, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/tokens",
        lambda c: {"name": "matrix", "days": "30"},
    ),
    Row(
        "POST",
        "/orgs/{org_id}/tokens/{token_id}/revoke",
        in_org(200, anonymous=401),
        lambda c: f"/orgs/{c.seed.org_id}/tokens/tok_0123456789abcdef0123/revoke",
    ),
    Row("POST", "/orgs/{org_id}/leave", in_org(200, anonymous=401), lambda c: f"/orgs/{c.seed.org_id}/leave"),
    Row("GET", "/invitations/{token}", each(200), lambda c: f"/invitations/{c.fresh_invitation()}"),
    Row(
        "POST",
        "/invitations/{token}/accept",
        each(403, anonymous=200),  # signed in as someone else than the invited address
        lambda c: f"/invitations/{c.fresh_invitation()}/accept",
    ),
    Row("GET", "/static/{name}", each(200), lambda c: "/static/console.css"),
]


# Each admin area's rows live in their own module: tests/support/console_rows_<area>.py defines ROWS.
for module in pkgutil.iter_modules(support_path):
    if module.name.startswith("console_rows_"):
        ROWS += importlib.import_module(f"tests.support.{module.name}").ROWS


def test_every_page_has_a_row_and_every_row_a_page() -> None:
    pages = {(p.method, p.path) for p in declared_pages()}
    rows = {(r.method, r.path) for r in ROWS}
    assert not pages - rows, (
        f"pages without a row in tests/integration/test_console_permissions.py: {sorted(pages - rows)}"
    )
    assert not rows - pages, f"rows for pages that do not exist: {sorted(rows - pages)}"


@pytest.fixture(scope="module")
def _roomy_world(seeded_world: MotoWorld) -> MotoWorld:
    """Every call brings a fresh seated caller: the seeded org gets room for them."""
    orgs.set_capacity(seeded_world.seed.org_id, admin_of(seeded_world.seed), 1000)
    seeded_world.keep()
    return seeded_world


@pytest.fixture
def world(_roomy_world: MotoWorld) -> Seed:
    return _roomy_world.rewound()[1]


def caller_browser(seed: Seed, caller: str) -> tuple[Browser, Ctx]:
    """A fresh person per call for the roles (a call may change its caller), with a signed-in browser."""
    browser = Browser()
    if caller == "anonymous":
        return browser, Ctx(seed, caller, None, None)
    if caller == "outsider":
        person = seed.outsider
    else:
        person = new_person(seed, Role(caller), "page")
        seats.assign(seed.org_id, admin_of(seed), person.account_id, notify=False)
    secret = sessions.start(person.account_id, person.email)
    browser.cookie = f"session={secret}"
    browser.csrf = sessions.csrf_token(secret)
    return browser, Ctx(seed, caller, person.account_id, person.email)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_page_matrix(world: Seed, row: Row, caller: str) -> None:
    browser, ctx = caller_browser(world, caller)
    url = row.url(ctx)
    page = browser.get(url) if row.method == "GET" else browser.post(url, row.form(ctx))
    expected = row.expect[caller]
    assert page.status == expected, f"{row.id} as {caller}: {page.status} {page.text[:300]}"
    if page.status != 303:
        assert page.headers["content-type"].startswith(("text/html", "text/css")), row.id
        assert '"error"' not in page.html and "Traceback" not in page.html
