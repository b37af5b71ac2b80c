"""Django's PostgreSQL backend, whose health check asks the server only when it has spoken.

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
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
