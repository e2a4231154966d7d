"""Org names that would carry a link into mail, the near misses included (no AWS: a pure rule)."""

from __future__ import annotations

import pytest

from chalicelib.domain import org_names

NEAR_MISSES = [
    "evil.com_/login",  # an underscore after the top-level domain
    "evil\u200b.example",  # a zero-width space before the dot
    "evil.\u200bexample",  # and after it
    "evil\u2060.example",  # a word joiner
    "evil\u00ad.example",  # a soft hyphen
    "evil\u200d.example",  # a zero-width joiner
    "\u202eelpmaxe.live",  # a right-to-left override: reads "evil.example"
    "Sign in at w\u200bww.evil",
    "https\u200b://x",
    "mail\ufeffto:help",
]


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_near_misses_are_refused(name: str) -> None:
    assert org_names.problem(name) is not None, name


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_near_misses_stored_before_the_rule_are_defanged_and_visible_in_mail(name: str) -> None:
    shown = org_names.for_mail(name)
    assert "\u200b" not in shown and "\u202e" not in shown and "\u2060" not in shown and "\ufeff" not in shown
    assert "." not in shown.replace("[.]", "") and ":" not in shown.replace("[:]", "")


@pytest.mark.parametrize(
    "name",
    [
        "Acme Inc.",
        "J. P. Morgan & Co.",
        "snake_case_team",
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 Office",  # an emoji sequence joined by ZWJ
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a zero-width non-joiner
    ],
)
def test_ordinary_names_pass_and_keep_their_joiners_in_mail(name: str) -> None:
    assert org_names.problem(name) is None
    assert org_names.for_mail(name) == name
