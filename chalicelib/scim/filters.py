"""Filters over an org's members: parse with scim2-models, choose the cheapest read.

``userName eq "x"`` (alone or as a term of a top-level ``and``) is a Query
on the Members LSI ``by_email`` for that one key; ``userName sw "x"`` is a
``begins_with`` Query on the same index. Any other filter reads the org's
members partition page by page. Either way the full filter is then
evaluated on each candidate by scim2-models, so the index only narrows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scim2_models import Group, InvalidFilterException, ScimFilter, User
from scim2_models.path import AttrPath, CompareOperator, Comparison, FilterNode, LogicalExpr, LogicalOperator

from ..storage.members import MemberModel
from .resources import USER_URN, UserResource

_INDEXED_OPS = (CompareOperator.eq, CompareOperator.sw)


def parse_user_filter(text: str | None) -> ScimFilter[User[Any]] | None:
    return _parse(ScimFilter[UserResource], text)


def parse_group_filter(text: str | None) -> ScimFilter[Group] | None:
    return _parse(ScimFilter[Group], text)


def _parse(kind: Any, text: str | None) -> Any:
    if text is None or not text.strip():
        return None
    try:
        return kind(text)
    except InvalidFilterException:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidFilterException(detail=f"The filter is not valid: {exc}") from exc


def _is_user_name(path: AttrPath) -> bool:
    return path.attr.lower() == "username" and path.sub_attr is None and path.uri in (None, USER_URN)


def user_name_key(node: FilterNode) -> tuple[CompareOperator, str] | None:
    """The userName condition every match must satisfy, when the filter has one."""
    if isinstance(node, Comparison) and _is_user_name(node.attr_path) and node.op in _INDEXED_OPS:
        return (node.op, node.value) if isinstance(node.value, str) else None
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        for term in node.terms:
            key = user_name_key(term)
            if key is not None:
                return key
    return None


MAX_EMAIL_LENGTH = 254


def candidates(org_id: str, scim_filter: ScimFilter[User[Any]] | None) -> Iterator[MemberModel]:
    """Members that may match: one indexed Query when the filter pins userName, else the partition."""
    key = user_name_key(scim_filter.ast) if scim_filter is not None else None
    if key is None:
        return MemberModel.query(org_id, consistent_read=True)
    op, value = key
    # userName is caseExact false and stored lower-cased, so the key is lower-cased too.
    key_value = value.lower()
    if len(key_value) > MAX_EMAIL_LENGTH:  # no email is that long (and DynamoDB refuses such a key)
        return iter(())
    condition = MemberModel.email == key_value if op == CompareOperator.eq else MemberModel.email.startswith(key_value)
    return MemberModel.by_email.query(org_id, condition, consistent_read=True)
