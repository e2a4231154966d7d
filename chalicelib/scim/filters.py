"""Filters over an org's members: parse with scim2-models, choose the cheapest read.

``userName eq "x"`` (alone or as a term of a top-level ``and``) is a Query
on the Members LSI ``by_email`` for that one key; ``userName sw "x"`` is a
``begins_with`` Query on the same index. Any other filter reads the org's
members partition page by page. On Groups, ``displayName eq "x"`` (alone
or ANDed) is one GetItem on the group_names table (names are kept
case-folded, displayName is caseExact false) and one on the group. Either way the full filter is then
evaluated on each candidate by scim2-models, so the index only narrows.

A filter is evaluated with ``FilterPlan``: scim2-models' own evaluator, but
each comparison's attribute resolution, operator check and operand are
worked out once per filter, and each attribute is read once per member,
instead of once per term per member (a 100-term filter over an org's
members cost about 1.2 ms a member; planned, a tenth of that).

Filters are bounded before they cost anything: at most ``MAX_FILTER_CHARS``
characters (checked before parsing) and ``MAX_FILTER_TERMS`` comparisons
(checked before evaluation); IdPs send one to three terms. A string value
holding a lone UTF-16 surrogate cannot be sent to DynamoDB nor match a stored
string, so it is refused too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from scim2_models import Group, InvalidFilterException, ScimFilter, User
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from scim2_models.path.resolution import AttributeBinding, _validate_operator, coerce_value
from scim2_models.path.visitor import _compare, _Evaluator

from ..domain.models import Member
from ..storage import members as member_rows
from .resources import GROUP_URN, USER_URN, UserResource

_INDEXED_OPS = (CompareOperator.eq, CompareOperator.sw)
MAX_FILTER_CHARS = 2_000
MAX_FILTER_TERMS = 100


def parse_user_filter(text: object) -> ScimFilter[User[Any]] | None:
    return _parse(ScimFilter[UserResource], text)


def parse_group_filter(text: object) -> ScimFilter[Group] | None:
    return _parse(ScimFilter[Group], text)


def _parse(kind: Any, text: object) -> Any:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise InvalidFilterException(detail="The filter must be a string.")
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidFilterException(detail=f"The filter is too long (at most {MAX_FILTER_CHARS} characters).")
    try:
        parsed = kind(text)
    except InvalidFilterException:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidFilterException(detail=f"The filter is not valid: {exc}") from exc
    _check_terms(parsed.ast)
    return parsed


class FilterPlan:
    """A parsed filter with its per-term work done once, to match many resources against.

    Built on scim2-models' evaluator (the same semantics: case-exactness,
    multi-valued attributes, value paths); only where a result does not
    depend on the resource is it kept and reused.
    """

    def __init__(self, scim_filter: ScimFilter[Any]) -> None:
        self.scim_filter = scim_filter
        self.model = cast(Any, scim_filter.model)
        self.resolved: dict[tuple[AttrPath, bool], AttributeBinding | None] = {}
        self.operands: dict[int, tuple[AttributeBinding | None, Any]] = {}

    def match(self, resource: Any) -> bool:
        return bool(_PlannedEvaluator(self, resource).visit(self.scim_filter.ast))


class _PlannedEvaluator(_Evaluator):
    """One resource's evaluation under a ``FilterPlan`` (each attribute read once)."""

    def __init__(self, plan: FilterPlan, resource: Any) -> None:
        super().__init__(plan.model, resource)
        self.plan = plan
        self.reads: dict[AttributeBinding, Any] = {}

    def _resolve(self, attr_path: AttrPath, *, for_comparison: bool = False) -> AttributeBinding | None:
        key = (attr_path, for_comparison)
        if key not in self.plan.resolved:
            self.plan.resolved[key] = super()._resolve(attr_path, for_comparison=for_comparison)
        return self.plan.resolved[key]

    def _read(self, resolved: AttributeBinding) -> Any:
        if resolved not in self.reads:
            self.reads[resolved] = super()._read(resolved)
        return self.reads[resolved]

    def visit_comparison(self, node: Comparison) -> bool:
        planned = self.plan.operands.get(id(node))
        if planned is None:
            resolved = self._resolve(node.attr_path, for_comparison=True)
            if resolved is not None:
                _validate_operator(resolved, node.op)
            expected = coerce_value(resolved, node.value, node.op) if resolved is not None else None
            planned = self.plan.operands[id(node)] = (resolved, expected)
        resolved, expected = planned
        if resolved is None:
            return False
        actual = self._read(resolved)
        if not isinstance(actual, list):
            return _compare(actual, expected, node.op, resolved)
        # As scim2-models reads it: "ne" on a multi-valued attribute means no value equals the operand.
        if node.op == CompareOperator.ne:
            return all(_compare(item, expected, node.op, resolved) for item in actual)
        return any(_compare(item, expected, node.op, resolved) for item in actual)


def has_lone_surrogate(text: str) -> bool:
    """Whether a string holds a UTF-16 surrogate not paired into a code point (JSON ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_terms(root: FilterNode) -> None:
    """Refuse filters with too many comparisons, or values no stored string can hold."""
    terms = 0
    for node in _nodes(root):
        if isinstance(node, Comparison | Present):
            terms += 1
        if isinstance(node, Comparison) and isinstance(node.value, str) and has_lone_surrogate(node.value):
            raise InvalidFilterException(detail="A filter value holds an unpaired UTF-16 surrogate.")
    if terms > MAX_FILTER_TERMS:
        raise InvalidFilterException(detail=f"The filter has too many terms (at most {MAX_FILTER_TERMS}).")


def _nodes(root: FilterNode) -> Iterator[FilterNode]:
    """Every expression of a filter tree, without recursion."""
    pending: list[FilterNode] = [root]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, LogicalExpr):
            pending.extend(node.terms)
        elif isinstance(node, Not):
            pending.append(node.expr)
        elif isinstance(node, ValuePath):
            pending.append(node.val_filter)


def names_attribute(scim_filter: ScimFilter[Any] | None, *names: str) -> bool:
    """Whether the filter tests one of these top-level attributes (case-insensitive)."""
    if scim_filter is None:
        return False
    wanted = {n.lower() for n in names}
    return any(
        isinstance(node, Comparison | Present | ValuePath) and node.attr_path.attr.lower() in wanted
        for node in _nodes(scim_filter.ast)
    )


def _is_user_name(path: AttrPath) -> bool:
    return path.attr.lower() == "username" and path.sub_attr is None and path.uri in (None, USER_URN)


def user_name_key(node: FilterNode) -> tuple[CompareOperator, str] | None:
    """The userName condition every match must satisfy, when the filter has one."""
    if isinstance(node, Comparison) and _is_user_name(node.attr_path) and node.op in _INDEXED_OPS:
        if not isinstance(node.value, str) or (node.op == CompareOperator.sw and not node.value):
            return None  # sw "" narrows nothing: every userName starts with ""
        return node.op, node.value
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        for term in node.terms:
            key = user_name_key(term)
            if key is not None:
                return key
    return None


def _is_group_display_name(path: AttrPath) -> bool:
    return path.attr.lower() == "displayname" and path.sub_attr is None and path.uri in (None, GROUP_URN)


def display_name_key(node: FilterNode) -> str | None:
    """The displayName every matching group has (``displayName eq``, alone or ANDed), when the filter pins one."""
    if isinstance(node, Comparison) and _is_group_display_name(node.attr_path) and node.op == CompareOperator.eq:
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        for term in node.terms:
            key = display_name_key(term)
            if key is not None:
                return key
    return None


MAX_EMAIL_LENGTH = 254


def candidates(org_id: str, scim_filter: ScimFilter[User[Any]] | None) -> Iterator[Member]:
    """Members that may match: one indexed Query when the filter pins userName, else the partition."""
    key = user_name_key(scim_filter.ast) if scim_filter is not None else None
    if key is None:
        return iter(member_rows.of_org(org_id))
    op, value = key
    # userName is caseExact false and stored lower-cased, so the key is lower-cased too.
    key_value = value.lower()
    # No email is empty or that long (and DynamoDB refuses such key values).
    if not key_value or len(key_value) > MAX_EMAIL_LENGTH:
        return iter(())
    return member_rows.with_email(org_id, key_value, prefix=op != CompareOperator.eq)
