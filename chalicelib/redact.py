"""Credentials out of log lines: the path segments and query values that carry a secret.

Invitation links (``/invitations/<token>``, ``/v1/invitations/<token>``) and sign-in links
(``/sign-in/<code>``) carry their credential in the path, and a redirect's ``next=`` may carry
such a path; bearer secrets have a readable prefix (``oak_``, ``oat_``, ``osc_``, ``olc_``,
``ose_``, and a service account's ``oss_`` client secret and ``osa_`` access token), and
HTTP Basic credentials (the token endpoint's client authentication) are base64 after
``Basic``. ``redact`` replaces each with ``[redacted]`` and keeps the rest of the line, so an
access log still says which route was called and how it answered.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
SECRET_QUERY_KEYS = ("code", "token", "invitation_token", "secret", "key", "link", "client_secret")

# A credential path: at the start of a path (after a space, a quote, '=' or '(', or a URL's host),
# optionally under the stage prefix, then the segment after /invitations/ or /sign-in/.
_SECRET_PATH = re.compile(
    r"(?P<lead>(?:^|(?<=[\s\"'=(]))(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s\"']+)?(?:/[A-Za-z0-9_-]+)?"
    r"(?:/v1)?/(?:invitations|sign-in)/)(?P<secret>[^/\s?#&\"']+)"
)
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:" + "|".join(SECRET_QUERY_KEYS) + r"))=(?P<value>[^&;\s#\"']*)", re.IGNORECASE
)
_BEARER = re.compile(r"\b(?P<prefix>oak|oat|osc|olc|ose|oss|osa)_[A-Za-z0-9_-]{8,}")
_BASIC = re.compile(r"\b(?P<scheme>Basic)\s+[A-Za-z0-9+/=_-]{4,}", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every credential-carrying path segment, query value and bearer secret replaced."""
    text = _SECRET_PATH.sub(lambda m: m["lead"] + REDACTED if m["secret"] != REDACTED else m[0], text)
    text = _SECRET_QUERY.sub(lambda m: f"{m['key']}={REDACTED}", text)
    text = _BASIC.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m['prefix']}_{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message is formatted and redacted before any formatter sees it.

    ``loggers``: only records of these loggers (and their children); every record when empty.
    """

    def __init__(self, loggers: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.loggers = loggers

    def filter(self, record: logging.LogRecord) -> bool:
        if self.loggers and not any(record.name == n or record.name.startswith(n + ".") for n in self.loggers):
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
