"""No double booking on PostgreSQL: a practitioner's confirmed bookings never overlap.

An exclusion constraint (btree_gist) that only PostgreSQL has; on SQLite the
migration does nothing and `booking.services.confirm_booking` serialises the
confirmations (IMMEDIATE transactions). It is not in Meta.constraints, so that
SQLite's migrate and makemigrations are not affected. (A booking without a time
would make an unbounded range, so only bookings with a time take part.)
"""

from django.db import migrations

from booking.migrations._postgresql import PostgreSQLOnly

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status = 'confirmed' AND starts_at IS NOT NULL);
"""
DROP = "ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0001_initial"),
    ]

    operations = [
        PostgreSQLOnly(sql=CREATE, reverse_sql=DROP),
    ]
