"""Page routing: one decorator that resolves the session, guards forms, renders, and maps errors to pages.

Every console route is declared with ``page_route``, which records a
``PageSpec`` (path, method, who may open it). The registry drives the
console's permission test, so a page cannot exist without a row there.
What every answer carries: a strict Content-Security-Policy (no inline
script), no framing, ``Referrer-Policy: no-referrer`` (invitation and sign-in
links carry a credential in the path), ``nosniff``, and ``no-store``.
A state-changing request must come from this origin (``Sec-Fetch-Site`` or
``Origin``) and, once signed in, carry the session's CSRF token.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from chalice import Blueprint, Response
from chalice.app import Request

from ..config import get_settings
from ..domain.errors import InvalidRequest, NotFound
from ..domain.models import Actor
from ..services import once, sessions
from ..storage.base import key_fits

log = logging.getLogger(__name__)

PageAuth = Literal["session", "optional", "none"]  # none: no session read (static files)
FORM_TYPES = ["application/x-www-form-urlencoded"]
MAX_FORM_BYTES = 64 * 1024

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class PageSpec:
    path: str
    method: str
    name: str
    auth: PageAuth
    summary: str


# Filled as the page modules are imported (on first use): read it through ``declared_pages()``.
PAGES: list[PageSpec] = []


def declared_pages() -> list[PageSpec]:
    """Every console page's spec, every route module imported, in the route table's order."""
    from ..lazy_routes import import_all, in_table_order

    import_all()
    return in_table_order(PAGES)


class PageRefusal(Exception):
    """A refusal only pages make (forms from elsewhere, stale forms, no session); not an API error code."""

    code = "refused"
    status = 403


class CrossSite(PageRefusal):
    code = "cross_site"


class BadCsrf(PageRefusal):
    code = "csrf_failed"


class SignInRequired(PageRefusal):
    code = "sign_in_required"
    status = 401


@dataclass
class Page:
    """A template to render with its context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Redirect:
    location: str
    status: int = 303


@dataclass(frozen=True)
class Upload:
    """A file sent with a multipart form: its bytes exactly as sent."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class PageRequest:
    """What a page handler gets: the session (if any), the form, the raw request, and cookies to set."""

    raw: Request
    request_id: str
    session: sessions.ConsoleSession | None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)
    cookies_out: list[str] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise SignInRequired()
        return Actor.account(self.session.principal, self.request_id)

    @property
    def account_id(self) -> str:
        if self.session is None:
            raise SignInRequired()
        return self.session.account_id

    def value(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[0] if values else default

    def values(self, name: str) -> list[str]:
        return list(self.form.get(name, []))

    def query(self, name: str, default: str = "") -> str:
        params: dict[str, str] = dict(self.raw.query_params or {})
        return str(params.get(name) or default)

    def cookie(self) -> str | None:
        return read_cookie(self.raw, cookie_name())

    def start_session(self, secret: str, account_id: str, email: str) -> None:
        """Set the cookie; the page rendered now already shows the person signed in."""
        self.cookies_out.append(session_cookie(secret))
        self.session = sessions.describe(secret, account_id, email)

    def once_key(self) -> str | None:
        """The key that makes this form take effect once (its nonce, bound to the session)."""
        nonce = self.value("once")
        if self.session is None or not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", nonce):
            return None
        return f"{self.session.session_id}:{nonce}"

    def end_session(self) -> None:
        self.cookies_out.append(session_cookie("", clear=True))


# --- cookies and origin ------------------------------------------------------------------------------


def secure_origin() -> bool:
    return get_settings().public_base_url.lower().startswith("https://")


def cookie_name() -> str:
    """``__Host-`` makes the browser insist on Secure, path / and no Domain: no subdomain can plant it."""
    return "__Host-session" if secure_origin() else "session"


def session_cookie(secret: str, clear: bool = False) -> str:
    parts = [f"{cookie_name()}={secret}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure_origin():
        parts.append("Secure")
    if clear:
        parts.append("Max-Age=0")
    else:
        parts.append(f"Max-Age={int(sessions.ABSOLUTE.total_seconds())}")
    return "; ".join(parts)


def read_cookie(request: Request, name: str) -> str | None:
    header = request.headers.get("cookie") or ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def same_origin(request: Request) -> bool:
    """Whether a form post comes from one of our pages.

    ``Sec-Fetch-Site`` is what browsers send on every request; ``Origin`` is the
    fallback (under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null``
    on form posts, so a null origin alone proves nothing either way).
    """
    headers = request.headers
    site = (headers.get("sec-fetch-site") or "").lower()
    origin = (headers.get("origin") or "").strip()
    if origin and origin != "null":
        ours = {
            _origin(get_settings().public_base_url),
            f"{'https' if secure_origin() else 'http'}://{headers.get('host')}",
        }
        if origin.rstrip("/").lower() not in {o.lower() for o in ours}:
            return False
    if site:
        return site == "same-origin"
    return bool(origin) and origin != "null"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _raw(request: Request) -> bytes:
    body = request.raw_body or b""
    return body.encode() if isinstance(body, str) else body


def parse_form(request: Request) -> dict[str, list[str]]:
    raw = _raw(request)
    if len(raw) > MAX_FORM_BYTES:
        raise InvalidRequest("The form is too large.")
    try:
        return parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=2000)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("The form could not be read.") from exc


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    """Text fields and files of a multipart/form-data body; file bytes are kept exactly as sent."""
    if len(raw) > get_settings().max_body_bytes:
        raise InvalidRequest("The upload is too large.")
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidRequest("The form could not be read.")
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    chunks = (b"\r\n" + raw).split(b"\r\n--" + boundary.encode("latin-1"))
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise InvalidRequest("The form could not be read.")
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            header_name, colon, value = line.partition(":")
            if colon:
                part[header_name.strip()] = value.strip()
        field_name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        if not isinstance(field_name, str):
            continue
        if isinstance(filename, str):
            files.setdefault(field_name, []).append(Upload(filename, part.get_content_type(), data))
        else:
            try:
                fields.setdefault(field_name, []).append(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise InvalidRequest("The form could not be read.") from exc
    return fields, files


# --- responses ---------------------------------------------------------------------------------------


def html_response(body: str, status: int, cookies: list[str] | None = None, retry_after: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS}
    if cookies:
        headers["Set-Cookie"] = cookies
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Response(body=body, status_code=status, headers=headers)


def render_page(page: Page, req: PageRequest | None) -> str:
    from . import render  # Jinja2 loads on the first page, never on the JSON API's path

    context = dict(page.context)
    context.setdefault("session", req.session if req else None)
    context.setdefault("csrf_token", req.session.csrf_token if req and req.session else "")
    context.setdefault("once", once.new_nonce())
    context.setdefault("request_path", req.raw.context.get("path", "/") if req and req.raw.context else "/")
    return render.render(page.template, context)


def to_response(result: Any, req: PageRequest) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Redirect):
        # Content-Type said outright: Chalice would label the empty body application/json.
        headers: dict[str, str | list[str]] = {
            "Location": result.location,
            "Content-Type": "text/html; charset=utf-8",
            **SECURITY_HEADERS,
        }
        if req.cookies_out:
            headers["Set-Cookie"] = req.cookies_out
        return Response(body="", status_code=result.status, headers=headers)
    assert isinstance(result, Page)
    return html_response(render_page(result, req), result.status, req.cookies_out)


def error_page(exc: Exception, req: PageRequest | None, request_id: str) -> Response:
    """The one place where an error becomes a page: a sentence in words, never a trace or JSON."""
    from ..http.errors import retry_after, to_domain_error
    from . import words

    error = to_domain_error(exc)
    retry = None
    if isinstance(exc, once.AlreadyDone):
        status = 409
        title, sentence = words.SENTENCES["already_done"]
    elif isinstance(exc, PageRefusal):
        status = exc.status
        title, sentence = words.SENTENCES[exc.code]
    elif error is None:
        log.exception("unhandled console error", extra={"request_id": request_id})
        status, title, sentence = 500, "Something went wrong", words.INTERNAL
    else:
        if error.status >= 500:
            log.warning("dependency failure on a page", extra={"request_id": request_id, "code": error.code})
        status = error.status
        title, sentence = words.describe(error)
        retry = retry_after(error)
    page = Page("message.html", {"title": title, "message": sentence, "request_id": request_id}, status)
    return html_response(render_page(page, req), status, req.cookies_out if req else None, retry)


def confirm_first(req: PageRequest, *, title: str, question: str, button: str, cancel: str) -> Page | None:
    """Without script, a destructive form asks on a page of its own first (with script, a dialog asked)."""
    if req.value("confirmed") == "yes":
        return None
    path = (req.raw.context or {}).get("path") or "/"
    return Page(
        "confirm.html", {"title": title, "question": question, "action": path, "button": button, "cancel": cancel}
    )


def sign_in_redirect(request: Request) -> Redirect:
    path = (request.context or {}).get("path") or "/"
    return Redirect(f"/sign-in?next={quote(path, safe='/')}")


def page_route(
    bp: Blueprint,
    path: str,
    method: str = "GET",
    *,
    summary: str,
    auth: PageAuth = "session",
    content_types: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a console page; the handler gets ``(PageRequest, **path_params)``.

    ``content_types`` widens what a POST accepts (an upload adds ``multipart/form-data``;
    its files land in ``PageRequest.files``).
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        PAGES.append(PageSpec(path=path, method=method, name=handler.__name__, auth=auth, summary=summary))

        @functools.wraps(handler)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            request_id = str((request.context or {}).get("requestId") or uuid.uuid4())
            req: PageRequest | None = None
            try:
                if not key_fits(*path_params.values()):
                    raise NotFound()
                req = PageRequest(raw=request, request_id=request_id, session=None)
                req.session = sessions.resolve(req.cookie()) if auth != "none" else None
                if method != "GET":
                    if not same_origin(request):
                        raise CrossSite()
                    sent_type = request.headers.get("content-type") or ""
                    if sent_type.lower().startswith("multipart/form-data"):  # only routes that accept uploads
                        req.form, req.files = parse_multipart(sent_type, _raw(request))
                    else:
                        req.form = parse_form(request)
                    if req.session is not None and not sessions.csrf_matches(
                        req.cookie() or "", req.value("csrf_token")
                    ):
                        raise BadCsrf()
                if auth == "session" and req.session is None:
                    if method == "GET":
                        return to_response(sign_in_redirect(request), req)
                    raise SignInRequired()
                return to_response(handler(req, **path_params), req)
            except Exception as exc:
                return error_page(exc, req, request_id)

        accepted = list(content_types or FORM_TYPES)
        bp.route(
            path, methods=[method], content_types=["application/json", *accepted] if method == "GET" else accepted
        )(view)
        return handler

    return decorate


def not_found_page() -> str:
    """The 404 page for paths no route declares: API Gateway answers those itself (its gateway
    response serves this page to browsers), so it is rendered once, with no session."""
    return gateway_page("not_found")


def gateway_page(code: str) -> str:
    """A page API Gateway serves itself to browsers (404 for undeclared paths, 429 when throttled),
    rendered once at build time, with no session: the error's words and a way back."""
    from . import words

    title, sentence = words.SENTENCES[code]
    context = {"title": title, "message": sentence, "link": ("/", "Go to your organizations")}
    return render_page(Page("message.html", context), None)
