"""The blood-thinner plan on the staff side: one line per medicine, its rules and warnings,
the admin page that prepares and agrees it, and confirming a time too close for the pause.
"""

import re
from datetime import date, datetime, time, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from booking import services
from booking.models import AppointmentType, Booking, PlanLine
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
TODAY = date(2026, 3, 2)  # a Monday


@pytest.fixture(autouse=True)
def frozen():
    """A fixed morning, so "today", "tomorrow" and the boundaries never move."""
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())):
        yield


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def sent():
    with mock.patch("booking.tasks.send_booking_message") as send:
        yield send


@pytest.fixture
def replanned():
    """The outbox's replan, recording the plan lines each call saw."""
    with mock.patch("booking.outbox.replan") as replan:
        replan.lines_seen = []
        replan.side_effect = lambda booking, **kwargs: replan.lines_seen.append(
            list(booking.plan_lines.values_list("action", flat=True))
        )
        yield replan


@pytest.fixture
def reception_user():
    return UserFactory(groups=["Reception"])


@pytest.fixture
def doctor_user():
    return UserFactory(groups=["Doctors"])


@pytest.fixture
def practitioner():
    return PractitionerFactory(name="Dr Brask")


@pytest.fixture
def marevan():
    return AnticoagulantFactory(brand="Marevan", substance="warfarin", default_pause_days=5)


@pytest.fixture
def eliquis():
    return AnticoagulantFactory(brand="Eliquis", substance="apixaban", default_pause_days=2)


def at(days: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(TODAY + timedelta(days=days), time(hour)))


def booking_in(days, status=Status.CONFIRMED, practitioner=None, **fields):
    """A booking whose appointment is `days` after today, with that status."""
    practitioner = practitioner or PractitionerFactory()
    starts = at(days)
    return BookingFactory(
        status=status,
        takes_blood_thinners="yes",
        practitioner=practitioner,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        claim_starts_at=starts,
        claim_ends_at=starts + timedelta(minutes=45),
        **fields,
    )


def pause(medicine=None, last=None, restart=None, name=""):
    return {
        "anticoagulant": medicine,
        "medicine_name": name,
        "action": "pause",
        "last_dose_date": last,
        "restart_date": restart,
    }


def keep(medicine=None, name="", last=None, restart=None):
    return {**pause(medicine, last, restart, name), "action": "continue"}


def day(days: int) -> date:
    return TODAY + timedelta(days=days)


# --- Lines and the summary --------------------------------------------------------------


def test_each_medicine_gets_a_line_and_the_booking_the_earliest_and_latest_dates(
    doctor_user, marevan, eliquis, replanned
):
    booking = booking_in(20)
    services.agree_anticoagulant_plan(
        booking=booking,
        lines=[
            pause(marevan, day(14), day(21)),
            pause(eliquis, day(17), day(22)),
            keep(name="Hjertemagnyl"),
        ],
        instructions="Tag den sidste Marevan om aftenen.",
        user=doctor_user,
    )
    booking.refresh_from_db()
    lines = list(booking.plan_lines.all())
    assert [(line.name, line.action) for line in lines] == [
        (str(marevan), "pause"),
        (str(eliquis), "pause"),
        ("Hjertemagnyl", "continue"),
    ]
    assert booking.last_dose_date == day(14)  # Marevan's, the earliest
    assert booking.restart_date == day(22)  # Eliquis', the latest
    assert booking.plan_instructions == "Tag den sidste Marevan om aftenen."
    assert booking.plan_agreed_by == doctor_user
    # The messages are planned again from the saved plan.
    replanned.assert_called_with(booking)
    assert replanned.lines_seen[-1] == ["pause", "pause", "continue"]


def test_a_new_plan_replaces_the_lines_and_keeps_no_dates_when_nothing_is_paused(
    reception_user, marevan, eliquis, replanned
):
    booking = booking_in(20)
    services.prepare_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(14), day(21)), pause(eliquis, day(17), day(21))],
        instructions="",
        user=reception_user,
    )
    services.prepare_anticoagulant_plan(
        booking=booking, lines=[keep(eliquis)], instructions="", user=reception_user
    )
    booking.refresh_from_db()
    assert list(booking.plan_lines.values_list("anticoagulant", "action")) == [
        (eliquis.pk, "continue")
    ]
    assert booking.last_dose_date is None and booking.restart_date is None
    assert PlanLine.objects.count() == 1
    assert replanned.lines_seen[-1] == ["continue"]


def test_agreeing_again_asks_the_patient_to_read_the_new_plan(doctor_user, marevan, replanned):
    booking = booking_in(20, plan_read_at=timezone.now())
    services.agree_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(14), day(21))],
        instructions="",
        user=doctor_user,
    )
    booking.refresh_from_db()
    assert booking.plan_read_at is None


# --- Validation -------------------------------------------------------------------------


def refused(booking, lines, user, step=services.prepare_anticoagulant_plan) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        step(booking=booking, lines=lines, instructions="", user=user)
    return caught.value.messages


def test_a_paused_medicine_needs_both_dates(reception_user, marevan, replanned):
    booking = booking_in(20)
    replanned.reset_mock()
    assert refused(booking, [pause(marevan, None, day(21))], reception_user) == [
        f"{marevan}: A paused medicine needs the last day to take it."
    ]
    assert refused(booking, [pause(marevan, day(14), None)], reception_user) == [
        f"{marevan}: A paused medicine needs the day to start again."
    ]
    assert not booking.plan_lines.exists()
    replanned.assert_not_called()


def test_a_kept_medicine_has_no_dates(reception_user, marevan, replanned):
    booking = booking_in(20)
    messages = refused(booking, [keep(marevan, last=day(14))], reception_user)
    assert messages == [
        f"{marevan}: A medicine the patient keeps taking has no dates: clear them, or choose pause."
    ]
    services.prepare_anticoagulant_plan(
        booking=booking, lines=[keep(marevan)], instructions="", user=reception_user
    )


def test_every_line_names_a_medicine(reception_user, replanned):
    booking = booking_in(20)
    messages = refused(booking, [pause(None, day(14), day(21))], reception_user)
    assert messages == [
        "A medicine without a name: Choose the medicine from the list or write its name."
    ]


def test_the_last_dose_is_before_the_appointment_day_and_the_restart_on_or_after_it(
    reception_user, marevan, replanned
):
    booking = booking_in(20)
    assert refused(booking, [pause(marevan, day(20), day(21))], reception_user) == [
        f"{marevan}: The last day to take it must be before the appointment."
    ]
    assert refused(booking, [pause(marevan, day(14), day(19))], reception_user) == [
        f"{marevan}: The day to start again must be on or after the appointment."
    ]
    # The boundaries: the last dose the day before, the restart on the day itself.
    services.prepare_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(19), day(20))],
        instructions="",
        user=reception_user,
    )
    booking.refresh_from_db()
    assert (booking.last_dose_date, booking.restart_date) == (day(19), day(20))


def test_without_a_time_the_restart_must_still_follow_the_last_dose(
    reception_user, marevan, replanned
):
    booking = BookingFactory(takes_blood_thinners="yes")  # requested, no time yet
    assert refused(booking, [pause(marevan, day(14), day(14))], reception_user) == [
        f"{marevan}: The day to start again must be after the last day."
    ]
    services.prepare_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(14), day(15))],
        instructions="",
        user=reception_user,
    )


@pytest.mark.parametrize("status", [Status.TENTATIVE, Status.REQUESTED])
def test_a_plan_is_prepared_but_never_agreed_before_the_time_is_confirmed(
    status, doctor_user, marevan, replanned
):
    booking = booking_in(20, status=status)
    lines = [pause(marevan, day(14), day(21))]
    messages = refused(booking, lines, doctor_user, step=services.agree_anticoagulant_plan)
    assert "a plan is agreed only for a confirmed time" in messages[0]
    booking.refresh_from_db()
    assert not booking.plan_agreed and not booking.plan_lines.exists()
    services.prepare_anticoagulant_plan(
        booking=booking, lines=lines, instructions="", user=doctor_user
    )
    booking.refresh_from_db()
    assert booking.plan_lines.count() == 1 and not booking.plan_agreed


def test_the_patient_is_never_told_to_start_a_pause_in_the_past(
    doctor_user, marevan, eliquis, replanned
):
    booking = booking_in(5)
    messages = refused(
        booking,
        [pause(marevan, day(-1), day(6)), pause(eliquis, day(2), day(6))],
        doctor_user,
        step=services.agree_anticoagulant_plan,
    )
    assert messages == [
        f"{marevan}: the last day to take it ({day(-1)}) has passed. The patient cannot "
        "start a pause in the past: choose new dates or a new time."
    ]
    assert not Booking.objects.get(pk=booking.pk).plan_agreed
    # A last dose today is still in time (the patient is phoned: see the warnings).
    services.agree_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(0), day(6))],
        instructions="",
        user=doctor_user,
    )
    assert booking.plan_agreed


def test_only_doctors_agree_and_only_staff_who_change_bookings_prepare(
    reception_user, marevan, replanned
):
    booking = booking_in(20)
    plan = {"lines": [pause(marevan, day(14), day(21))], "instructions": ""}
    with pytest.raises(PermissionDenied):
        services.agree_anticoagulant_plan(booking=booking, user=reception_user, **plan)
    with pytest.raises(PermissionDenied):
        services.prepare_anticoagulant_plan(booking=booking, user=UserFactory(), **plan)
    assert not booking.plan_lines.exists()


# --- Warnings ---------------------------------------------------------------------------


def warnings_for(booking, *lines) -> list[str]:
    return [str(warning) for warning in services.plan_warnings(booking, list(lines))]


def test_a_pause_two_days_off_the_usual_is_fine_three_days_warns(marevan):
    booking = booking_in(20)
    # Marevan's usual pause is 5 days: the last dose 6 days before the appointment.
    assert warnings_for(booking, pause(marevan, day(14), day(21))) == []
    assert warnings_for(booking, pause(marevan, day(12), day(21))) == []  # 7 days
    assert warnings_for(booking, pause(marevan, day(16), day(21))) == []  # 3 days
    assert warnings_for(booking, pause(marevan, day(11), day(21))) == [
        f"{marevan}: a pause of 8 days, the usual pause is 5 days."
    ]
    assert warnings_for(booking, pause(marevan, day(17), day(21))) == [
        f"{marevan}: a pause of 2 days, the usual pause is 5 days."
    ]


def test_a_medicine_outside_the_list_has_no_usual_pause_to_compare(marevan):
    booking = booking_in(20)
    assert warnings_for(booking, pause(None, day(18), day(21), name="Plavix")) == []


def test_a_restart_more_than_a_week_after_the_appointment_warns():
    booking = booking_in(20)
    assert warnings_for(booking, pause(None, day(15), day(27), name="Plavix")) == []
    assert warnings_for(booking, pause(None, day(15), day(28), name="Plavix")) == [
        f"Plavix: the restart ({day(28)}) is more than 7 days after the appointment."
    ]


def test_a_last_dose_more_than_thirty_days_before_the_appointment_warns():
    booking = booking_in(40)
    assert warnings_for(booking, pause(None, day(10), day(41), name="Plavix")) == []
    assert warnings_for(booking, pause(None, day(9), day(41), name="Plavix")) == [
        f"Plavix: the last dose ({day(9)}) is more than 30 days before the appointment."
    ]


def test_a_pause_that_starts_today_or_tomorrow_warns(eliquis):
    booking = booking_in(4)
    # Eliquis' usual pause is 2 days: the last dose 3 days before, here tomorrow.
    assert warnings_for(booking, pause(eliquis, day(2), day(5))) == []
    soon = warnings_for(booking, pause(eliquis, day(1), day(5)))
    assert soon == [
        f"{eliquis}: the last dose is on {day(1)}, so the pause starts today or tomorrow: "
        "the patient has little time to read the plan. Phone them."
    ]
    assert len(warnings_for(booking, pause(eliquis, day(0), day(5)))) == 1


def test_kept_medicines_never_warn(marevan):
    booking = booking_in(1)
    assert warnings_for(booking, keep(marevan)) == []


# --- The admin page ---------------------------------------------------------------------


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def plan_url(booking):
    return reverse("admin:booking_booking_plan", args=[booking.pk])


def rows(*lines, extra=1) -> dict:
    """The formset's POST data for these lines, plus `extra` empty rows."""
    data = {
        "lines-TOTAL_FORMS": str(len(lines) + extra),
        "lines-INITIAL_FORMS": str(len(lines)),
        "instructions": "",
    }
    for number, line in enumerate(lines):
        for name, value in line.items():
            if name == "anticoagulant":
                value = value.pk if value else ""
            data[f"lines-{number}-{name}"] = "" if value is None else str(value)
    return data


def test_the_page_has_a_row_per_named_medicine_with_its_own_suggested_dates(
    client, reception_user, marevan, eliquis
):
    booking = booking_in(20, other_medicine="Plavix")
    booking.anticoagulants.set([marevan, eliquis])
    response = logged_in(client, reception_user).get(plan_url(booking))
    formset = response.context["formset"]
    assert len(formset.forms) == 4  # Eliquis, Marevan, Plavix and one empty row
    assert formset.initial == [
        pause(eliquis, day(17), day(21)),
        pause(marevan, day(14), day(21)),
        {**pause(None, name="Plavix"), "action": ""},
    ]
    page = text(response)
    assert 'name="lines-3-medicine_name"' in page
    assert 'name="_agree"' not in page  # reception prepares only


def test_saving_with_warnings_needs_the_tick_and_keeps_what_was_typed(
    client, reception_user, marevan, eliquis
):
    booking = booking_in(20)
    booking.anticoagulants.set([marevan])
    reception = logged_in(client, reception_user)
    data = rows(pause(marevan, day(11), day(21)), extra=1) | {
        "instructions": "Ring hvis du er i tvivl.",
        "lines-1-medicine_name": "Plavix",
        "lines-1-action": "continue",
        "_prepare": "1",
    }
    response = reception.post(plan_url(booking), data)
    assert response.status_code == 200
    page = text(response)
    assert f"{marevan}: a pause of 8 days, the usual pause is 5 days." in page
    assert "Read the warnings above and tick the box" in page
    # Everything typed is still there.
    assert "Ring hvis du er i tvivl." in page
    assert f'value="{day(11).isoformat()}"' in page
    assert 'value="Plavix"' in page
    assert not booking.plan_lines.exists()

    response = reception.post(plan_url(booking), data | {"warnings_checked": "on"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert [line.name for line in booking.plan_lines.all()] == [str(marevan), "Plavix"]
    assert booking.plan_instructions == "Ring hvis du er i tvivl."
    assert booking.plan_prepared_by == reception_user and not booking.plan_agreed


def test_a_plan_without_warnings_saves_without_the_tick_and_a_row_can_be_removed(
    client, doctor_user, marevan, eliquis
):
    booking = booking_in(20)
    data = rows(pause(marevan, day(14), day(21)), pause(eliquis, day(17), day(21)), extra=0)
    data |= {"lines-1-DELETE": "on", "_agree": "1"}
    response = logged_in(client, doctor_user).post(plan_url(booking), data)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert [line.anticoagulant for line in booking.plan_lines.all()] == [marevan]
    assert booking.plan_agreed_by == doctor_user


def test_the_page_shows_a_line_error_and_saves_nothing(client, doctor_user, marevan):
    booking = booking_in(20)
    data = rows(pause(marevan, day(14), None), extra=0) | {"_agree": "1"}
    response = logged_in(client, doctor_user).post(plan_url(booking), data)
    assert response.status_code == 200
    assert "A paused medicine needs the day to start again." in text(response)
    assert not booking.plan_lines.exists()


def test_a_tentative_time_offers_no_agreement_and_refuses_one(client, doctor_user, marevan):
    booking = booking_in(20, status=Status.TENTATIVE)
    doctor = logged_in(client, doctor_user)
    page = text(doctor.get(plan_url(booking)))
    assert 'name="_agree"' not in page and 'id="not-agreeable"' in page
    data = rows(pause(marevan, day(14), day(21)), extra=0) | {"_agree": "1"}
    response = doctor.post(plan_url(booking), data)
    assert response.status_code == 200
    assert "a plan is agreed only for a confirmed time" in text(response)
    booking.refresh_from_db()
    assert not booking.plan_agreed


def test_reception_cannot_agree_through_the_page(client, reception_user, marevan):
    booking = booking_in(20)
    data = rows(pause(marevan, day(14), day(21)), extra=0) | {"_agree": "1"}
    assert logged_in(client, reception_user).post(plan_url(booking), data).status_code == 403
    assert not booking.plan_lines.exists()


# --- Confirming a time too close for the pause ------------------------------------------


def confirm_url(booking):
    return reverse("admin:booking_booking_confirm", args=[booking.pk])


def confirm_data(practitioner, days, **extra):
    return {
        "practitioner": practitioner.pk,
        "starts_at_0": day(days).isoformat(),
        "starts_at_1": "10:00",
        **extra,
    }


@pytest.fixture
def requested(marevan):
    """A patient on Marevan (usual pause 5 days: the plan needs 6 days)."""
    kind = AppointmentTypeFactory(imaging=AppointmentType.Imaging.NOT_NEEDED)
    booking = BookingFactory(appointment_type=kind, takes_blood_thinners="yes")
    booking.anticoagulants.set([marevan])
    return booking


def test_a_time_too_close_for_the_pause_needs_a_tick(client, reception_user, requested, sent):
    practitioner = PractitionerFactory()
    reception = logged_in(client, reception_user)
    # In 5 days: the last dose would have been yesterday.
    response = reception.post(confirm_url(requested), confirm_data(practitioner, 5))
    assert response.status_code == 200
    page = text(response)
    assert "Confirm although the pause should already have started" in page
    assert "The blood-thinner pause should already have started" in page
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED
    response = reception.post(
        confirm_url(requested), confirm_data(practitioner, 5, despite_pause="on")
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == Status.CONFIRMED


def test_a_time_that_leaves_room_for_the_pause_needs_no_tick(client, reception_user, requested):
    practitioner = PractitionerFactory()
    # In 6 days: the last dose is today, still in time.
    response = logged_in(client, reception_user).post(
        confirm_url(requested), confirm_data(practitioner, 6)
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == Status.CONFIRMED


def test_a_patient_without_blood_thinners_needs_no_tick(client, reception_user, requested):
    requested.takes_blood_thinners = "no"
    requested.save()
    response = logged_in(client, reception_user).post(
        confirm_url(requested), confirm_data(PractitionerFactory(), 1)
    )
    assert response.status_code == 302


def test_the_booking_page_shows_each_line_and_whether_the_patient_read_the_plan(
    client, reception_user, doctor_user, marevan
):
    booking = booking_in(20)
    services.agree_anticoagulant_plan(
        booking=booking,
        lines=[pause(marevan, day(14), day(21)), keep(name="Hjertemagnyl")],
        instructions="Ring til os ved blødning.",
        user=doctor_user,
    )
    url = reverse("admin:booking_booking_change", args=[booking.pk])
    reception = logged_in(client, reception_user)
    page = text(reception.get(url))
    assert f"{marevan}: last day to take it {day(14)}, start again {day(21)}." in page
    assert "Hjertemagnyl: keep taking it." in page
    assert "Ring til os ved blødning." in page
    assert "Not read by the patient yet." in page
    Booking.objects.filter(pk=booking.pk).update(plan_read_at=timezone.now())
    assert "Read by the patient 2026-03-02 09:00." in text(reception.get(url))
