"""Which connection pooler stands between the service and PostgreSQL: the one place to ask.

A transaction-mode pooler (PgBouncer `pool_mode = transaction`, RDS Proxy, Supavisor, pgcat)
hands each transaction of a client connection to whichever server connection is free. What a
session keeps — prepared statements, cursors `WITH HOLD`, `SET`, temporary tables — is then
missing in the next transaction, or belongs to another client: psycopg's prepared statement
`_pg3_3` on one server connection is another client's query on the next, and answers with
its rows (issue 18: 142 wrong 200s in 14,667 answers behind PgBouncer 1.18).

`DATABASE_POOLER` (read by the settings into each PostgreSQL alias's `POOLER`):

- `auto` (default): each new connection finds out before its first statement. PostgreSQL
  tells a client the pid of the backend that serves it (BackendKeyData, for cancel requests);
  a pooler hands out its own key, because the backend changes under the client. When the key
  names the backend that runs `SELECT pg_backend_pid()`, PostgreSQL answers directly;
  otherwise a pooler does, and it is treated as a transaction pooler (the safe assumption).
- `none`: PostgreSQL directly; a connection where a pooler answers is refused.
- `session`: a session-mode pooler (one server connection per client connection): the
  connection is used as a direct one, without checking.
- `transaction`: multiplexed; no detection needed.

Multiplexed connections never prepare statements (psycopg's `prepare_threshold = None`) and
never open server-side cursors. Forcing either on behind a transaction pooler
(`DATABASE_SERVER_SIDE_BINDING=1`, `DATABASE_DISABLE_SERVER_SIDE_CURSORS=0`) is refused:
ImproperlyConfigured, at settings time for `transaction`, at the first connection for `auto`
(which `platform_api.wsgi` opens at startup, so the server does not start).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("platform_api.pooler")

CONFIGURED_CHOICES = ("auto", "none", "session", "transaction")


class Pooling(StrEnum):
    """What one connection of the service is, as far as session state goes."""

    NONE = "none"  # PostgreSQL itself
    SESSION = "session"  # a pooler that keeps one server connection per client connection
    TRANSACTION = "transaction"  # a pooler that may switch server connections per transaction


@dataclass(frozen=True)
class PoolerMode:
    """The mode in force on a connection, and why."""

    pooling: Pooling
    prepared_statements: bool
    server_side_cursors: bool
    reason: str

    @property
    def multiplexed(self) -> bool:
        """Consecutive transactions of one connection may run in different server sessions:
        nothing set on the session (`SET`, prepared statements, cursors) can be relied on in
        the next transaction, and what is left there may reach another client."""
        return self.pooling is Pooling.TRANSACTION


# SQLite and other engines: no pooler, nothing prepared server-side.
NOT_POSTGRESQL = PoolerMode(Pooling.NONE, False, False, "not PostgreSQL")


def pooler_mode(alias: str = DEFAULT_DB_ALIAS) -> PoolerMode:
    """The mode of `alias`'s connection in this thread, connecting first if needed.

    Raises ImproperlyConfigured when the settings contradict what the connection is, and
    Django's DatabaseError when the database cannot be reached.
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return NOT_POSTGRESQL
    connection.ensure_connection()
    mode: PoolerMode = connection.pooler_mode  # type: ignore[attr-defined]
    return mode


def decide(
    settings_dict: dict[str, Any], *, key_pid: int | None = None, backend_pid: int | None = None
) -> PoolerMode:
    """The mode of a connection configured by `settings_dict` (an entry of DATABASES).

    `key_pid` (the pid in the connection's cancel key) and `backend_pid` (what
    `pg_backend_pid()` answered) are needed only when `needs_probe(settings_dict)`.
    """
    configured = settings_dict.get("POOLER", "auto")
    prepared = settings_dict.get("PREPARED_STATEMENTS")
    cursors = settings_dict.get("SERVER_SIDE_CURSORS")
    if configured == "transaction":
        return _multiplexed("DATABASE_POOLER=transaction", prepared, cursors)
    if configured == "session":
        return _kept(Pooling.SESSION, "DATABASE_POOLER=session", prepared, cursors)
    if key_pid is None or backend_pid is None:
        raise ValueError(f"DATABASE_POOLER={configured} needs the connection's pids")
    direct = key_pid == backend_pid
    if configured == "none":
        if not direct:
            raise ImproperlyConfigured(
                "DATABASE_POOLER=none, but a pooler answers (the connection's cancel key names "
                f"process {key_pid}, its statements run in backend {backend_pid}). Set "
                "DATABASE_POOLER=transaction for a transaction pooler (PgBouncer's default "
                "advice), session for a session-mode pooler, or auto."
            )
        return _kept(
            Pooling.NONE,
            f"DATABASE_POOLER=none, confirmed: backend {backend_pid} answers directly",
            prepared,
            cursors,
        )
    if direct:
        return _kept(
            Pooling.NONE,
            f"detected: PostgreSQL answers directly (backend {backend_pid} is the cancel key's)",
            prepared,
            cursors,
        )
    return _multiplexed(
        f"detected: a pooler answers (cancel key of process {key_pid}, statements run in "
        f"backend {backend_pid}); treated as transaction pooling (DATABASE_POOLER=session "
        "if it pools sessions)",
        prepared,
        cursors,
    )


def needs_probe(settings_dict: dict[str, Any]) -> bool:
    """Whether `decide` needs the connection's pids (one round trip per new connection)."""
    return settings_dict.get("POOLER", "auto") in ("auto", "none")


def refuse_forced_session_features(
    reason: str, prepared: bool | None, cursors: bool | None
) -> None:
    """ImproperlyConfigured when the settings force a session feature on multiplexed
    connections, where it answers with another client's statement or cursor."""
    forced = []
    if prepared is True:
        forced.append("DATABASE_SERVER_SIDE_BINDING=1 (prepared statements)")
    if cursors is True:
        forced.append("DATABASE_DISABLE_SERVER_SIDE_CURSORS=0 (server-side cursors)")
    if forced:
        raise ImproperlyConfigured(
            f"{' and '.join(forced)} cannot work behind a transaction pooler ({reason}): a "
            "prepared statement or cursor belongs to one server connection, and the next "
            "transaction may run on another, where the same name is another client's query. "
            "Unset the variable (the service then turns the feature off there), or connect "
            "to PostgreSQL directly or through a session-mode pooler."
        )


def _multiplexed(reason: str, prepared: bool | None, cursors: bool | None) -> PoolerMode:
    refuse_forced_session_features(reason, prepared, cursors)
    return PoolerMode(Pooling.TRANSACTION, False, False, reason)


def _kept(pooling: Pooling, reason: str, prepared: bool | None, cursors: bool | None) -> PoolerMode:
    return PoolerMode(
        pooling,
        prepared_statements=prepared is not False,
        server_side_cursors=cursors is not False,
        reason=reason,
    )


def log_database_modes() -> None:
    """Log the mode in force for every database alias (at startup), then close the
    connections it opened. An unreachable database is logged and left for later: its
    connections decide when it answers. A contradiction raises ImproperlyConfigured."""
    for alias in connections:
        try:
            mode = pooler_mode(alias)
        except DatabaseError as exc:
            logger.warning(
                "database unreachable at startup: the pooler mode is decided when it answers",
                extra={"fields": {"alias": alias, "error": exc.__class__.__name__}},
            )
            continue
        finally:
            connections[alias].close()
        logger.info(
            "database pooler mode",
            extra={"fields": {"alias": alias, **asdict(mode)}},
        )
