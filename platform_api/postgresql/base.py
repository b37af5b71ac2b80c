"""Django's PostgreSQL backend, whose health check asks the server only when it has spoken,
and which finds out whether a transaction pooler multiplexes its connections.

`CONN_HEALTH_CHECKS` makes Django check a persistent connection before a request first uses it:
Django's check is a `SELECT 1`, a round trip on every request. Measured on the benchmark's
2 cores, that was a third of the endpoint's database round trips (token, page, check).

A connection the server has dropped — a restart, `pg_terminate_backend`, an idle timeout, a
pooler closing it — has data waiting on its socket: the server's FATAL message, then the end of
the stream. An idle connection with nothing to read has not been dropped by the server, so it is
used without asking. When something is waiting, or the connection is not idle, Django's
`SELECT 1` decides as before (a TLS record or a notice is not a failure). A server that vanished
without closing the socket (a network partition) is caught by neither check before the query
itself fails, as with Django's own.

Each new connection learns its pooler mode (`platform_api.pooler`) before its first statement:
on a multiplexed connection psycopg never prepares (`prepare_threshold = None`) and
`QuerySet.iterator()` reads through an ordinary cursor instead of a server-side one.
"""

from __future__ import annotations

import select
import weakref
from typing import Any

import psycopg
import psycopg._queries
from django.db.backends.postgresql import base
from psycopg import pq

from platform_api import pooler

# psycopg turns a query's `%s` placeholders into `$n` once per distinct text (an LRU cache of
# 128), but only for texts up to 4 KB, a guard against caching huge one-off statements: the
# orders page's one statement is longer, so it was parsed again on every request (5-6% of an
# S1 or S4 request's instructions; docs/scaling.md, "The request path"). Statements with more
# than 50 parameters (bulk writes) stay uncached by psycopg's other limit.
psycopg._queries.MAX_CACHED_STATEMENT_LENGTH = 32 * 1024

# With psycopg's pool a physical connection serves many Django connections: decided once each.
_MODES: weakref.WeakKeyDictionary[psycopg.Connection[Any], pooler.PoolerMode] = (
    weakref.WeakKeyDictionary()
)


class DatabaseWrapper(base.DatabaseWrapper):
    pooler_mode: pooler.PoolerMode

    def init_connection_state(self) -> None:
        connection = self.connection
        mode = _MODES.get(connection)
        if mode is None:
            try:
                mode = _decide(self.settings_dict, connection)
            except BaseException:
                # Refused (ImproperlyConfigured) or failed: the connection is dropped, and
                # the next use connects afresh.
                connection.close()
                if self.pool is not None:
                    self.pool.putconn(connection)
                self.connection = None
                raise
            _MODES[connection] = mode
        if not mode.prepared_statements:
            connection.prepare_threshold = None
        self.pooler_mode = mode
        super().init_connection_state()

    def chunked_cursor(self) -> Any:
        self.ensure_connection()
        if not self.pooler_mode.server_side_cursors:
            # A cursor WITH HOLD stays on the server connection that declared it; the next
            # FETCH may go to another one. The rows then come in one go, as on SQLite.
            return self.cursor()
        return super().chunked_cursor()

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status == pq.TransactionStatus.IDLE:
            try:
                poller = select.poll()
                poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
                quiet = not poller.poll(0)
            except (OSError, ValueError):
                return False
            if quiet:
                return True
        usable: bool = super().is_usable()
        return usable


def _decide(
    settings_dict: dict[str, Any], connection: psycopg.Connection[Any]
) -> pooler.PoolerMode:
    if not pooler.needs_probe(settings_dict):
        return pooler.decide(settings_dict)
    row = connection.execute("SELECT pg_backend_pid()", prepare=False).fetchone()
    if not connection.autocommit:
        connection.rollback()
    assert row is not None
    return pooler.decide(settings_dict, key_pid=connection.info.backend_pid, backend_pid=row[0])
