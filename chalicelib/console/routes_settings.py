"""Pages: the organization's settings (web console, admin area)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
