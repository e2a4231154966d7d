"""Organization names that cannot carry a link or a line break into mail.

An org name goes into the Subject and the text of every invitation and seat
email, so it is the one piece of a mail's wording a stranger controls. Two
rules keep it from turning the service into a phishing relay:

1. **At creation and rename** (``check``) a name is refused (400
   ``org_name_not_allowed``) when, after NFKC normalization (full-width
   letters and dots become ASCII), it contains
   - a scheme: ``name:`` followed by ``//``, or a well-known scheme
     (``http:``, ``mailto:``, ``javascript:``, ...);
   - ``www`` followed by a dot;
   - a domain-looking run: letters/digits/hyphens, a dot (ASCII, full-width,
     ideographic or halfwidth ideographic), and more, ending in two or more
     letters (``evil.example``, ``a.b.co``); ``Acme Inc.`` and ``J. P. Morgan``
     pass (nothing follows the dot directly);
   - an IPv4-like run (``10.0.0.1``);
   - any line break or control character (``\\r``, ``\\n``, ``\\v``, ``\\f``,
     U+001C..U+001E, U+0085, U+2028, U+2029, and the rest of C0/C1).
   Invisible format characters (zero-width spaces and joiners, bidi
   overrides, soft hyphens: Unicode category Cf) are dropped before these
   checks, so ``evil\\u200b.example`` or a right-to-left override spelling
   ``elpmaxe.live`` is seen as the domain a reader sees; a domain run ends at
   anything that is not a letter or digit, so ``evil.com_/login`` is one too.
2. **In mail** (``for_mail``) whatever is stored, including names saved
   before rule 1 existed, is rendered on one line, and when it breaks rule 1
   it is *defanged*: every dot becomes ``[.]``, every colon ``[:]`` and every
   ``@`` ``[at]`` (after NFKC), so no mail client auto-links any part of it.
   Bidi controls and zero-width spaces are dropped there too (they could
   reorder or hide the words around the name); the joiners U+200C and U+200D
   stay, as emoji sequences and several scripts need them.
"""

from __future__ import annotations

import re
import unicodedata

# Every character str.splitlines() breaks on (\r \n \v \f U+001C..U+001E U+0085 U+2028 U+2029),
# the other C0/C1 controls and DEL.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

_DOTS = ".\u3002\uff0e\uff61\u2024\ufe52"
_SCHEMES = "http|https|ftp|ftps|sftp|file|mailto|javascript|vbscript|data|tel|sms|ssh|ws|wss|irc|news|smb|callto|skype"
_SCHEME = re.compile(rf"(?:[a-z][a-z0-9+.-]*:\s*//|\b(?:{_SCHEMES})\s*:)", re.IGNORECASE)
_WWW = re.compile(rf"\bwww\s*[{_DOTS}]", re.IGNORECASE)
_DOMAIN = re.compile(rf"[\w-]+(?:[{_DOTS}][\w-]+)*[{_DOTS}][^\W\d_]{{2,}}(?![^\W_])")
# Kept in mail: what emoji sequences (ZWJ) and Persian or Indic spelling (ZWNJ) need.
_JOINERS = "\u200c\u200d"
_IPV4 = re.compile(rf"\d{{1,3}}(?:[{_DOTS}]\d{{1,3}}){{3}}")


def _visible(value: str, keep: str = "") -> str:
    """``value`` without its invisible format characters (category Cf) but those in ``keep``."""
    return "".join(c for c in value if c in keep or unicodedata.category(c) != "Cf")


def problem(name: str) -> str | None:
    """Why ``name`` may not be an org name (None when it may)."""
    if _CONTROLS.search(name):
        return "a line break or control character"
    folded = _visible(unicodedata.normalize("NFKC", name))
    if _SCHEME.search(folded):
        return "a link scheme (like https:)"
    if _WWW.search(folded):
        return "a web address (www.)"
    if _IPV4.search(folded):
        return "an IP address"
    if _DOMAIN.search(folded):
        return "a domain name (like example.com)"
    return None


def one_line(value: str) -> str:
    """Every line break and control character (see ``_CONTROLS``) as one space, trimmed."""
    return _CONTROLS.sub(" ", value).strip()


def for_mail(name: str, limit: int = 120) -> str:
    """The name as mail shows it: one line, and defanged when it looks like a link (rule 2)."""
    flat = _visible(one_line(name), keep=_JOINERS)
    if problem(flat) is not None:
        flat = unicodedata.normalize("NFKC", flat)
        for dot in _DOTS:
            flat = flat.replace(dot, "[.]")
        flat = flat.replace(":", "[:]").replace("@", "[at]")
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "\u2026"
    return flat
