"""Planning the messages of 10,000 bookings in one periodic pass: time and queries.

    .venv/bin/python bench/messages.py [--bookings 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench .venv/bin/python bench/messages.py

On a throw-away SQLite database (or DATABASE_URL, which must name an empty
database): confirmed bookings spread over 8 weeks, a third with an agreed
blood-thinner plan, a fifth without images. Times `booking.outbox.replan_all`
(the pass's planning step) three times: the first pass writes every row, the
second and third find nothing to change, as most passes do. Counts the queries of
each pass and per batch of 500 bookings (the goal: constant per batch).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_bookings(count: int) -> None:
    from django.utils import timezone

    from booking.models import AppointmentType, Booking, PlanLine
    from clinic.models import Practitioner

    kind = AppointmentType.objects.create(
        name="Bench treatment",
        duration_minutes=30,
        imaging=AppointmentType.Imaging.REQUIRED,
        asks_about_blood_thinners=True,
        companion_required=True,
    )
    doctor = Practitioner.objects.create(name="Bench doctor", title="Doctor")
    now = timezone.now()
    bookings = []
    for n in range(count):
        starts_at = (now + timedelta(days=4 + n % 56, hours=n % 7)).replace(
            minute=(n * 10) % 60, second=0, microsecond=0
        )
        day = timezone.localdate(starts_at)
        planned = n % 3 == 0
        bookings.append(
            Booking(
                reference=f"B{n:07d}",
                status=Booking.Status.CONFIRMED,
                appointment_type=kind,
                practitioner=doctor,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                name=f"Patient {n}",
                email=f"p{n}@example.com",
                phone="+4520304050",
                contact_channel="both" if n % 4 == 0 else "email",
                language="da",
                submitted_at=now - timedelta(days=n % 5),
                imaging_status=Booking.ImagingStatus.UPLOADED if n % 5 else "",
                takes_blood_thinners=Booking.Answer.YES if planned else Booking.Answer.NO,
                last_dose_date=day - timedelta(days=3) if planned else None,
                restart_date=day + timedelta(days=1) if planned else None,
                plan_agreed_at=now - timedelta(hours=1) if planned else None,
                companion_confirmed=n % 2 == 0,
            )
        )
    Booking.objects.bulk_create(bookings, batch_size=1000)
    lines = [
        PlanLine(
            booking=booking,
            medicine_name="Bench medicine",
            action=PlanLine.Action.PAUSE,
            last_dose_date=booking.last_dose_date,
            restart_date=booking.restart_date,
        )
        for booking in Booking.objects.exclude(last_dose_date=None)
    ]
    PlanLine.objects.bulk_create(lines, batch_size=1000)


def planning_figures(count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from booking import outbox
    from booking.models import PlannedMessage

    make_bookings(count)
    print(f"{count:,} confirmed bookings; planning pass (booking.outbox.replan_all):")
    for label in ("first pass (writes every row)", "second pass", "third pass"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            planned = outbox.replan_all()
            seconds = time.perf_counter() - started
        batches = -(-planned // outbox.BATCH_SIZE)
        print(
            f"  {label:<31} {seconds:6.2f} s  {len(queries):5} queries"
            f"  ({len(queries) / batches:.1f} a batch of {outbox.BATCH_SIZE})"
        )
    print(f"  rows planned: {PlannedMessage.objects.count():,}")
    # Queries per batch do not grow with the batch: one small run for comparison.
    sizes = {}
    for size in (100, 500):
        with CaptureQueriesContext(connection) as queries:
            outbox.replan_all(batch_size=size)
        sizes[size] = len(queries) / -(-count // size)
    print(
        "  queries per batch, steady state: "
        + ", ".join(f"{per:.1f} at {size}" for size, per in sizes.items())
    )
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        outbox.run_pass()
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(f"  whole pass (plan, stuck, overdue, send due): median {median:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DEBUG": "0",
                "SECRET_KEY": "benchmark-only-" + "k" * 50,
                "ALLOWED_HOSTS": "127.0.0.1",
                "VAR_DIR": var_dir,
                "LOG_LEVEL": "ERROR",
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "SMS_BACKEND": "booking.sms.LocmemBackend",
                "TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
                "BOOKING_QUIET_HOURS": "",
            }
        )
        Path(var_dir, "static").mkdir()
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        planning_figures(options.bookings)


if __name__ == "__main__":
    main()
