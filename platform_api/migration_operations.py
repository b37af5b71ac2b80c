"""Migration operations that stay safe on large tables in production and still run on SQLite."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexWithoutLocking(AddIndexConcurrently):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL: the orders table keeps taking writes while
    the index builds (a plain CREATE INDEX blocks them for the whole build). Elsewhere (SQLite,
    tests and development) a plain `AddIndex`. The migration must be `atomic = False`.

    A concurrent build that fails leaves an INVALID index behind: drop it, then migrate again.
    """

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
