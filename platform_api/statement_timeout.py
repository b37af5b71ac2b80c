"""A bound on how long any one SQL statement of a web request may run (PostgreSQL only).

Without it, one expensive admin page (facet counts over half a million orders ran 11 minutes)
holds a worker and a database backend until the proxy gives up. The bound is PostgreSQL's
`statement_timeout`, given to the server by an execute wrapper that the middleware installs for
the request (and for a streamed body while it streams), so management commands, migrations and
the benchmark loader are never bounded.

How the setting reaches the server depends on what sits between Django and PostgreSQL:

- a direct connection (or a session-mode pooler) keeps session settings: a plain `SET` before
  the first statement a web request runs on a connection, once per connection, no round trip
  after that. Inside a transaction a `SET` would be undone by a rollback, so there it is
  `SET LOCAL` and the connection is not marked.
- a transaction-mode pooler (PgBouncer `pool_mode = transaction`: `DATABASE_POOLER`, detected
  or configured, see platform_api/pooler.py) hands each transaction to whichever server
  connection is free, so a session `SET` would be lost, and worse, leak to another client.
  There every statement runs in a transaction that starts with `SET LOCAL`: the statement's
  own (BEGIN, SET LOCAL, statement, COMMIT) in autocommit, the current one inside `atomic()`.

The `SET` goes through the DB-API connection, beside the statement it guards, so the queries a
test pins with `django_assert_num_queries` are the application's own, unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

# PostgreSQL's query_canceled: statement_timeout (or a cancel request) stopped the statement.
QUERY_CANCELED_SQLSTATE = "57014"

# DB-API connections whose session already carries the timeout (the value set).
_session_timeouts: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def statement_timeout_ms() -> int:
    """The configured bound in milliseconds; 0 means none."""
    return int(getattr(settings, "DATABASE_STATEMENT_TIMEOUT_MS", 0) or 0)


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether a database error is a statement the server cancelled for running too long."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED_SQLSTATE


def timeout_message() -> str:
    """What a client or an admin is told when a statement hit the bound."""
    seconds = statement_timeout_ms() / 1000
    return (
        f"The request needed more than {seconds:g} s of database time and was cancelled. "
        "Narrow it down (a filter, a smaller page) and try again."
    )


def is_transaction_pooled(connection: BaseDatabaseWrapper) -> bool:
    """Whether the connection's transactions may run in different server sessions (a
    transaction-mode pooler), as platform_api.pooler decided when it connected."""
    mode = getattr(connection, "pooler_mode", None)
    if mode is None:
        return connection.settings_dict.get("POOLER") == "transaction"
    return bool(mode.multiplexed)


class StatementTimeout:
    """Execute wrapper that makes the server cancel a statement running past `milliseconds`."""

    def __init__(self, milliseconds: int) -> None:
        self.milliseconds = int(milliseconds)

    def _set(self, connection: BaseDatabaseWrapper, *, local: bool) -> None:
        scope = "LOCAL " if local else ""
        # An int formatted into SET (which takes no bind parameters): nothing to inject.
        # Through Django's error wrapper, like the statement it guards: a session the server
        # ended (a restart, pg_terminate_backend) is then Django's OperationalError, which the
        # API answers 503, and the connection is marked to be closed, not reused.
        with connection.wrap_database_errors:
            connection.connection.execute(f"SET {scope}statement_timeout = {self.milliseconds}")

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        connection: BaseDatabaseWrapper = context["connection"]
        if is_transaction_pooled(connection):
            if connection.in_atomic_block:
                self._set(connection, local=True)
                return execute(sql, params, many, context)
            with transaction.atomic(using=connection.alias):
                self._set(connection, local=True)
                return execute(sql, params, many, context)
        raw = connection.connection
        if _session_timeouts.get(raw) != self.milliseconds:
            if connection.in_atomic_block:
                self._set(connection, local=True)
            else:
                self._set(connection, local=False)
                _session_timeouts[raw] = self.milliseconds
        return execute(sql, params, many, context)


def postgresql_aliases() -> list[str]:
    """The configured databases that are PostgreSQL."""
    return [alias for alias in connections if connections[alias].vendor == "postgresql"]


class StatementTimeoutMiddleware:
    """Bounds every statement a request runs, on every PostgreSQL database, while it runs and
    while a streamed response streams. `DATABASE_STATEMENT_TIMEOUT_MS=0` turns it off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.aliases = postgresql_aliases()

    def _guarded(self, guard: StatementTimeout) -> ExitStack:
        stack = ExitStack()
        for alias in self.aliases:
            stack.enter_context(connections[alias].execute_wrapper(guard))
        return stack

    def _stream(self, content: Iterable[Any], guard: StatementTimeout) -> Iterator[Any]:
        # The body of a streamed response is produced after the view returned, by the server
        # iterating it (in the same thread): keep the guard for as long as that lasts.
        with self._guarded(guard):
            yield from content

    def __call__(self, request: HttpRequest) -> HttpResponse:
        milliseconds = statement_timeout_ms()
        if milliseconds <= 0 or not self.aliases:
            return self.get_response(request)
        guard = StatementTimeout(milliseconds)
        with self._guarded(guard):
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = self._stream(response.streaming_content, guard)
        return response
