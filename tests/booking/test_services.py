"""booking.services: confirming without double booking, blood-thinner plans, status."""

from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from booking import scheduling, services
from booking.models import Booking, BookingView
from booking.services import TimeTaken
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status


@pytest.fixture(autouse=True)
def sent():
    """The e-mails are another module's job: record the calls instead."""
    with mock.patch("booking.tasks.send_booking_message") as send:
        yield send


def at(days: int, hour: int = 10, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def reception():
    return UserFactory(groups=["Reception"])


@pytest.fixture
def doctor():
    return UserFactory(groups=["Doctors"])


@pytest.fixture
def practitioner():
    return PractitionerFactory()


def confirm(booking, practitioner, starts_at, user):
    return services.confirm_booking(
        booking=booking, practitioner=practitioner, starts_at=starts_at, user=user
    )


# --- Confirming ---------------------------------------------------------------------


def test_confirm_sets_time_end_and_status_and_tells_the_patient(reception, practitioner, sent):
    booking = BookingFactory()
    confirm(booking, practitioner, at(5), reception)
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert booking.practitioner == practitioner
    assert booking.starts_at == at(5)
    assert booking.ends_at == at(5) + timedelta(minutes=45)
    sent.assert_called_once_with(booking=booking, kind="confirmed")


def test_overlapping_time_is_taken_with_a_clear_message(reception, practitioner, sent):
    confirm(BookingFactory(), practitioner, at(5, 10), reception)
    other = BookingFactory()
    with pytest.raises(TimeTaken) as caught:
        confirm(other, practitioner, at(5, 10, 30), reception)  # 10:30 within 10:00-10:45
    with translation.override("en"):
        assert caught.value.messages == [
            f"This time is already taken for {practitioner}. Choose another time."
        ]
    assert isinstance(caught.value, ValidationError)
    other.refresh_from_db()
    assert other.status == Status.REQUESTED and other.starts_at is None
    assert sent.call_count == 1


def test_adjacent_times_and_other_practitioners_are_free(reception, practitioner):
    confirm(BookingFactory(), practitioner, at(5, 10), reception)
    confirm(BookingFactory(), practitioner, at(5, 10, 45), reception)  # starts as it ends
    confirm(BookingFactory(), PractitionerFactory(), at(5, 10), reception)
    assert Booking.objects.confirmed().count() == 3


def test_cancelled_bookings_do_not_block_a_time(reception, practitioner):
    first = confirm(BookingFactory(), practitioner, at(5), reception)
    services.cancel_booking(booking=first, reason="Ill", user=reception)
    confirm(BookingFactory(), practitioner, at(5), reception)


def test_a_booking_can_be_moved_within_its_own_time(reception, practitioner):
    booking = confirm(BookingFactory(), practitioner, at(5, 10), reception)
    confirm(booking, practitioner, at(5, 10, 15), reception)
    assert booking.starts_at == at(5, 10, 15)


def test_past_times_and_wrong_statuses_are_refused(reception, practitioner):
    with pytest.raises(ValidationError):
        confirm(BookingFactory(), practitioner, timezone.now() - timedelta(hours=1), reception)
    with pytest.raises(services.WrongStatus):
        confirm(BookingFactory(status=Status.CANCELLED), practitioner, at(5), reception)
    with pytest.raises(services.WrongStatus):
        confirm(BookingFactory(status=Status.DRAFT), practitioner, at(5), reception)


def test_confirming_needs_the_change_permission(practitioner):
    with pytest.raises(PermissionDenied):
        confirm(BookingFactory(), practitioner, at(5), UserFactory())


def test_the_database_constraint_error_becomes_time_taken(reception, practitioner, monkeypatch):
    """Two confirmations passing the check at once: the second one hits the constraint.

    On PostgreSQL the real exclusion constraint answers; elsewhere its error is
    simulated, so the conversion is tested on every database.
    """
    confirm(BookingFactory(), practitioner, at(5, 10), reception)
    monkeypatch.setattr(scheduling, "overlapping_claims", lambda **kwargs: Booking.objects.none())
    other = BookingFactory()
    if connection.vendor != "postgresql":
        error = IntegrityError(
            'conflicting key value violates exclusion constraint "booking_no_overlap"'
        )
        monkeypatch.setattr(Booking, "save", mock.Mock(side_effect=error))
    with pytest.raises(TimeTaken):
        confirm(other, practitioner, at(5, 10, 30), reception)
    assert Booking.objects.confirmed().filter(practitioner=practitioner).count() == 1


def test_other_integrity_errors_are_not_hidden(reception, practitioner, monkeypatch):
    monkeypatch.setattr(Booking, "save", mock.Mock(side_effect=IntegrityError("something else")))
    with pytest.raises(IntegrityError):
        confirm(BookingFactory(), practitioner, at(5), reception)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's constraint only")
def test_the_exclusion_constraint_exists_on_postgresql(practitioner):
    def confirmed(starts_at):
        return BookingFactory(
            status=Status.CONFIRMED,
            practitioner=practitioner,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            claim_starts_at=starts_at,
            claim_ends_at=starts_at + timedelta(hours=1),
        )

    confirmed(at(5, 10))
    confirmed(at(5, 11))  # [10:00, 11:00) and [11:00, 12:00) do not overlap
    with pytest.raises(IntegrityError), transaction.atomic():
        confirmed(at(5, 10, 30))


# --- Blood-thinner plan -------------------------------------------------------------


def paused(last_dose_date, restart_date):
    """A plan of one paused medicine, as the plan services take it."""
    line = {"anticoagulant": None, "medicine_name": "Marevan", "action": "pause"}
    return {
        "lines": [{**line, "last_dose_date": last_dose_date, "restart_date": restart_date}],
        "instructions": "",
    }


def agreed_booking(doctor, reception, practitioner):
    booking = confirm(BookingFactory(takes_blood_thinners="yes"), practitioner, at(10), reception)
    services.agree_anticoagulant_plan(
        booking=booking,
        **paused(
            timezone.localdate() + timedelta(days=7), timezone.localdate() + timedelta(days=11)
        ),
        user=doctor,
    )
    return booking


def test_a_new_time_resets_an_agreed_plan(doctor, reception, practitioner):
    booking = agreed_booking(doctor, reception, practitioner)
    assert booking.plan_agreed
    confirm(booking, practitioner, at(12), reception)
    booking.refresh_from_db()
    assert not booking.plan_agreed
    assert booking.plan_agreed_by is None
    assert booking.last_dose_date is None and booking.restart_date is None


def test_reconfirming_the_same_time_keeps_the_plan(doctor, reception, practitioner):
    booking = agreed_booking(doctor, reception, practitioner)
    confirm(booking, practitioner, at(10), reception)
    booking.refresh_from_db()
    assert booking.plan_agreed and booking.plan_agreed_by == doctor
    assert booking.last_dose_date == timezone.localdate() + timedelta(days=7)


def test_only_doctors_agree_a_plan(reception, doctor, practitioner):
    booking = confirm(BookingFactory(takes_blood_thinners="yes"), practitioner, at(10), reception)
    dates = paused(
        timezone.localdate() + timedelta(days=7), timezone.localdate() + timedelta(days=11)
    )
    with pytest.raises(PermissionDenied):
        services.agree_anticoagulant_plan(booking=booking, user=reception, **dates)
    services.prepare_anticoagulant_plan(booking=booking, user=reception, **dates)
    booking.refresh_from_db()
    assert booking.plan_prepared_by == reception and not booking.plan_agreed
    services.agree_anticoagulant_plan(booking=booking, user=doctor, **dates)
    booking.refresh_from_db()
    assert booking.plan_agreed_by == doctor and booking.plan_prepared_by == reception
    assert booking.plan_agreed_at is not None


def test_preparing_changed_dates_undoes_the_agreement(doctor, reception, practitioner):
    booking = agreed_booking(doctor, reception, practitioner)
    services.prepare_anticoagulant_plan(
        booking=booking,
        **paused(
            timezone.localdate() + timedelta(days=6), timezone.localdate() + timedelta(days=11)
        ),
        user=reception,
    )
    booking.refresh_from_db()
    assert not booking.plan_agreed


def test_plan_dates_must_fit_the_appointment(doctor, reception, practitioner):
    booking = confirm(BookingFactory(takes_blood_thinners="yes"), practitioner, at(10), reception)
    day = timezone.localdate() + timedelta(days=10)
    with pytest.raises(ValidationError) as caught:
        services.agree_anticoagulant_plan(
            booking=booking, **paused(day, day - timedelta(days=1)), user=doctor
        )
    # One message for each date, each naming the medicine.
    assert len(caught.value.messages) == 2
    assert all(message.startswith("Marevan: ") for message in caught.value.messages)


def test_suggested_plan_counts_back_the_longest_pause(reception, practitioner):
    warfarin = AnticoagulantFactory(brand="Marevan", default_pause_days=5)
    apixaban = AnticoagulantFactory(brand="Eliquis", default_pause_days=2)
    booking = BookingFactory(takes_blood_thinners="yes", anticoagulants=[warfarin, apixaban])
    assert services.suggested_plan(booking) == (None, None)  # no day yet
    confirm(booking, practitioner, at(10), reception)
    day = timezone.localdate() + timedelta(days=10)
    # Five whole days without warfarin before the day; start again the day after.
    assert services.suggested_plan(booking) == (day - timedelta(days=6), day + timedelta(days=1))


# --- Status -------------------------------------------------------------------------


def test_cancel_by_staff_and_by_the_patient(reception, practitioner, sent):
    booking = confirm(BookingFactory(), practitioner, at(5), reception)
    services.cancel_booking(booking=booking, reason="Patient is ill", user=reception)
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED and booking.cancel_reason == "Patient is ill"
    sent.assert_called_with(booking=booking, kind="cancelled")
    assert booking.history.first().history_user == reception

    by_patient = BookingFactory()
    services.cancel_booking(booking=by_patient, reason="")
    by_patient.refresh_from_db()
    assert by_patient.status == Status.CANCELLED
    assert by_patient.history.first().history_user is None
    with pytest.raises(services.WrongStatus):
        services.cancel_booking(booking=by_patient, reason="again")


def past_confirmed(practitioner):
    start = timezone.now() - timedelta(hours=2)
    return BookingFactory(
        status=Status.CONFIRMED,
        practitioner=practitioner,
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
    )


def test_completed_and_no_show_after_the_appointment(reception, practitioner):
    done = past_confirmed(practitioner)
    services.mark_completed(booking=done, user=reception)
    assert Booking.objects.get(pk=done.pk).status == Status.COMPLETED
    absent = BookingFactory(
        status=Status.CONFIRMED,
        practitioner=practitioner,
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() - timedelta(days=1) + timedelta(minutes=45),
    )
    services.mark_no_show(booking=absent, user=reception)
    assert Booking.objects.get(pk=absent.pk).status == Status.NO_SHOW


def test_completed_and_no_show_are_refused_too_early_or_twice(reception, practitioner):
    future = confirm(BookingFactory(), practitioner, at(5), reception)
    with pytest.raises(ValidationError):
        services.mark_completed(booking=future, user=reception)
    with pytest.raises(services.WrongStatus):
        services.mark_no_show(booking=BookingFactory(), user=reception)
    done = past_confirmed(practitioner)
    services.mark_completed(booking=done, user=reception)
    with pytest.raises(services.WrongStatus):
        services.mark_no_show(booking=done, user=reception)


def test_history_records_who_changed_what(reception, practitioner):
    booking = BookingFactory()
    confirm(booking, practitioner, at(5), reception)
    latest = booking.history.first()
    assert latest.history_user == reception
    assert latest.status == Status.CONFIRMED
    delta = latest.diff_against(latest.prev_record)
    assert {"status", "practitioner", "starts_at", "ends_at"} <= set(delta.changed_fields)


def test_record_staff_view(reception):
    booking = BookingFactory()
    view = services.record_staff_view(booking=booking, user=reception, ip_address="10.0.0.7")
    assert BookingView.objects.get() == view
    assert (view.user, view.ip_address) == (reception, "10.0.0.7")


def test_phone_talk_type_has_no_checklist():
    assert not AppointmentTypeFactory(phone_talk=True).has_checklist
