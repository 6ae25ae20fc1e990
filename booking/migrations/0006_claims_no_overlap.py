"""No double booking on PostgreSQL, now for every claim on a practitioner's time.

Confirmed bookings, tentative bookings and a patient's hold on a picked time all
store the range they take, buffers included (claim_starts_at, claim_ends_at). One
exclusion constraint forbids two overlapping claims of one practitioner. A
constraint cannot say "unless the hold has expired", so the service that claims a
time first clears expired overlapping holds in its own locked transaction
(booking/scheduling.py). PostgreSQL only, like 0002 which this replaces; SQLite
checks the same claims inside its IMMEDIATE transaction.
"""

from django.db import migrations

from booking.migrations._postgresql import PostgreSQLOnly

CREATE = """
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(claim_starts_at, claim_ends_at, '[)') WITH &&
    ) WHERE (claim_starts_at IS NOT NULL);
"""
DROP = """
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status = 'confirmed' AND starts_at IS NOT NULL);
"""


def claim_confirmed_times(apps, schema_editor):
    Booking = apps.get_model("booking", "Booking")
    for booking in Booking.objects.filter(status="confirmed", starts_at__isnull=False):
        booking.claim_starts_at = booking.starts_at
        booking.claim_ends_at = booking.ends_at
        booking.save(update_fields=["claim_starts_at", "claim_ends_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0005_scheduling"),
    ]

    operations = [
        migrations.RunPython(claim_confirmed_times, migrations.RunPython.noop),
        PostgreSQLOnly(sql=CREATE, reverse_sql=DROP),
    ]
