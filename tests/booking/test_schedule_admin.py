"""Working hours, absences and the scheduling fields of appointment types in the admin."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.models import Absence, AppointmentType, Booking, WorkingHours
from tests.booking.factories import AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
HOURS_ADD = reverse("admin:booking_workinghours_add")
ABSENCE_ADD = reverse("admin:booking_absence_add")
ABSENCE_LIST = reverse("admin:booking_absence_changelist")
HOLIDAYS = reverse("admin:booking_absence_public_holidays")
TYPE_ADD = reverse("admin:booking_appointmenttype_add")


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def superuser(client):
    return logged_in(client, UserFactory(is_superuser=True))


@pytest.fixture
def doctor():
    return PractitionerFactory(name="Dr Brask")


@pytest.fixture
def other_doctor():
    return PractitionerFactory(name="Dr Holm")


def monday() -> date:
    """A Monday at least a week ahead."""
    today = timezone.localdate()
    return today + timedelta(days=14 - today.weekday())


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def booking_at(practitioner, starts_at, *, minutes=45, after=0, status=Status.CONFIRMED, **extra):
    """A booking with a time: the appointment, and its claim with `after` minutes of buffer."""
    ends_at = starts_at + timedelta(minutes=minutes)
    return BookingFactory(
        status=status,
        practitioner=practitioner,
        starts_at=starts_at,
        ends_at=ends_at,
        claim_starts_at=starts_at,
        claim_ends_at=ends_at + timedelta(minutes=after),
        **extra,
    )


def warnings(response) -> str:
    return " ".join(
        str(message)
        for message in get_messages(response.wsgi_request)
        if message.level == messages.WARNING
    )


def successes(response) -> str:
    return " ".join(
        str(message)
        for message in get_messages(response.wsgi_request)
        if message.level == messages.SUCCESS
    )


def form_errors(response):
    return response.context["adminform"].form.errors


# --- Working hours ---------------------------------------------------------------------


def hours_data(practitioner, starts, ends, weekday=0, **extra):
    return {
        "practitioner": practitioner.pk,
        "weekday": weekday,
        "starts": starts,
        "ends": ends,
        "valid_from": "",
        "valid_to": "",
        **extra,
    }


def test_staff_add_working_hours(superuser, doctor):
    response = superuser.post(HOURS_ADD, hours_data(doctor, "08:00", "12:00"))
    assert response.status_code == 302
    hours = WorkingHours.objects.get()
    assert (hours.practitioner, hours.weekday, hours.starts, hours.ends) == (
        doctor,
        0,
        time(8),
        time(12),
    )


@pytest.mark.parametrize("ends", ["08:00", "07:59"])
def test_working_hours_ending_at_or_before_the_start_are_refused(superuser, doctor, ends):
    response = superuser.post(HOURS_ADD, hours_data(doctor, "08:00", ends))
    assert response.status_code == 200
    assert form_errors(response)["ends"] == ["The end must be after the start."]
    assert not WorkingHours.objects.exists()


def test_overlapping_working_hours_are_refused(superuser, doctor):
    WorkingHours.objects.create(practitioner=doctor, weekday=0, starts=time(8), ends=time(12))
    response = superuser.post(HOURS_ADD, hours_data(doctor, "11:59", "16:00"))
    assert response.status_code == 200
    assert "overlap" in " ".join(form_errors(response)["__all__"])
    assert WorkingHours.objects.count() == 1


def test_touching_working_hours_and_other_days_are_accepted(superuser, doctor, other_doctor):
    WorkingHours.objects.create(practitioner=doctor, weekday=0, starts=time(8), ends=time(12))
    assert superuser.post(HOURS_ADD, hours_data(doctor, "12:00", "16:00")).status_code == 302
    assert superuser.post(HOURS_ADD, hours_data(doctor, "08:00", "12:00", 1)).status_code == 302
    assert superuser.post(HOURS_ADD, hours_data(other_doctor, "08:00", "12:00")).status_code == 302
    assert WorkingHours.objects.count() == 4


@pytest.fixture
def monday_hours(doctor):
    return WorkingHours.objects.create(
        practitioner=doctor, weekday=0, starts=time(8), ends=time(16)
    )


def change_hours(client, hours, **changes):
    url = reverse("admin:booking_workinghours_change", args=[hours.pk])
    data = {**hours_data(hours.practitioner, "08:00", "16:00"), **changes}
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    return response


def test_narrowed_working_hours_list_the_bookings_left_outside(superuser, doctor, monday_hours):
    day = monday()
    afternoon = booking_at(doctor, local(day, 14), name="Else Afternoon")
    tentative = booking_at(doctor, local(day, 13), status=Status.TENTATIVE)
    morning = booking_at(doctor, local(day, 9))
    last_before_noon = booking_at(doctor, local(day, 11, 15))  # ends exactly at 12:00
    overrunning = booking_at(doctor, local(day + timedelta(days=7), 11, 30))  # ends 12:15
    cancelled = booking_at(doctor, local(day + timedelta(days=7), 14), status=Status.CANCELLED)
    requested = BookingFactory(practitioner=doctor)  # no time yet

    response = change_hours(superuser, monday_hours, ends="12:00")

    warning = warnings(response)
    assert afternoon.reference in warning and tentative.reference in warning
    assert overrunning.reference in warning
    assert f"{day:%Y-%m-%d} 14:00" in warning and "Else Afternoon" in warning
    assert reverse("admin:booking_booking_change", args=[afternoon.pk]) in warning
    for inside in (morning, last_before_noon, cancelled, requested):
        assert inside.reference not in warning


def test_unchanged_fit_gives_no_warning(superuser, doctor, monday_hours):
    booking_at(doctor, local(monday(), 15, 15))  # ends exactly at 16:00
    booking_at(doctor, local(monday() - timedelta(days=21), 17))  # in the past
    response = change_hours(superuser, monday_hours, ends="16:00")
    assert warnings(response) == ""


def test_hours_ending_before_the_booking_day_leave_it_outside(superuser, doctor, monday_hours):
    day = monday()
    booking = booking_at(doctor, local(day, 9))
    response = change_hours(superuser, monday_hours, valid_to=day.isoformat())
    assert booking.reference not in warnings(response)
    response = change_hours(superuser, monday_hours, valid_to=(day - timedelta(days=1)).isoformat())
    assert booking.reference in warnings(response)


def test_hours_moved_to_another_practitioner_warn_about_the_first(
    superuser, doctor, other_doctor, monday_hours
):
    booking = booking_at(doctor, local(monday(), 9))
    response = change_hours(superuser, monday_hours, practitioner=other_doctor.pk)
    assert booking.reference in warnings(response) and "Dr Brask" in warnings(response)


def test_deleting_working_hours_lists_the_bookings_left_outside(superuser, doctor, monday_hours):
    WorkingHours.objects.create(practitioner=doctor, weekday=1, starts=time(8), ends=time(16))
    monday_booking = booking_at(doctor, local(monday(), 9))
    tuesday_booking = booking_at(doctor, local(monday() + timedelta(days=1), 9))
    url = reverse("admin:booking_workinghours_delete", args=[monday_hours.pk])
    response = superuser.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not WorkingHours.objects.filter(pk=monday_hours.pk).exists()
    assert monday_booking.reference in warnings(response)
    assert tuesday_booking.reference not in warnings(response)


# --- Absences and closures -----------------------------------------------------------


def absence_data(practitioner, starts_at, ends_at, reason="Kursus"):
    starts_at, ends_at = timezone.localtime(starts_at), timezone.localtime(ends_at)
    return {
        "practitioner": practitioner.pk if practitioner else "",
        "starts_at_0": starts_at.date().isoformat(),
        "starts_at_1": starts_at.strftime("%H:%M"),
        "ends_at_0": ends_at.date().isoformat(),
        "ends_at_1": ends_at.strftime("%H:%M"),
        "reason": reason,
    }


@pytest.fixture
def booked(doctor):
    """A confirmed 10:00-10:45 booking whose claim runs to 11:00 (15 minutes after)."""
    return booking_at(doctor, local(monday(), 10), after=15, name="Anna Patient")


def add_absence(client, practitioner, starts_at, ends_at):
    response = client.post(ABSENCE_ADD, absence_data(practitioner, starts_at, ends_at))
    assert response.status_code == 302, form_errors(response)
    return response


def test_absence_over_a_booking_lists_it_for_reception(superuser, doctor, booked):
    response = add_absence(superuser, doctor, local(monday(), 9), local(monday(), 10, 30))
    warning = warnings(response)
    assert booked.reference in warning and "Anna Patient" in warning
    assert f"{monday():%Y-%m-%d} 10:00" in warning and "Reception must move" in warning
    assert reverse("admin:booking_booking_change", args=[booked.pk]) in warning
    assert Absence.objects.get().practitioner == doctor


def test_absence_in_the_buffer_after_hits_the_booking(superuser, doctor, booked):
    # The appointment ends at 10:45 but the practitioner's time is taken until 11:00.
    response = add_absence(superuser, doctor, local(monday(), 10, 45), local(monday(), 12))
    assert booked.reference in warnings(response)


def test_absences_that_only_touch_the_booking_do_not_hit_it(superuser, doctor, booked):
    response = add_absence(superuser, doctor, local(monday(), 8), local(monday(), 10))
    assert warnings(response) == ""
    response = add_absence(superuser, doctor, local(monday(), 11), local(monday(), 12))
    assert warnings(response) == ""


def test_absence_leaves_out_cancelled_drafts_and_other_practitioners(
    superuser, doctor, other_doctor, booked
):
    at_ten = local(monday(), 10)
    cancelled = booking_at(doctor, at_ten + timedelta(days=1), status=Status.CANCELLED)
    hold = booking_at(
        doctor,
        at_ten + timedelta(days=2),
        status=Status.DRAFT,
        hold_expires_at=timezone.now() + timedelta(minutes=10),
    )
    colleague = booking_at(other_doctor, at_ten)
    response = add_absence(superuser, doctor, at_ten, at_ten + timedelta(days=3))
    warning = warnings(response)
    assert booked.reference in warning
    for left_out in (cancelled, hold, colleague):
        assert left_out.reference not in warning


def test_changing_an_absence_warns_too(superuser, doctor, booked):
    absence = Absence.objects.create(
        practitioner=doctor, starts_at=local(monday(), 8), ends_at=local(monday(), 9)
    )
    url = reverse("admin:booking_absence_change", args=[absence.pk])
    response = superuser.post(url, absence_data(doctor, local(monday(), 8), local(monday(), 12)))
    assert response.status_code == 302
    assert booked.reference in warnings(response)


def test_clinic_closure_lists_every_practitioners_bookings(superuser, doctor, other_doctor, booked):
    tentative = booking_at(other_doctor, local(monday(), 14), status=Status.TENTATIVE)
    next_day = booking_at(doctor, local(monday() + timedelta(days=1), 10))
    response = add_absence(superuser, None, local(monday(), 0), local(monday(), 23, 59))
    warning = warnings(response)
    assert booked.reference in warning and tentative.reference in warning
    assert next_day.reference not in warning
    assert Absence.objects.get().practitioner is None


def test_absence_ending_before_it_starts_is_refused(superuser, doctor):
    response = superuser.post(
        ABSENCE_ADD, absence_data(doctor, local(monday(), 12), local(monday(), 12))
    )
    assert response.status_code == 200
    assert form_errors(response)["ends_at"] == ["The end must be after the start."]
    assert not Absence.objects.exists()


def test_absence_list_names_the_whole_clinic(superuser, doctor):
    Absence.objects.create(starts_at=local(monday(), 0), ends_at=local(monday(), 23))
    response = superuser.get(ABSENCE_LIST)
    assert response.status_code == 200
    assert "The whole clinic" in response.content.decode()


# --- The public holidays button ------------------------------------------------------


def closures():
    return Absence.objects.filter(practitioner=None)


def test_holidays_button_adds_this_and_next_years_holidays_once(superuser):
    year = timezone.localdate().year
    assert HOLIDAYS in superuser.get(ABSENCE_LIST).content.decode()

    response = superuser.post(HOLIDAYS)
    assert response.status_code == 302 and response["Location"] == ABSENCE_LIST
    added = closures().count()
    assert added >= 20  # at least ten Danish holidays a year
    for christmas in (date(year, 12, 25), date(year + 1, 12, 25)):
        assert closures().filter(starts_at=local(christmas, 0)).exists()
    assert f"{added} public holidays of {year} and {year + 1} added." in successes(response)

    response = superuser.post(HOLIDAYS)
    assert response.status_code == 302
    assert closures().count() == added
    assert "No public holidays added" in successes(response)


def test_holidays_button_warns_about_bookings_on_a_new_holiday(superuser, doctor):
    christmas = date(timezone.localdate().year + 1, 12, 25)
    booking = booking_at(doctor, local(christmas, 10))
    response = superuser.post(HOLIDAYS)
    assert booking.reference in warnings(response)


def test_holidays_button_refuses_a_get(superuser):
    assert superuser.get(HOLIDAYS).status_code == 405
    assert not Absence.objects.exists()


def test_holidays_button_needs_the_add_permission(client):
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_absence"))
    logged_in(client, viewer)
    listing = client.get(ABSENCE_LIST)
    assert listing.status_code == 200 and HOLIDAYS not in listing.content.decode()
    assert client.post(HOLIDAYS).status_code == 403
    assert not Absence.objects.exists()


def test_holidays_button_needs_the_csrf_token():
    client = logged_in(Client(enforce_csrf_checks=True), UserFactory(is_superuser=True))
    assert client.post(HOLIDAYS).status_code == 403
    assert not Absence.objects.exists()


# --- Appointment types ---------------------------------------------------------------


def type_data(mode, practitioners=()):
    return {
        "name_da": "Telefonsamtale",
        "name_en": "Phone talk",
        "duration_minutes": 15,
        "requestable_online": "on",
        "order": 1,
        "booking_mode": mode,
        "practitioners": [p.pk for p in practitioners],
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 5,
        "min_notice_hours": 4,
        "max_weeks_ahead": 6,
        "imaging": AppointmentType.Imaging.NOT_NEEDED,
    }


def test_appointment_type_page_shows_the_scheduling_fields(superuser, doctor):
    kind = AppointmentTypeFactory()
    page = superuser.get(reverse("admin:booking_appointmenttype_change", args=[kind.pk]))
    html = page.content.decode()
    assert "Scheduling" in html
    for field in ("booking_mode", "buffer_before_minutes", "min_notice_hours", "max_weeks_ahead"):
        assert f'name="{field}"' in html
    assert f'type="checkbox" name="practitioners" value="{doctor.pk}"' in html


@pytest.mark.parametrize("mode", ["instant", "tentative"])
def test_picking_a_time_needs_a_practitioner(superuser, mode):
    response = superuser.post(TYPE_ADD, type_data(mode))
    assert response.status_code == 200
    assert form_errors(response)["practitioners"] == [
        "Choose at least one practitioner, or let patients ask for a period."
    ]
    assert not AppointmentType.objects.exists()


def test_instant_booking_with_one_practitioner_saves(superuser, doctor):
    response = superuser.post(TYPE_ADD, type_data("instant", [doctor]))
    assert response.status_code == 302, form_errors(response)
    kind = AppointmentType.objects.get()
    assert kind.booking_mode == "instant" and list(kind.practitioners.all()) == [doctor]
    assert (kind.buffer_after_minutes, kind.min_notice_hours, kind.max_weeks_ahead) == (5, 4, 6)


def test_asking_for_a_period_needs_no_practitioner(superuser):
    assert superuser.post(TYPE_ADD, type_data("period")).status_code == 302
    assert AppointmentType.objects.get().booking_mode == "period"


def test_deleting_working_hours_from_the_list_lists_the_bookings_left_outside(
    superuser, doctor, other_doctor, monday_hours
):
    theirs = WorkingHours.objects.create(
        practitioner=other_doctor, weekday=0, starts=time(8), ends=time(16)
    )
    booking = booking_at(doctor, local(monday(), 9))
    colleagues = booking_at(other_doctor, local(monday(), 9))
    response = superuser.post(
        reverse("admin:booking_workinghours_changelist"),
        {"action": "delete_selected", "_selected_action": [monday_hours.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(WorkingHours.objects.all()) == [theirs]
    assert booking.reference in warnings(response)
    assert colleagues.reference not in warnings(response)
