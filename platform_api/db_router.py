"""Read replicas: the endpoint's reads go to a replica, everything else to the primary.

Only code that runs inside `reading_from_replica()` reads from a replica, so admin pages and token
checks (where revocation must take effect at once) always see the primary.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

_use_replica: ContextVar[bool] = ContextVar("use_replica", default=False)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


@contextmanager
def reading_from_replica() -> Iterator[None]:
    marker = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(marker)


class ReplicaRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if _use_replica.get():
            replicas = replica_aliases()
            if replicas:
                return random.choice(replicas)
        return "default"

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Replicas hold the same data as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"
