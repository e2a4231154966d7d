"""The local stack's outbox read as a mailbox: wait for a message, read it, follow its links.

The stack writes one ``.eml`` per message (random file names, so no order can be read from them) and
the invitation email is sent by the stream pump a moment after the API call, so a test takes a
``mark()`` before acting and then waits for a message that arrived after it.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

from playwright.sync_api import Page

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Link:
    """An ``<a href>`` of the HTML part, with the words a reader sees."""

    text: str
    href: str


@dataclass(frozen=True)
class Mail:
    path: Path
    to: str
    subject: str
    text: str
    html: str
    links: tuple[Link, ...]  # from the HTML part, in order
    text_links: tuple[str, ...]  # URLs written out in the text part

    def link(self, text: str) -> str:
        """The href of the one HTML link whose visible text contains ``text`` (as a reader picks it)."""
        found = [link.href for link in self.links if text.lower() in link.text.lower()]
        if len(found) != 1:
            raise AssertionError(f"{len(found)} links with text {text!r} in {self.path.name}: {self.links}")
        return found[0]

    def show_in(self, page: Page) -> None:
        """Render the HTML part in ``page``, so a test can click its links as a person does."""
        page.set_content(self.html)


@dataclass(frozen=True)
class Mark:
    """The messages already in the outbox at one moment."""

    seen: frozenset[str]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append((dict(attrs).get("href") or "", []))

    def handle_data(self, data: str) -> None:
        for _, words in self._open:
            words.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, words = self._open.pop()
            self.links.append(Link(" ".join("".join(words).split()), href))


def parse(path: Path) -> Mail | None:
    """The message in ``path``, or None while the file is still being written (the mailer writes in place)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if not _complete(raw, message):
        return None
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    text = str(text_part.get_content()) if text_part is not None else ""
    html = str(html_part.get_content()) if html_part is not None else ""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return Mail(
        path=path,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        text=text,
        html=html,
        links=tuple(parser.links),
        text_links=tuple(re.findall(r"https?://[^\s<>\"']+", text)),
    )


def _complete(raw: bytes, message: EmailMessage) -> bool:
    if message.defects or not message["Subject"]:
        return False
    if message.is_multipart():
        boundary = message.get_boundary()
        return boundary is not None and f"--{boundary}--".encode() in raw
    return True


class Outbox:
    """A stack's ``outbox/`` folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._parsed: dict[str, Mail] = {}

    def mark(self) -> Mark:
        return Mark(frozenset(self._names()))

    def messages(self, after: Mark | None = None) -> list[Mail]:
        """Every complete message (after ``after``), oldest first."""
        found: list[tuple[int, Mail]] = []
        for name in self._names():
            if after is not None and name in after.seen:
                continue
            mail = self._parsed.get(name)
            if mail is None:
                mail = parse(self.folder / name)
                if mail is None:
                    continue
                self._parsed[name] = mail
            try:
                found.append((mail.path.stat().st_mtime_ns, mail))
            except FileNotFoundError:
                continue
        return [mail for _, mail in sorted(found, key=lambda item: (item[0], item[1].path.name))]

    def wait_for(self, to: str, subject: str, *, after: Mark, timeout: float = WAIT_SECONDS) -> Mail:
        """The first message to ``to`` whose subject contains ``subject`` that arrived after ``after``."""
        deadline = time.monotonic() + timeout
        while True:
            for mail in self.messages(after):
                if mail.to.lower() == to.lower() and subject in mail.subject:
                    return mail
            if time.monotonic() > deadline:
                arrived = [f"{m.to}: {m.subject}" for m in self.messages(after)]
                raise AssertionError(
                    f"no mail to {to} with {subject!r} in its subject within {timeout:.0f}s; "
                    f"arrived since the mark: {arrived or 'nothing'}"
                )
            time.sleep(POLL_SECONDS)

    def _names(self) -> list[str]:
        try:
            return sorted(p.name for p in self.folder.glob("*.eml"))
        except FileNotFoundError:
            return []
