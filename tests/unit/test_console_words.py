"""Every error a page can meet has words of its own: no page falls back to a service's raw message."""

from __future__ import annotations

from chalicelib.console import web, words
from chalicelib.domain.errors import all_error_types


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_code_has_a_title_and_a_sentence() -> None:
    codes = {error.code for error in all_error_types()}
    missing = sorted(codes - set(words.SENTENCES))
    assert missing == [], f"error codes without words in console/words.py: {missing}"
    assert all(title and sentence.endswith(".") for title, sentence in words.SENTENCES.values())


def test_every_page_refusal_has_words() -> None:
    refusals = _subclasses(web.PageRefusal)
    assert refusals, "the page refusals (cross-site form, stale form, no session) are subclasses of PageRefusal"
    assert sorted(r.code for r in refusals if r.code not in words.SENTENCES) == []
