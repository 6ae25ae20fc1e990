"""A migration operation that runs SQL on PostgreSQL only (exclusion constraints)."""

from django.db import migrations


class PostgreSQLOnly(migrations.operations.base.Operation):
    """Run SQL on PostgreSQL only; nothing in the model state changes."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, sql, reverse_sql):
        self.sql = sql
        self.reverse_sql = reverse_sql

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"sql": self.sql, "reverse_sql": self.reverse_sql})

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.reverse_sql)

    def describe(self):
        return "Run SQL on PostgreSQL only"
