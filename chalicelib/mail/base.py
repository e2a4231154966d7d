"""The mailer interface and the three senders.

Header injection is impossible by construction: every header value (From
and its display name, To, Subject) goes through ``header_safe``, which turns
every Unicode line break (CR, LF, VT, FF, U+001C..U+001E, U+0085, U+2028,
U+2029) and every other control character into a space before it reaches a
message, and addresses are validated emails.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings, get_settings
from ..domain.org_names import one_line


def header_safe(value: str, limit: int = 200) -> str:
    """The one way to a header value: one line (every Unicode line break and control -> space), at most ``limit``."""
    return one_line(value)[:limit].strip()


class MailError(Exception):
    """Sending failed; ``reason`` is safe to store and show to admins."""

    def __init__(self, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    tags: dict[str, str] = field(default_factory=dict)

    def to_mime(self, sender: str) -> EmailMessage:
        """The message as a MIME document; the text part is left unencoded (8bit), so its links
        can be read and copied from a saved .eml as they are (quoted-printable would break them)."""
        mime = EmailMessage(policy=SMTP)
        mime["From"] = header_safe(sender)
        mime["To"] = header_safe(self.to)
        mime["Subject"] = header_safe(self.subject)
        mime["Message-ID"] = f"<{uuid.uuid4()}@orgmembers.local>"
        mime.set_content(self.text, cte="8bit")
        mime.add_alternative(self.html, subtype="html")
        return mime


class Mailer(Protocol):
    def send(self, message: Message) -> str:
        """Send one message; return the provider's message id; raise MailError on failure."""
        ...


class MemoryMailer:
    """Records messages (tests)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.lock = threading.Lock()

    def send(self, message: Message) -> str:
        with self.lock:
            self.sent.append(message)
        return f"memory-{len(self.sent)}"


class OutboxMailer:
    """Writes one .eml file per message into a folder (local stack) and prints where, never its links.

    The links carry invitation and sign-in credentials, which no log line may
    hold (``python -m local mail`` prints a message with its links on request).
    """

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, message: Message) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", message.to)
        path = self.folder / f"{message_id[:12]}-{safe_to}.eml"
        path.write_bytes(bytes(message.to_mime(self.sender)))
        print(f"[mail] to {message.to}: {header_safe(message.subject)} -> {path}", flush=True)
        return message_id


class SesMailer:
    """Amazon SES v2 ``send_email`` with simple (text + HTML) content."""

    def __init__(self, settings: Settings) -> None:
        import boto3  # lazily: only the stream handler that sends mail pays for the client

        self.client: Any = boto3.client("sesv2", region_name=settings.aws_region)
        self.sender = settings.mail_sender
        self.configuration_set = settings.ses_configuration_set

    def send(self, message: Message) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        params: dict[str, Any] = {
            "FromEmailAddress": header_safe(self.sender),
            "Destination": {"ToAddresses": [header_safe(message.to)]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": header_safe(message.subject), "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if message.tags:
            params["EmailTags"] = [{"Name": k, "Value": v} for k, v in message.tags.items()]
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            response = self.client.send_email(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            retryable = code in {"TooManyRequestsException", "LimitExceededException", "Throttling", "InternalFailure"}
            raise MailError(f"SES {code}", retryable=retryable) from exc
        except BotoCoreError as exc:
            raise MailError(f"SES unreachable: {type(exc).__name__}", retryable=True) from exc
        return str(response.get("MessageId", ""))


_mailer: Mailer | None = None
_lock = threading.Lock()


def get_mailer() -> Mailer:
    """The process-wide mailer for the configured backend."""
    global _mailer
    with _lock:
        if _mailer is None:
            settings = get_settings()
            if settings.mail_backend == "memory":
                _mailer = MemoryMailer()
            elif settings.mail_backend == "outbox":
                _mailer = OutboxMailer(Path(settings.outbox_dir), settings.mail_sender)
            else:
                _mailer = SesMailer(settings)
        return _mailer


def reset_mailer(mailer: Mailer | None = None) -> None:
    """Replace (or forget) the process-wide mailer; tests and the local stack use this."""
    global _mailer
    with _lock:
        _mailer = mailer
