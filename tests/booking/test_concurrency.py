"""No double booking under concurrent claims (PostgreSQL: real connections, one per thread)."""

import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from booking import scheduling, services
from booking.models import Booking
from tests.booking.factories import AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

THREADS = 20

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises every write anyway",
)


def run_together(attempt: Callable[[int], str]) -> list[str]:
    """Run attempt(0) .. attempt(THREADS - 1) in threads released at once by a barrier.

    Returns the outcomes, sorted; any exception other than the ones `attempt` turns
    into an outcome fails the test.
    """
    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int):
        try:
            barrier.wait(timeout=30)
            outcome = attempt(index)
        except BaseException as error:  # noqa: BLE001 - every other error fails the test
            with lock:
                unexpected.append(error)
            outcome = "error"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    with mock.patch("booking.tasks.send_booking_message"):
        threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not unexpected, unexpected
    return sorted(results)


def ten_oclock_in_five_days() -> datetime:
    day = timezone.localdate() + timedelta(days=5)
    return timezone.make_aware(datetime.combine(day, time(10)))


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_confirmations_give_exactly_one_booking():
    practitioner = PractitionerFactory()
    user = UserFactory(groups=["Reception"])
    kind = AppointmentTypeFactory(duration_minutes=45)
    bookings = [BookingFactory(appointment_type=kind) for _ in range(THREADS)]
    start = ten_oclock_in_five_days()

    def attempt(index: int) -> str:
        try:
            services.confirm_booking(
                booking=bookings[index],
                practitioner=practitioner,
                # Every start overlaps every other: 10:00, 10:01, ... 10:19.
                starts_at=start + timedelta(minutes=index),
                user=user,
            )
        except services.TimeTaken:
            return "taken"
        return "confirmed"

    assert run_together(attempt) == ["confirmed"] + ["taken"] * (THREADS - 1)
    assert Booking.objects.confirmed().filter(practitioner=practitioner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_patients_picking_the_same_time_give_exactly_one_hold():
    """Holds are claims like bookings: one practitioner's time goes to one patient."""
    practitioner = PractitionerFactory()
    kind = AppointmentTypeFactory(duration_minutes=30, buffer_after_minutes=10)
    drafts = [
        BookingFactory(appointment_type=kind, status=Booking.Status.DRAFT) for _ in range(THREADS)
    ]
    start = ten_oclock_in_five_days()

    def attempt(index: int) -> str:
        try:
            scheduling.claim_time(
                booking=drafts[index],
                practitioner=practitioner,
                # 10:00 .. 10:38 every 2 minutes: every claim overlaps the others.
                starts_at=start + timedelta(minutes=2 * index),
                as_=scheduling.HOLD,
            )
        except scheduling.TimeTaken as taken:
            # The patient's message: no practitioner's name in it.
            return "taken" if taken.code == "time_taken" and not taken.params else "bad message"
        return "held"

    assert run_together(attempt) == ["held"] + ["taken"] * (THREADS - 1)
    assert Booking.objects.filter(claim_starts_at__isnull=False).count() == 1
    # The 19 others keep every answer they gave; only the time is missing.
    assert Booking.objects.drafts().filter(claim_starts_at__isnull=True).count() == THREADS - 1


@pytest.mark.django_db(transaction=True)
def test_an_expired_hold_gives_way_to_a_new_claim_under_the_constraint():
    from booking import scheduling

    practitioner = PractitionerFactory()
    kind = AppointmentTypeFactory(duration_minutes=30)
    start = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=5), time(10))
    )
    first = BookingFactory(appointment_type=kind, status=Booking.Status.DRAFT)
    scheduling.claim_time(
        booking=first, practitioner=practitioner, starts_at=start, as_=scheduling.HOLD
    )
    Booking.objects.filter(pk=first.pk).update(hold_expires_at=timezone.now())
    second = BookingFactory(appointment_type=kind)
    scheduling.claim_time(
        booking=second, practitioner=practitioner, starts_at=start, as_=scheduling.TENTATIVE
    )
    first.refresh_from_db()
    assert first.claim_starts_at is None
    assert Booking.objects.get(pk=second.pk).status == Booking.Status.TENTATIVE


@pytest.mark.django_db(transaction=True)
def test_passes_running_at_once_send_each_message_exactly_once(mailoutbox):
    """Every thread is a periodic pass over the same due messages: each goes out once."""
    from booking import outbox
    from booking.models import PlannedMessage

    bookings = [BookingFactory() for _ in range(10)]
    for booking in bookings:
        outbox.record_event(booking=booking, kind="news")  # due now, not yet sent

    def attempt(index: int) -> str:
        return str(outbox.send_due(timezone.now()))

    sent_counts = [int(outcome) for outcome in run_together(attempt)]
    assert sum(sent_counts) == 10
    assert len(mailoutbox) == 10
    assert sorted(message.to[0] for message in mailoutbox) == sorted(b.email for b in bookings)
    assert set(PlannedMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
