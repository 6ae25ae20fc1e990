"""The staff calendar in the admin: a practitioner's week, confirming, moving, booking callers."""

from datetime import datetime, time, timedelta
from unittest import mock
from urllib.parse import quote

import pytest
import time_machine
from django.utils import timezone

from booking import scheduling
from booking.models import Absence, AppointmentType, Booking, WorkingHours
from tests.booking.factories import AppointmentTypeFactory, BookingFactory
from tests.factories import ConsentTextFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
CALENDAR = "/admin/booking/booking/calendar/"
# Monday 11 January 2027, 07:00 in Copenhagen.
NOW = datetime(2027, 1, 11, 7, 0, tzinfo=timezone.get_fixed_timezone(60))


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    day = NOW.date() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False), mock.patch("booking.tasks.send_booking_message"):
        yield


@pytest.fixture
def doctor():
    practitioner = PractitionerFactory(name="Dr. Calendar")
    for weekday in range(5):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, starts=time(8), ends=time(12)
        )
    return practitioner


@pytest.fixture
def gold(doctor):
    kind = AppointmentTypeFactory(
        booking_mode=AppointmentType.BookingMode.PICK_TENTATIVE, min_notice_hours=0
    )
    kind.practitioners.add(doctor)
    return kind


@pytest.fixture
def reception(client):
    client.force_login(UserFactory(groups=["Reception"]))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def claimed(kind, doctor, start, status, **extra):
    booking = BookingFactory(appointment_type=kind, **extra)
    as_ = {
        Booking.Status.CONFIRMED: scheduling.CONFIRMED,
        Booking.Status.TENTATIVE: scheduling.TENTATIVE,
        Booking.Status.DRAFT: scheduling.HOLD,
    }[status]
    if status == Booking.Status.DRAFT:
        booking.status = Booking.Status.DRAFT
        booking.save()
    return scheduling.claim_time(booking=booking, practitioner=doctor, starts_at=start, as_=as_)


def test_the_week_shows_bookings_tentative_ones_holds_absences_and_free_time(
    reception, doctor, gold
):
    confirmed = claimed(gold, doctor, local(0, 8), Booking.Status.CONFIRMED, name="Ann Booked")
    tentative = claimed(gold, doctor, local(1, 9), Booking.Status.TENTATIVE, name="Ben Maybe")
    claimed(gold, doctor, local(2, 10), Booking.Status.DRAFT)
    Absence.objects.create(
        practitioner=doctor, starts_at=local(3, 0), ends_at=local(4, 0), reason="Course"
    )
    page = reception.get(CALENDAR + f"?practitioner={doctor.pk}&date=2027-01-13")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ann Booked" in html and confirmed.reference in html
    assert "Ben Maybe" in html and "Tentative: to be confirmed" in html
    assert "Held by a patient who is booking" in html
    assert "Course" in html
    # Monday 08:45-12:00 is free (08:00-08:45 is booked); Saturday has no hours.
    assert "08:45–12:00" in html
    assert html.count("No working hours.") == 2
    assert tentative.reference in html.split("Tentative bookings to confirm")[1]


def test_only_staff_who_may_see_bookings_open_the_calendar(client, doctor):
    client.force_login(UserFactory(groups=["Editors"]))
    assert client.get(CALENDAR).status_code == 403
    client.logout()
    assert client.get(CALENDAR).status_code == 302  # to the login page


def test_a_tentative_booking_waiting_more_than_three_days_is_flagged(reception, doctor, gold):
    fresh = claimed(gold, doctor, local(1, 9), Booking.Status.TENTATIVE)
    old = claimed(gold, doctor, local(2, 9), Booking.Status.TENTATIVE)
    Booking.objects.filter(pk=fresh.pk).update(submitted_at=NOW - timedelta(days=3))
    Booking.objects.filter(pk=old.pk).update(submitted_at=NOW - timedelta(days=3, minutes=1))
    html = reception.get(CALENDAR).content.decode()
    waiting = html.split("Tentative bookings to confirm")[1].split("Bookings to move")[0]
    assert waiting.count("waiting more than 3 days") == 1
    assert waiting.index(old.reference) < waiting.index("waiting more than 3 days")
    assert waiting.index("waiting more than 3 days") < waiting.index(fresh.reference)


def test_bookings_under_an_absence_are_listed_to_move(reception, doctor, gold):
    hit = claimed(gold, doctor, local(1, 9), Booking.Status.CONFIRMED)
    spared = claimed(gold, doctor, local(1, 10), Booking.Status.CONFIRMED)
    Absence.objects.create(
        practitioner=None, starts_at=local(1, 8), ends_at=local(1, 9, 45), reason="Fire drill"
    )
    html = reception.get(CALENDAR).content.decode()
    to_move = html.split("Bookings to move")[1]
    assert hit.reference in to_move and spared.reference not in to_move


def test_confirming_before_the_images_are_approved_needs_a_tick(reception, doctor, gold):
    booking = claimed(gold, doctor, local(2, 9), Booking.Status.TENTATIVE)
    url = f"/admin/booking/booking/{booking.pk}/confirm/"
    data = {
        "practitioner": doctor.pk,
        "starts_at_0": local(2, 9).strftime("%Y-%m-%d"),
        "starts_at_1": "09:00",
    }
    refused = reception.post(url, data)
    assert refused.status_code == 200
    assert "The images are not approved yet" in refused.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.TENTATIVE
    reception.post(url, data | {"despite_imaging": "on"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.starts_at == local(2, 9)


def test_approved_images_need_no_tick(reception, doctor, gold):
    booking = claimed(gold, doctor, local(2, 9), Booking.Status.TENTATIVE)
    Booking.objects.filter(pk=booking.pk).update(imaging_reviewed=True)
    reception.post(
        f"/admin/booking/booking/{booking.pk}/confirm/",
        {"practitioner": doctor.pk, "starts_at_0": "2027-01-13", "starts_at_1": "09:00"},
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_moving_a_booking_onto_another_claim_is_refused(reception, doctor, gold):
    claimed(gold, doctor, local(2, 9), Booking.Status.TENTATIVE)
    booking = claimed(gold, doctor, local(3, 9), Booking.Status.CONFIRMED)
    Booking.objects.filter(pk=booking.pk).update(imaging_reviewed=True)
    response = reception.post(
        f"/admin/booking/booking/{booking.pk}/confirm/",
        {"practitioner": doctor.pk, "starts_at_0": "2027-01-13", "starts_at_1": "09:30"},
    )
    assert "This time is already taken for Dr. Calendar" in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == local(3, 9)


def test_a_caller_is_booked_into_a_free_time_from_the_calendar(reception, doctor, gold):
    ConsentTextFactory()
    html = reception.get(CALENDAR + f"?practitioner={doctor.pk}").content.decode()
    start = timezone.localtime(local(0, 8)).isoformat()
    link = f"/admin/booking/booking/add/?practitioner={doctor.pk}&amp;starts_at={quote(start)}"
    assert link in html
    add_url = link.replace("&amp;", "&")
    response = reception.post(
        add_url,
        {
            "name": "Caller",
            "phone": "20 30 40 50",
            "email": "",
            "language": "da",
            "appointment_type": gold.pk,
            "time_of_day": "any",
            "takes_blood_thinners": "",
            "imaging_status": "",
        },
    )
    booking = Booking.objects.get(name="Caller")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/booking/booking/{booking.pk}/confirm/?")
    confirm_page = reception.get(response["Location"]).content.decode()
    assert 'value="08:00:00"' in confirm_page or 'value="08:00"' in confirm_page


def test_patients_in_an_agreed_pause_are_listed_for_reception(reception, doctor, gold):
    from booking import services

    pausing = claimed(gold, doctor, local(3, 9), Booking.Status.CONFIRMED, name="Pia Pause")
    later = claimed(gold, doctor, local(9, 9), Booking.Status.CONFIRMED, name="Lars Later")
    agreeing = UserFactory(groups=["Doctors"])
    for booking, last_dose in ((pausing, local(0, 0)), (later, local(1, 0))):
        services.agree_anticoagulant_plan(
            booking=booking,
            lines=[
                {
                    "anticoagulant": None,
                    "medicine_name": "Marevan",
                    "action": "pause",
                    "last_dose_date": last_dose.date(),
                    "restart_date": booking.starts_at.date() + timedelta(days=1),
                }
            ],
            instructions="",
            user=agreeing,
        )
    listed = reception.get(CALENDAR).content.decode().split("In a blood-thinner pause now")[1]
    assert "Pia Pause" in listed  # her last dose is today
    assert "Lars Later" not in listed  # his pause begins tomorrow
