"""Pages: the organization's users (web console, admin area)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
