"""Form values checked with the API's own request models, so a page accepts exactly what the API does."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..domain.emails import InvalidEmail, normalize_email

T = TypeVar("T", bound=BaseModel)


class FormInvalid(Exception):
    """A form field is wrong: the page shows it again with the message beside the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def checked(model: type[T], **values: Any) -> T:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = str(first.get("loc", ("form",))[0])
        raise FormInvalid(field, _sentence(field, first)) from exc


def _sentence(field: str, error: Any) -> str:
    kind = str(error.get("type", ""))
    label = field.replace("_", " ").capitalize()
    if kind in ("string_too_short", "missing"):
        return f"{label} is required."
    if kind == "string_too_long":
        return f"{label} is too long."
    return f"{label} is not valid: {error.get('msg', '')}."


def email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as exc:
        raise FormInvalid("email", "Enter an email address, like name@example.com.") from exc
