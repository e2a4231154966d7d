"""Pages: sign in by emailed link, sign out, sign out everywhere."""

from __future__ import annotations

from chalice import Blueprint

from ..http.routing import source_address_of
from ..services import login_links, sessions
from . import forms
from .web import Page, PageRequest, Redirect, confirm_first, page_route

bp = Blueprint(__name__)


def sign_in_form(email: str = "", error: str | None = None, status: int = 200) -> Page:
    return Page("signin.html", {"title": "Sign in", "email": email, "error": error}, status)


@page_route(bp, "/sign-in", summary="The sign-in form", auth="optional")
def sign_in(req: PageRequest) -> Page | Redirect:
    if req.session is not None:
        return Redirect("/")
    return sign_in_form(req.query("email"))


@page_route(
    bp,
    "/sign-in",
    "POST",
    summary="Email a sign-in link (same answer whether or not an account exists)",
    auth="optional",
)
def send_link(req: PageRequest) -> Page:
    typed = req.value("email")
    try:
        email = forms.email(typed)
    except forms.FormInvalid as exc:
        return sign_in_form(typed, exc.message, status=400)
    login_links.request_link(email, source_address_of(req.raw))
    return Page("signin_sent.html", {"title": "Check your email", "email": email})


@page_route(bp, "/sign-in/{code}", summary="The emailed link: a button that signs in", auth="optional")
def link_page(req: PageRequest, code: str) -> Page:
    # A GET never signs in: mail scanners that open links would use the code up.
    return Page("signin_link.html", {"title": "Sign in", "code": code, "live": login_links.is_live(code)})


@page_route(bp, "/sign-in/{code}", "POST", summary="Redeem the link for a session", auth="optional")
def redeem(req: PageRequest, code: str) -> Redirect:
    secret, account_id, email = login_links.redeem_for_session(code)
    if req.session is not None:  # signing in as someone else ends the session this browser had
        sessions.end(req.cookie())
    req.start_session(secret, account_id, email)
    return Redirect("/")


@page_route(bp, "/sign-out", "POST", summary="End this session", auth="optional")
def sign_out(req: PageRequest) -> Page | Redirect:
    sessions.end(req.cookie())
    req.end_session()
    back = req.value("next")
    if back.startswith("/invitations/"):
        return Redirect(back)
    return Page(
        "message.html",
        {
            "title": "You are signed out",
            "message": "This browser is no longer signed in.",
            "session": None,
            "link": ("/sign-in", "Sign in again"),
        },
    )


@page_route(bp, "/sign-out-everywhere", "POST", summary="End every session of the account")
def sign_out_everywhere(req: PageRequest) -> Page:
    question = confirm_first(
        req,
        title="Sign out everywhere?",
        question="Sign out on every browser and device, this one too?",
        button="Sign out everywhere",
        cancel="/profile",
    )
    if question is not None:
        return question
    ended = sessions.end_all(req.account_id)
    req.end_session()
    return Page(
        "message.html",
        {
            "title": "Signed out everywhere",
            "message": f"Every session of your account ended ({ended} in all), this one too.",
            "session": None,
            "link": ("/sign-in", "Sign in again"),
        },
    )
