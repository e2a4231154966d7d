"""Outgoing mail: templates and senders behind one small interface.

``get_mailer()`` picks the sender from settings: SES (AWS), an outbox folder
of .eml files (local stack), or an in-memory recorder (tests).
"""

from __future__ import annotations

from .base import Mailer, MailError, Message, get_mailer, reset_mailer

__all__ = ["MailError", "Mailer", "Message", "get_mailer", "reset_mailer"]
