"""Read the local stack's outbox: ``python -m local mail [--to EMAIL] [--all]``.

The stack's log names each message (recipient, subject, file) but never its
links, which carry invitation and sign-in credentials; this command prints a
message with its links on request, as opening the ``.eml`` file would.
"""

from __future__ import annotations

import email
import email.policy
import re
import sys
from email.message import EmailMessage
from pathlib import Path

from .files import StackFiles

LINK = re.compile(r"https?://[^\s<>\"]+")


def _read(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def main(to: str | None, show_all: bool) -> int:
    outbox = StackFiles.from_env().outbox_dir
    paths = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime) if outbox.is_dir() else []
    messages = [(path, _read(path)) for path in paths]
    if to:
        messages = [(p, m) for p, m in messages if str(m["To"]).strip().lower() == to.strip().lower()]
    if not messages:
        whose = f" to {to}" if to else ""
        print(f"No mail{whose} in {outbox}.", file=sys.stderr)
        return 1
    for path, message in messages if show_all else messages[-1:]:
        print(f"To: {message['To']}\nSubject: {message['Subject']}\nFile: {path}")
        for link in dict.fromkeys(link.rstrip(".,;:)") for link in LINK.findall(_text_of(message))):
            print(f"Link: {link}")
        print()
    return 0
