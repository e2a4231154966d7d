"""Domain names are normalized to one stored form, and what is not a registrable name is refused."""

from __future__ import annotations

import pytest

from chalicelib.domain.domains import normalize_domain
from chalicelib.domain.errors import InvalidDomain


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Acme.Example", "acme.example"),
        ("acme.example.", "acme.example"),
        ("  sub.acme.example ", "sub.acme.example"),
        ("Bücher.Example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_normalized(raw: str, stored: str) -> None:
    assert normalize_domain(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", ".", "localhost", "a..b", "-a.example", "a-.example", "x@acme.example", "acme.example/x", "1.2.3.4", "a b.c"],
)
def test_invalid_domains_are_refused(raw: str) -> None:
    with pytest.raises(InvalidDomain):
        normalize_domain(raw)
