"""Jinja2, autoescaped, loaded once per process on the first page (not on the JSON API's cold start)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .words import ended_because, role_name

TEMPLATES = Path(__file__).parent / "templates"


def when(value: datetime | None, empty: str = "—") -> str:
    """Dates as people read them, in UTC (the pages say so)."""
    if value is None:
        return empty
    return value.strftime("%d %b %Y, %H:%M UTC")


def day(value: datetime | None, empty: str = "—") -> str:
    return value.strftime("%d %b %Y") if value else empty


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, day=day, role_name=role_name, ended_because=ended_because)
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
