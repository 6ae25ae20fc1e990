"""No double booking on PostgreSQL: a practitioner's confirmed bookings never overlap.

An exclusion constraint (btree_gist) that only PostgreSQL has; on SQLite the
migration does nothing and `booking.services.confirm_booking` serialises the
confirmations (IMMEDIATE transactions). It is not in Meta.constraints, so that
SQLite's migrate and makemigrations are not affected. (A booking without a time
would make an unbounded range, so only bookings with a time take part.)
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status = 'confirmed' AND starts_at IS NOT NULL);
"""
DROP = "ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"


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
        return "PostgreSQL only: exclusion constraint booking_no_overlap"


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0001_initial"),
    ]

    operations = [
        PostgreSQLOnly(sql=CREATE, reverse_sql=DROP),
    ]
