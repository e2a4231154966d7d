"""normalize_email: what we accept as an address and the one form we store."""

from __future__ import annotations

import pytest

from chalicelib.domain.emails import InvalidEmail, is_valid_email, normalize_email


@pytest.mark.parametrize(
    "raw,normalized",
    [
        ("user@example.com", "user@example.com"),
        ("  User@Example.COM \n", "user@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x@a-b.example", "x@a-b.example"),
        ("a!#$%&*+/=?^_`{|}~-@example.com", "a!#$%&*+/=?^_`{|}~-@example.com"),
        ("user@example.com.", "user@example.com"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@BÜCHER.de", "user@xn--bcher-kva.de"),
        ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
        ("info@例え.テスト", "info@xn--r8jz45g.xn--zckzah"),
        ("l" * 64 + "@example.com", "l" * 64 + "@example.com"),
    ],
)
def test_valid_addresses(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized
    assert is_valid_email(raw)
    assert normalize_email(normalized) == normalized  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "user@",
        "user@@example.com",
        "user@localhost",
        "user@example",
        "user@123.456",
        "user@-example.com",
        "user@example-.com",
        "user@exa_mple.com",
        "user@exa mple.com",
        "us er@example.com",
        "user\n@example.com",
        "user\x00@example.com",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        '"quoted"@example.com',
        "user(comment)@example.com",
        "l" * 65 + "@example.com",
        "user@" + "a" * 64 + ".com",
        "user@" + ".".join(["a" * 60] * 5) + ".com",
        "üser@example.com",
        "user@example..com",
    ],
)
def test_invalid_addresses(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)
    assert not is_valid_email(raw)


def test_non_strings_are_invalid() -> None:
    for value in (None, 5, b"user@example.com"):
        with pytest.raises(InvalidEmail):
            normalize_email(value)  # type: ignore[arg-type]
