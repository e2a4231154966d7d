"""Shared storage plumbing: binding models to a stage, transactions, cursors.

Models declare a logical ``Meta.base_name``; ``bind`` gives them their
physical table name (stage prefix), endpoint and region from settings, and
drops pynamodb's cached per-model client so a new backend is really used.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException, QueryError, TableError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..config import Settings, get_settings
from ..domain.errors import Conflict, InvalidRequest, ServiceUnavailable

M = TypeVar("M", bound=Model)

_models: list[type[Model]] = []
_connection: Connection | None = None
_bound_to: tuple[str, str | None, str] | None = None

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
# Cancellation reasons of a TransactionWriteItems item that mean "try later", not "refused".
ITEM_THROTTLING_CODES = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def register(model: type[M]) -> type[M]:
    """Class decorator: bind a model to the current settings and include it in table creation."""
    _models.append(model)
    _apply(model, get_settings())
    _speak_through_the_shared_connection(model)
    return model


def _speak_through_the_shared_connection(model: type[Model]) -> None:
    """Every table's calls go through ``connection()``: one botocore client per process, not one per table.

    pynamodb gives each model its own Connection, and so its own botocore
    session and client (tens of milliseconds each, on the first request that
    touches the table); transactions already use the shared one.
    """
    table_connection = model._get_connection.__func__  # type: ignore[attr-defined]

    def shared(cls: type[Model]) -> TableConnection:
        table = table_connection(cls)
        common = _shared_connection()
        if table.connection is not common:
            try:
                common.get_meta_table(table.table_name)
            except TableError:
                common.add_meta_table(table.connection.get_meta_table(table.table_name))
            table.connection = common
        return table

    model._get_connection = classmethod(shared)  # type: ignore[method-assign,assignment]


def registered_models() -> list[type[Model]]:
    ensure_bound()
    return list(_models)


def _apply(model: type[Model], settings: Settings) -> None:
    model.Meta.table_name = settings.table_name(model.Meta.base_name)  # type: ignore[attr-defined]
    model.Meta.host = settings.dynamodb_endpoint
    model.Meta.region = settings.aws_region
    model.Meta.connect_timeout_seconds = settings.dynamodb_connect_timeout_seconds
    model.Meta.read_timeout_seconds = settings.dynamodb_read_timeout_seconds
    model.Meta.max_retry_attempts = settings.dynamodb_max_retry_attempts
    model._connection = None


def bind(settings: Settings) -> None:
    """Point every model at the tables and endpoint of ``settings``."""
    global _connection, _bound_to
    for model in _models:
        _apply(model, settings)
    _connection = None
    _bound_to = (settings.table_prefix, settings.dynamodb_endpoint, settings.aws_region)


def ensure_bound() -> None:
    """Bind to the current settings if they changed since the last bind (tests switch backends)."""
    settings = get_settings()
    key = (settings.table_prefix, settings.dynamodb_endpoint, settings.aws_region)
    if key != _bound_to:
        bind(settings)


def connection() -> Connection:
    """A low-level connection for transactions and batch calls."""
    ensure_bound()
    return _shared_connection()


def _shared_connection() -> Connection:
    """The one Connection, as bound: model calls take it without rereading the settings."""
    global _connection
    if _connection is None:
        settings = get_settings()
        _connection = Connection(
            region=settings.aws_region,
            host=settings.dynamodb_endpoint,
            connect_timeout_seconds=settings.dynamodb_connect_timeout_seconds,
            read_timeout_seconds=settings.dynamodb_read_timeout_seconds,
            max_retry_attempts=settings.dynamodb_max_retry_attempts,
        )
    return _connection


# DynamoDB refuses empty key values and ones over 1,024 (range) / 2,048 (hash)
# bytes with a ValidationException; no id of ours is blank or comes near that
# length, so such values are simply "not found".
MAX_KEY_BYTES = 512


def key_fits(*values: str) -> bool:
    """Whether every value can be a key of ours (blank or longer ones cannot exist)."""
    return all(v.strip() and len(v.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES for v in values)


def _fits(value: str) -> bool:
    """A key value of ours: fits (``key_fits``) and is Unicode text (no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return key_fits(value)


def client() -> Any:
    """The botocore DynamoDB client behind the shared connection (table admin, batch calls)."""
    return connection().client


def bound_client() -> Any:
    """The botocore client as bound, without rereading the settings: for hot-path reads, which
    behave as model calls do (only transactions and table admin rebind, ``connection``)."""
    return _shared_connection().client


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code behind a pynamodb/botocore exception, if any."""
    for current in _chain(exc):
        code = getattr(current, "cause_response_code", None)
        if code:
            return str(code)
        response = getattr(current, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code"):
            return str(response["Error"]["Code"])
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (pynamodb wraps botocore's errors), each once."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def unavailable(exc: BaseException) -> bool:
    """DynamoDB is throttling, failing, unreachable or too slow: the request may be retried (503).

    Timeouts and refused or reset connections are botocore errors, not DynamoDB
    codes: pynamodb passes them on as the cause of its own exception.
    """
    if error_code(exc) in THROTTLING_CODES:
        return True
    if isinstance(exc, TransactionCancelled) and any(
        r is not None and r.code in ITEM_THROTTLING_CODES for r in exc.reasons
    ):
        return True  # throttled inside a transaction: the reason is on the item, not the call
    return any(isinstance(e, HTTPClientError | BotocoreConnectionError) for e in _chain(exc))


def answered(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A raw boto3 call of a hot path: throttling, timeouts and lost connections become 503."""
    try:
        return call()
    except Exception as exc:
        if unavailable(exc):
            raise ServiceUnavailable() from exc
        raise


def is_condition_failure(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def read_consistent(model: type[M], key: dict[str, Any], fields: Sequence[str] | None = None) -> M | None:
    """One consistent GetItem on the shared client, decoded by the model (None: no such item).

    Authentication paths read this way: it skips pynamodb's per-call
    dispatch (about 0.1 ms a read, see bench/README.md); throttling still maps to 503.
    """
    params: dict[str, Any] = {"TableName": model.Meta.table_name, "Key": key, "ConsistentRead": True}
    if fields:
        params["ProjectionExpression"] = ", ".join(fields)
    item = answered(lambda: bound_client().get_item(**params)).get("Item")
    return model.from_raw_data(item) if item else None


def update_if(item: Model, actions: Sequence[Any], condition: Any) -> bool:
    """Apply ``actions`` to the item only under ``condition``; False when the condition failed (nothing written)."""
    try:
        item.update(actions=list(actions), condition=condition)
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def take_flag(item: Model, flag: Any) -> bool:
    """Remove ``flag`` from the item under the condition that it is there; True when this call took it.

    Claims of one-time work (an email to announce something): of concurrent
    or replayed deliveries, exactly one takes the flag.
    """
    return update_if(item, [flag.remove()], flag.exists())


@dataclass(frozen=True)
class CancelReason:
    code: str
    item: dict[str, Any] | None


@dataclass(frozen=True)
class TxItem:
    """A handle on one item of a transaction: ask a cancellation about it (``TransactionCancelled.reason_for``)."""

    index: int


class TransactionCancelled(Exception):
    """A transaction was cancelled; ``reasons`` align with the items in order.

    Callers ask about their own items by handle (``reason_for``, ``failed``),
    or declare what a failure means when adding them (``on_fail``).
    """

    def __init__(self, reasons: list[CancelReason | None]) -> None:
        super().__init__("transaction cancelled")
        self.reasons = reasons

    def failed_indexes(self, code: str = "ConditionalCheckFailed") -> list[int]:
        return [i for i, r in enumerate(self.reasons) if r is not None and r.code == code]

    def reason_for(self, item: TxItem) -> CancelReason | None:
        """Why this item failed (None: it did not, or the engine gave no reason)."""
        return self.reasons[item.index] if item.index < len(self.reasons) else None

    def failed(self, item: TxItem, code: str = "ConditionalCheckFailed") -> bool:
        """Whether this item's condition failed (``code``: or another reason, e.g. TransactionConflict)."""
        reason = self.reason_for(item)
        return reason is not None and reason.code == code

    @property
    def only_condition_failures(self) -> bool:
        return all(r is None or r.code == "ConditionalCheckFailed" for r in self.reasons)

    @property
    def retryable(self) -> bool:
        """Lost a race: a condition failed or another transaction held an item (TransactionConflict)."""
        return all(r is None or r.code in ("ConditionalCheckFailed", "TransactionConflict") for r in self.reasons)


class AlreadyApplied(Exception):
    """An item's declared failure meaning "the wanted state already holds" (revoked meanwhile): nothing to do."""


# What an item's failed condition means: an error class (raised as ``cls()``), or a
# function of the reason returning the error to raise, or None for a lost race.
Failure = type[Exception] | Callable[[CancelReason], Exception | None]


def lost_race(_reason: CancelReason) -> None:
    """``on_fail`` for an item whose failure means stale reads: the cancellation stands (``retry_races``)."""
    return None


def _error_for(failure: Failure, reason: CancelReason) -> Exception | None:
    if isinstance(failure, type):
        return failure()
    return failure(reason)


RACE_ATTEMPTS = 6
R = TypeVar("R")


def _lost_race(exc: TransactionCancelled) -> bool:
    return exc.retryable


def any_cancellation(_exc: TransactionCancelled) -> bool:
    """``races`` for steps whose every cancellation means "read again" (the fresh state names the outcome)."""
    return True


def retry_races(
    attempt: Callable[[], R],
    attempts: int = RACE_ATTEMPTS,
    races: Callable[[TransactionCancelled], bool] = _lost_race,
) -> R:
    """Run a read-then-conditional-write step again, with jitter, when a race cancels it.

    Reads only choose the shape of a transaction; its conditions decide. A
    lost race (a condition failed on stale reads, or another transaction held
    an item) is retried on fresh state; after ``attempts`` it is 409 conflict.
    ``races`` says which cancellations are lost races (others are re-raised at
    once); by default those of conditions and TransactionConflict. This is the
    one retry loop for lost races: every service's goes through it.
    """
    last: TransactionCancelled | None = None
    for n in range(attempts):
        try:
            return attempt()
        except TransactionCancelled as exc:
            if unavailable(exc) or not races(exc):
                raise  # throttled is not a lost race: 503, the caller retries later
            last = exc
            time.sleep(random.uniform(0, 0.01 * 2**n))
    raise Conflict() from last


ItemKey = tuple[str, Any, Any]


@dataclass
class _Guard:
    condition: Condition
    refusal: Callable[[], Exception]
    holds: Callable[[], bool]
    merged: bool  # folded into another operation's condition on the same item


class Tx:
    """An ordered TransactWriteItems builder (pynamodb groups by kind; we keep order).

    Each item may declare what its failed condition means (``on_fail``): on a
    cancellation ``commit`` raises the meaning of the first failing item that
    declared one, so no caller counts positions (adding an item changes no
    other item's meaning). Without a declared meaning the cancellation itself
    is raised, a lost race for ``retry_races``; a TransactionConflict is never
    mapped. Items are built at ``commit``, so a guard (``guard``) can still
    fold its condition into an operation already added on the same item (one
    operation per item). ``put``/``update``/``delete``/``check`` return a
    handle for ``TransactionCancelled.reason_for`` (bulk calls: one result per input).
    """

    MAX_ITEMS = 100

    def __init__(self) -> None:
        # (kind, item key, condition, build(condition) -> kwargs), in order.
        self._ops: list[tuple[str, ItemKey, Condition | None, Callable[[Condition | None], dict[str, Any]]]] = []
        self._on_fail: dict[int, Failure] = {}
        self.guards: dict[int, _Guard] = {}

    def __len__(self) -> int:
        return len(self._ops)

    @property
    def items(self) -> list[dict[str, Any]]:
        """The TransactItems as they would be sent now."""
        return [{kind: build(condition)} for kind, _, condition, build in self._ops]

    @staticmethod
    def _key_of(model_cls: type[Model], hash_key: Any, range_key: Any) -> ItemKey:
        return (str(model_cls.Meta.table_name), hash_key, range_key)

    @classmethod
    def _instance_key(cls, model: Model) -> ItemKey:
        hash_attr = model._hash_key_attribute()
        range_attr = model._range_key_attribute()
        return cls._key_of(
            type(model),
            getattr(model, hash_attr.attr_name),
            getattr(model, range_attr.attr_name) if range_attr is not None else None,
        )

    def _add(
        self,
        kind: str,
        key: ItemKey,
        condition: Condition | None,
        build: Callable[[Condition | None], dict[str, Any]],
        on_fail: Failure | None,
    ) -> TxItem:
        item = TxItem(len(self._ops))
        self._ops.append((kind, key, condition, build))
        if on_fail is not None:
            self._on_fail[item.index] = on_fail
        return item

    def put(
        self,
        model: Model,
        condition: Condition | None = None,
        return_old: bool = False,
        on_fail: Failure | None = None,
    ) -> TxItem:
        def build(cond: Condition | None) -> dict[str, Any]:
            return model.get_save_kwargs_from_instance(
                condition=cond, return_values_on_condition_failure="ALL_OLD" if return_old else None
            )

        return self._add("Put", self._instance_key(model), condition, build, on_fail)

    def update(
        self,
        model: Model,
        actions: Sequence[Action],
        condition: Condition | None = None,
        return_old: bool = False,
        on_fail: Failure | None = None,
    ) -> TxItem:
        def build(cond: Condition | None) -> dict[str, Any]:
            return model.get_update_kwargs_from_instance(
                actions=list(actions),
                condition=cond,
                return_values_on_condition_failure="ALL_OLD" if return_old else None,
                add_version_condition=False,
            )

        return self._add("Update", self._instance_key(model), condition, build, on_fail)

    def delete(
        self,
        model: Model,
        condition: Condition | None = None,
        return_old: bool = False,
        on_fail: Failure | None = None,
    ) -> TxItem:
        def build(cond: Condition | None) -> dict[str, Any]:
            kwargs = model.get_delete_kwargs_from_instance(condition=cond, add_version_condition=False)
            if return_old:
                kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            return kwargs

        return self._add("Delete", self._instance_key(model), condition, build, on_fail)

    def check(
        self,
        model_cls: type[Model],
        hash_key: Any,
        range_key: Any,
        condition: Condition,
        on_fail: Failure | None = None,
    ) -> TxItem:
        def build(cond: Condition | None) -> dict[str, Any]:
            return model_cls.get_operation_kwargs_from_class(hash_key, range_key=range_key, condition=cond)

        return self._add("ConditionCheck", self._key_of(model_cls, hash_key, range_key), condition, build, on_fail)

    def guard(
        self,
        model_cls: type[Model],
        hash_key: Any,
        range_key: Any,
        condition: Condition,
        refusal: Callable[[], Exception],
        holds: Callable[[], bool],
    ) -> Tx:
        """A precondition whose failure is an answer, not a race: ``commit`` raises ``refusal()``.

        For preconditions about who is asking (the caller is still an admin,
        ``services.members.caller_still``): when it fails, nothing of the
        transaction is written and the caller gets that error, whatever else
        failed with it (it wins over every item's ``on_fail``).
        Usually its own ConditionCheck (the last item); when the transaction
        already changes that item (an admin seating themselves), the
        condition joins that operation's, and a failure there asks ``holds``
        (a fresh read) whether it was the guard or the operation's own condition.
        """
        key = self._key_of(model_cls, hash_key, range_key)
        for index, (kind, other, own, build) in enumerate(self._ops):
            if other == key:
                joined = condition if own is None else own & condition
                self._ops[index] = (kind, other, joined, build)
                self.guards[index] = _Guard(condition, refusal, holds, merged=True)
                return self
        self.check(model_cls, hash_key, range_key, condition)
        self.guards[len(self._ops) - 1] = _Guard(condition, refusal, holds, merged=False)
        return self

    def commit(self, client_request_token: str | None = None) -> None:
        if not self._ops:
            return
        if len(self._ops) > self.MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {self.MAX_ITEMS} items")
        items = self.items
        params: dict[str, Any] = {"TransactItems": items}
        if client_request_token:
            params["ClientRequestToken"] = client_request_token
        try:
            connection().dispatch("TransactWriteItems", params)
        except (PynamoDBException, ClientError) as exc:
            # Connection.dispatch raises pynamodb's VerboseClientError, a botocore ClientError.
            if error_code(exc) != "TransactionCanceledException":
                raise
            raw = getattr(exc, "cancellation_reasons", None) or []
            reasons = [CancelReason(code=r.code, item=r.raw_item) if r is not None else None for r in raw]
            # Some engines omit reasons; keep the list aligned with the items.
            reasons += [None] * (len(items) - len(reasons))
            cancelled = TransactionCancelled(reasons)
            answer = self.answer(cancelled)
            if answer is not None:
                raise answer from cancelled
            raise cancelled from exc

    def answer(self, cancelled: TransactionCancelled) -> Exception | None:
        """The error a cancellation means: a failed guard's refusal, else the first failing declared item's.

        None: no item declared a meaning for its failure (or it declared a
        lost race), so the cancellation itself stands.
        """
        failed = cancelled.failed_indexes()
        for index in failed:
            guard = self.guards.get(index)
            if guard is not None and (not guard.merged or not guard.holds()):
                return guard.refusal()
        for index in failed:
            failure = self._on_fail.get(index)
            if failure is not None:
                reason = cancelled.reasons[index]
                assert reason is not None  # a failed index has a reason
                return _error_for(failure, reason)
        return None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """Opaque cursor from a DynamoDB LastEvaluatedKey."""
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, expected: dict[str, str] | None = None, names: Collection[str] | None = None
) -> dict[str, Any] | None:
    """Decode a cursor; refuse malformed ones and ones from another partition.

    ``names`` are the key attributes of the queried table or index (all
    strings): a cursor with other attributes is refused here, because engines
    differ on such keys (DynamoDB: ValidationException; moto: a crash). So
    are values no key of ours can hold (blank, too long, lone surrogates) and
    JSON nested deep enough to exhaust the decoder's stack (RecursionError).
    """
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(key, dict) or not all(
            isinstance(v, dict) and len(v) == 1 and next(iter(v)) in {"S", "N"} for v in key.values()
        ):
            raise ValueError("bad shape")
        if names is not None and (
            set(key) != set(names) or not all(isinstance(v.get("S"), str) and _fits(v["S"]) for v in key.values())
        ):
            raise ValueError("not a key of this list")
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidRequest("The cursor is not valid.", details=[{"field": "cursor", "problem": "malformed"}]) from exc
    for name, value in (expected or {}).items():
        if key.get(name, {}).get("S") != value:
            raise InvalidRequest(
                "The cursor belongs to another list.", details=[{"field": "cursor", "problem": "foreign"}]
            )
    return key


def page(results: Any) -> tuple[list[Any], str | None]:
    """Drain a pynamodb result iterator created with ``limit=`` into (items, next cursor)."""
    items = list(results)
    return items, encode_cursor(results.last_evaluated_key)


Q = TypeVar("Q")


def cursor_page(
    cursor: str | None,
    partition: dict[str, str],
    names: Collection[str],
    query: Callable[[dict[str, Any] | None], Q],
    drain: Callable[[Q], tuple[list[Any], str | None]] = page,
) -> tuple[list[Any], str | None]:
    """One page of a cursor-paged Query: the cursor decoded, the query run from it, drained.

    ``query`` gets the decoded start key (None: from the beginning) and
    returns the lazy result iterator; ``drain`` turns it into (items, next
    cursor). A cursor that decodes but that DynamoDB still refuses as a start
    key (ValidationException) is the caller's 400, like a malformed one.
    """
    start = decode_cursor(cursor, partition, names)
    try:
        return drain(query(start))
    except QueryError as exc:
        if error_code(exc) != "ValidationException":
            raise
        raise InvalidRequest("The cursor is not valid.", details=[{"field": "cursor", "problem": "invalid"}]) from exc
