"""No double booking under concurrent confirmations (PostgreSQL: real connections)."""

import threading
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from booking import services
from booking.models import Booking
from booking.services import TimeTaken
from tests.booking.factories import AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

THREADS = 20

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises every write anyway",
)


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_confirmations_give_exactly_one_booking():
    practitioner = PractitionerFactory()
    user = UserFactory(groups=["Reception"])
    kind = AppointmentTypeFactory(duration_minutes=45)
    bookings = [BookingFactory(appointment_type=kind) for _ in range(THREADS)]
    day = timezone.localdate() + timedelta(days=5)
    start = timezone.make_aware(datetime.combine(day, time(10)))

    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def attempt(index: int):
        try:
            barrier.wait(timeout=30)
            services.confirm_booking(
                booking=bookings[index],
                practitioner=practitioner,
                # Every start overlaps every other: 10:00, 10:01, ... 10:19.
                starts_at=start + timedelta(minutes=index),
                user=user,
            )
            outcome = "confirmed"
        except TimeTaken:
            outcome = "taken"
        except BaseException as error:  # noqa: BLE001 - every other error fails the test
            with lock:
                unexpected.append(error)
            outcome = "error"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    with mock.patch("booking.tasks.send_booking_message"):
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not unexpected, unexpected
    assert sorted(results) == ["confirmed"] + ["taken"] * (THREADS - 1)
    assert Booking.objects.confirmed().filter(practitioner=practitioner).count() == 1
