"""Free times: how long 8 weeks take to compute with 500 bookings, and the "When" step's speed.

    .venv/bin/python bench/slots.py [--seconds 5] [--connections 8]

1. In this process, on a throw-away SQLite database (or DATABASE_URL when set):
   3 practitioners working Monday to Friday, 500 confirmed bookings spread over 8
   weeks; `booking.scheduling.offered_times` for 8 weeks, median and best of 20 runs,
   and the number of queries it makes.
2. Under gunicorn (2 workers, DEBUG off): the patient's "When" step of the demo's
   free phone talk, with a draft in the session, beside the constant view of
   bench/urls.py. Compare the ratio, not the absolutes.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.condition_page import free_port, measure, report, serve  # noqa: E402


def free_times_figures():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from booking import scheduling
    from booking.models import AppointmentType, Booking, WorkingHours
    from clinic.models import Practitioner

    people = [
        Practitioner.objects.create(name=f"Bench doctor {n}", title="Doctor") for n in range(3)
    ]
    for person in people:
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=person, weekday=weekday, starts=clock(8), ends=clock(12)
            )
            WorkingHours.objects.create(
                practitioner=person, weekday=weekday, starts=clock(13), ends=clock(16)
            )
    kind = AppointmentType.objects.create(
        name="Bench consultation",
        duration_minutes=30,
        booking_mode=AppointmentType.BookingMode.PICK_CONFIRMED,
        min_notice_hours=0,
        max_weeks_ahead=8,
    )
    kind.practitioners.set(people)
    today = timezone.localdate()
    made = 0
    day = today + timedelta(days=1)
    bookings = []
    while made < 500:
        if day.weekday() < 5:
            for person in people:
                for hour in (8, 9, 10, 13, 14):
                    if made == 500:
                        break
                    start = timezone.make_aware(datetime.combine(day, clock(hour)))
                    bookings.append(
                        Booking(
                            appointment_type=kind,
                            status=Booking.Status.CONFIRMED,
                            practitioner=person,
                            starts_at=start,
                            ends_at=start + timedelta(minutes=30),
                            claim_starts_at=start,
                            claim_ends_at=start + timedelta(minutes=30),
                        )
                    )
                    made += 1
        day += timedelta(days=1)
    Booking.objects.bulk_create(bookings)
    kind = AppointmentType.objects.get(pk=kind.pk)

    timings = []
    for _ in range(20):
        started = time.perf_counter()
        times = scheduling.offered_times(appointment_type=kind)
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        scheduling.offered_times(appointment_type=kind)
    last = max(b.starts_at for b in bookings)
    print(
        f"free times, 8 weeks, 3 practitioners, 500 bookings (last on {last:%Y-%m-%d}): "
        f"{len(times)} times offered"
    )
    print(
        f"  median {statistics.median(timings) * 1000:.1f} ms, best {min(timings) * 1000:.1f} ms, "
        f"{len(queries)} queries"
    )


def when_step_cookie() -> str:
    """A session with a draft of the demo's free phone talk, as the "When" step needs."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from booking.models import AppointmentType, Booking
    from booking.views import DRAFT_SESSION_KEY

    kind = AppointmentType.objects.get(order=1)
    draft = Booking.objects.create(appointment_type=kind, status=Booking.Status.DRAFT)
    session = SessionStore()
    session[DRAFT_SESSION_KEY] = draft.pk
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)
        Path(var_dir, "static").mkdir()
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("load_demo", verbosity=0)
        free_times_figures()
        cookie = when_step_cookie()

        from django.db import connections

        connections.close_all()
        server_env = {**os.environ, **env}
        server_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        results = {}
        for label, path in [
            ("constant view", "/bench/constant/"),
            ('"When" step (phone talk)', "/da/tidsbestilling/hvornaar/"),
        ]:
            port = free_port()
            server = serve(server_env, port)
            try:
                results[label] = measure(
                    port, path, options.seconds, options.connections, {"Cookie": cookie}
                )
            finally:
                server.terminate()
                server.wait()
        report(results, options.seconds, options.connections)


if __name__ == "__main__":
    main()
