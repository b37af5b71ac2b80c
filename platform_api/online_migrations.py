"""Migration operations that keep a large table readable and writable while they run.

On PostgreSQL, Django's `AddIndex` is a plain `CREATE INDEX` (writes wait until the whole table is
indexed) and `AddField` of a foreign key validates the constraint and builds its index under
locks that block writes for as long. These operations do the same work the online way:
`CREATE INDEX CONCURRENTLY`, and a constraint added `NOT VALID` then validated (which takes a
lock that lets reads and writes go on). Other databases (SQLite: development and tests) get
Django's plain operations. Migrations using them must say `atomic = False`: PostgreSQL refuses
`CONCURRENTLY` inside a transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


def _online(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class AddIndexOnline(AddIndexConcurrently):
    """`AddIndex`, built with `CREATE INDEX CONCURRENTLY` on PostgreSQL."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _online(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _online(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class AddNullableForeignKeyOnline(migrations.AddField):
    """`AddField` of a nullable foreign key; on PostgreSQL: the column (a catalog change), the
    constraint `NOT VALID`, `VALIDATE CONSTRAINT`, then its index `CONCURRENTLY`."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not _online(schema_editor) or not self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        if schema_editor.connection.in_atomic_block:
            raise ValueError(f"{type(self).__name__} needs a migration with atomic = False")
        field = model._meta.get_field(self.name)
        if not isinstance(field, models.ForeignKey) or not field.null:
            raise TypeError(f"{type(self).__name__} adds nullable foreign keys only")
        quote = schema_editor.quote_name
        table, column = model._meta.db_table, field.column
        target = field.target_field
        target_table = target.model._meta.db_table
        constraint = f"{table}_{column}_fk"
        index = f"{table}_{column}_idx"
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column)} "
            f"{field.db_type(schema_editor.connection)} NULL"
        )
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} "
            f"FOREIGN KEY ({quote(column)}) REFERENCES {quote(target_table)} "
            f"({quote(target.column)}) DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )
        schema_editor.execute(f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(constraint)}")
        if getattr(field, "db_index", True):  # stubs lack the attribute
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY {quote(index)} ON {quote(table)} ({quote(column)})"
            )
