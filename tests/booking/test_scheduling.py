"""Picking a free time: the "When" step, holds, sending, cancelling (test client, any DB)."""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from booking import scheduling, services
from booking.models import Absence, AppointmentType, Booking, WorkingHours
from clinic.models import ClinicDetails, ConsentText
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import ConsentTextFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Mode = AppointmentType.BookingMode
# A Monday morning in winter (CET), well inside the doctor's hours below.
NOW = datetime(2027, 1, 11, 7, 0, tzinfo=timezone.get_fixed_timezone(60))


def url(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs=kwargs or None)


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    day = NOW.date() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def doctor():
    practitioner = PractitionerFactory(name="Dr. Test")
    for weekday in range(5):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, starts=time(8), ends=time(12)
        )
    return practitioner


@pytest.fixture
def phone_talk(doctor):
    kind = AppointmentTypeFactory(
        phone_talk=True, booking_mode=Mode.PICK_CONFIRMED, min_notice_hours=2, max_weeks_ahead=2
    )
    kind.practitioners.add(doctor)
    return kind


@pytest.fixture
def gold(doctor):
    kind = AppointmentTypeFactory(
        booking_mode=Mode.PICK_TENTATIVE,
        duration_minutes=45,
        buffer_after_minutes=15,
        min_notice_hours=48,
        max_weeks_ahead=4,
    )
    kind.practitioners.add(doctor)
    return kind


@pytest.fixture
def consent():
    return ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA)


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken", phone="+45 70 20 30 40", email="clinic@example.com"
    )


ABOUT = {
    "name": "Karen Jensen",
    "email": "karen@example.com",
    "phone": "20 12 34 56",
    "birth_date": "1958-04-30",
    "language": "en",
}


def pick(slot_start: datetime, practitioner) -> str:
    return f"{timezone.localtime(slot_start).isoformat()}|{practitioner.pk}"


def offered_values(html: str) -> list[str]:
    return re.findall(r'name="time" value="([^"]+)"', html)


def start_draft(client, kind) -> Booking:
    assert client.post(url("what"), {"appointment_type": kind.pk}).status_code == 302
    return Booking.objects.drafts().latest("pk")


# --- The free times ---------------------------------------------------------------


def test_free_times_leave_out_claims_holds_and_absences_but_not_expired_holds(phone_talk, doctor):
    BookingFactory(
        status=Booking.Status.CONFIRMED,
        appointment_type=phone_talk,
        practitioner=doctor,
        starts_at=local(1, 9),
        ends_at=local(1, 9, 15),
        claim_starts_at=local(1, 9),
        claim_ends_at=local(1, 9, 15),
    )
    for hold_until, hour in ((NOW + timedelta(minutes=5), 10), (NOW - timedelta(minutes=1), 11)):
        BookingFactory(
            status=Booking.Status.DRAFT,
            appointment_type=phone_talk,
            practitioner=doctor,
            starts_at=local(1, hour),
            ends_at=local(1, hour, 15),
            claim_starts_at=local(1, hour),
            claim_ends_at=local(1, hour, 15),
            hold_expires_at=hold_until,
        )
    Absence.objects.create(practitioner=None, starts_at=local(2, 0), ends_at=local(3, 0))
    with CaptureQueriesContext(connection) as queries:
        starts = {s.start for s in scheduling.offered_times(appointment_type=phone_talk)}
    assert len(queries) <= 5
    assert local(1, 9) not in starts and local(1, 10) not in starts  # booked, held
    assert local(1, 11) in starts  # that hold has expired
    assert local(1, 9, 15) in starts and local(1, 8, 45) in starts  # touching is fine
    assert not [s for s in starts if s.date() == local(2, 0).date()]  # clinic closed
    assert min(starts) == local(0, 9)  # 07:00 now + 2 hours' notice
    assert max(starts) < NOW + timedelta(weeks=2)


def test_the_earliest_time_leaves_room_for_the_blood_thinner_pause(client, gold, doctor):
    warfarin = AnticoagulantFactory(brand="Marevan", default_pause_days=5)
    draft = start_draft(client, gold)
    # The images and the checklist come first, also when the "When" step is opened by URL.
    assert client.get(url("when"))["Location"] == url("images")
    Booking.objects.filter(pk=draft.pk).update(imaging_status="radiology")
    assert client.get(url("when"))["Location"] == url("checklist")
    draft.takes_blood_thinners = "yes"
    draft.save()
    draft.anticoagulants.set([warfarin])
    earliest = min(
        s.start
        for s in scheduling.offered_times(
            appointment_type=gold, earliest=scheduling.earliest_for(draft)
        )
    )
    # 3 days for the doctor to agree the plan, then 5 days' pause and the last-dose day.
    assert earliest == local(3 + 5 + 1, 8)
    draft.takes_blood_thinners = "no"
    draft.save()
    earliest = min(
        s.start
        for s in scheduling.offered_times(
            appointment_type=gold, earliest=scheduling.earliest_for(draft)
        )
    )
    assert earliest == local(2, 8)  # 48 hours' notice only


# --- The patient's flow -------------------------------------------------------------


def test_the_phone_talk_is_confirmed_at_once_with_its_calendar_file(
    client, phone_talk, doctor, consent, clinic, mailoutbox
):
    start_draft(client, phone_talk)
    page = client.get(url("when"))
    html = page.content.decode()
    values = offered_values(html)
    assert values[0] == pick(local(0, 9), doctor)
    # Each time is readable on its own: the day and date are in the label.
    assert "Monday 11 January 2027, at </span>09:00" in html

    response = client.post(url("when"), {"time": values[0]})
    assert response["Location"] == url("about")
    draft = Booking.objects.get()
    assert draft.starts_at == local(0, 9) and draft.practitioner == doctor
    assert draft.hold_expires_at == NOW + timedelta(minutes=15)
    # Another patient is not offered the held time.
    assert local(0, 9) not in [
        s.start for s in scheduling.offered_times(appointment_type=phone_talk)
    ]

    assert client.post(url("about"), ABOUT)["Location"] == url("review")
    response = client.post(url("review"), {"consent": "on", "consent_version": consent.pk})
    assert response["Location"] == url("thanks")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.hold_expires_at is None
    assert (booking.claim_starts_at, booking.claim_ends_at) == (local(0, 9), local(0, 9, 15))
    patient_mail = next(m for m in mailoutbox if m.to == ["karen@example.com"])
    assert "confirmed" in patient_mail.subject
    ics = patient_mail.attachments[0][1]
    assert "DTSTART" in (ics if isinstance(ics, str) else ics.decode())


def test_gold_implantation_is_held_as_tentative_until_reception_confirms(
    client, gold, doctor, consent, clinic, mailoutbox
):
    draft = start_draft(client, gold)
    draft.takes_blood_thinners = "no"
    draft.imaging_status = "radiology"
    draft.save()
    values = offered_values(client.get(url("when")).content.decode())
    assert client.post(url("when"), {"time": values[0]})["Location"] == url("about")
    client.post(url("about"), ABOUT)
    response = client.post(url("review"), {"consent": "on", "consent_version": consent.pk})
    assert response["Location"] == url("thanks")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.TENTATIVE
    # 45 minutes and 15 minutes' buffer are taken from the doctor's time.
    assert booking.claim_ends_at - booking.claim_starts_at == timedelta(hours=1)
    patient_mail = next(m for m in mailoutbox if m.to == ["karen@example.com"])
    assert "received" in patient_mail.subject and "You chose" in patient_mail.body

    reception = UserFactory(groups=["Reception"])
    services.confirm_booking(
        booking=booking, practitioner=doctor, starts_at=booking.starts_at, user=reception
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    "tampered",
    [
        "not a time",
        "2027-01-11T09:00:00|999999",  # no offset: not a time we offered
        "2027-01-11T09:07:00+01:00|{doctor}",  # between the offered steps
        "2027-01-10T09:00:00+01:00|{doctor}",  # in the past
        "2027-01-11T18:00:00+01:00|{doctor}",  # outside working hours
        "2027-01-16T09:00:00+01:00|{doctor}",  # a Saturday
        "2027-01-11T09:00:00+01:00|{other}",  # a practitioner who does not do this
    ],
)
def test_a_tampered_time_is_refused_with_a_clear_message(client, phone_talk, doctor, tampered):
    other = PractitionerFactory()
    WorkingHours.objects.create(practitioner=other, weekday=0, starts=time(8), ends=time(16))
    draft = start_draft(client, phone_talk)
    value = tampered.format(doctor=doctor.pk, other=other.pk)
    response = client.post(url("when"), {"time": value})
    assert response.status_code == 400
    with translation.override("en"):
        assert "Please choose one of the times shown." in response.content.decode()
    draft.refresh_from_db()
    assert draft.claim_starts_at is None and draft.starts_at is None
    assert offered_values(response.content.decode())  # the real times are shown again


def test_a_time_held_by_another_patient_is_refused_with_the_other_times(client, phone_talk, doctor):
    rival = BookingFactory(status=Booking.Status.DRAFT, appointment_type=phone_talk)
    scheduling.claim_time(
        booking=rival, practitioner=doctor, starts_at=local(0, 9), as_=scheduling.HOLD
    )
    start_draft(client, phone_talk)
    response = client.post(url("when"), {"time": pick(local(0, 9), doctor)})
    assert response.status_code == 400  # no longer offered to anybody else
    assert pick(local(0, 9), doctor) not in offered_values(response.content.decode())
    assert pick(local(0, 9, 15), doctor) in offered_values(response.content.decode())


def test_a_hold_that_expired_is_taken_again_on_sending_if_still_free(
    client, phone_talk, doctor, consent, clinic
):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    client.post(url("about"), ABOUT)
    with time_machine.travel(NOW + timedelta(minutes=40), tick=False):
        response = client.post(url("review"), {"consent": "on", "consent_version": consent.pk})
    assert response["Location"] == url("thanks")
    assert Booking.objects.get().status == Booking.Status.CONFIRMED


def test_a_hold_that_expired_and_was_taken_sends_the_patient_back_with_answers_kept(
    client, phone_talk, doctor, consent, clinic, mailoutbox
):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    client.post(url("about"), ABOUT)
    later = NOW + timedelta(minutes=40)
    with time_machine.travel(later, tick=False):
        rival = BookingFactory(status=Booking.Status.DRAFT, appointment_type=phone_talk)
        scheduling.claim_time(
            booking=rival, practitioner=doctor, starts_at=local(0, 10), as_=scheduling.HOLD
        )
        response = client.post(url("review"), {"consent": "on", "consent_version": consent.pk})
        assert response["Location"] == url("when")
        page = client.get(url("when")).content.decode()
    assert "taken by someone else" in page
    assert pick(local(0, 10), doctor) not in offered_values(page)
    draft = Booking.objects.drafts().exclude(pk=rival.pk).get()
    assert draft.starts_at is None and draft.claim_starts_at is None
    assert draft.name == "Karen Jensen" and draft.email == "karen@example.com"
    assert mailoutbox == []


def test_a_hold_is_renewed_while_the_patient_is_active(client, phone_talk, doctor):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        client.get(url("about"))
    assert Booking.objects.get().hold_expires_at == NOW + timedelta(minutes=25)
    # Once expired it is not silently renewed: sending takes it again (or not).
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        client.get(url("about"))
    assert Booking.objects.get().hold_expires_at == NOW + timedelta(minutes=25)


def test_none_of_these_suit_me_leads_to_the_period_form_and_frees_the_time(
    client, phone_talk, doctor
):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    page = client.get(url("when") + "?period=1").content.decode()
    assert 'name="earliest_date"' in page
    response = client.post(
        url("when") + "?period=1",
        {"earliest_date": (NOW.date() + timedelta(days=3)).isoformat(), "time_of_day": "any"},
    )
    assert response["Location"] == url("about")
    draft = Booking.objects.get()
    assert draft.claim_starts_at is None and draft.starts_at is None
    assert local(0, 10) in [s.start for s in scheduling.offered_times(appointment_type=phone_talk)]


def test_choosing_another_type_gives_the_held_time_back(client, phone_talk, gold, doctor):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    client.post(url("what"), {"appointment_type": gold.pk})
    assert Booking.objects.get().claim_starts_at is None


def test_cancelling_frees_the_time_at_once(phone_talk, doctor):
    booking = BookingFactory(appointment_type=phone_talk)
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(1, 9), as_=scheduling.CONFIRMED
    )
    assert local(1, 9) not in [
        s.start for s in scheduling.offered_times(appointment_type=phone_talk)
    ]
    services.cancel_booking(booking=booking, reason="Ill")
    booking.refresh_from_db()
    assert booking.claim_starts_at is None and booking.starts_at == local(1, 9)
    assert local(1, 9) in [s.start for s in scheduling.offered_times(appointment_type=phone_talk)]


def test_a_new_time_clears_a_prepared_plan_too(phone_talk, doctor):
    booking = BookingFactory(appointment_type=phone_talk)
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(1, 9), as_=scheduling.CONFIRMED
    )
    reception = UserFactory(groups=["Reception"])
    services.prepare_anticoagulant_plan(
        booking=booking,
        lines=[
            {
                "anticoagulant": None,
                "medicine_name": "Marevan",
                "action": "pause",
                "last_dose_date": NOW.date(),
                "restart_date": NOW.date() + timedelta(days=2),
            }
        ],
        instructions="",
        user=reception,
    )
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(2, 9), as_=scheduling.CONFIRMED
    )
    booking.refresh_from_db()
    assert booking.last_dose_date is None and booking.plan_prepared_by is None
    assert booking.time_sequence == 1


def test_a_type_where_the_patient_asks_for_a_period_keeps_the_period_form(client, doctor):
    kind = AppointmentTypeFactory(phone_talk=True)  # BookingMode.REQUEST_PERIOD by default
    kind.practitioners.add(doctor)
    start_draft(client, kind)
    html = client.get(url("when")).content.decode()
    assert 'name="earliest_date"' in html and not offered_values(html)


def test_no_working_hours_means_no_times_and_a_way_to_ask_for_a_period(client, phone_talk):
    WorkingHours.objects.all().delete()
    start_draft(client, phone_talk)
    html = client.get(url("when")).content.decode()
    assert not offered_values(html)
    assert "There are no free times to book online" in html and "?period=1" in html


# --- The private page: another time, cancelling, and when only a call will do ------------


def confirmed_gold(gold, doctor, day_offset=10, hour=9) -> Booking:
    booking = BookingFactory(appointment_type=gold, language="en", takes_blood_thinners="yes")
    return scheduling.claim_time(
        booking=booking,
        practitioner=doctor,
        starts_at=local(day_offset, hour),
        as_=scheduling.CONFIRMED,
    )


def private(booking, name="private"):
    from booking import access

    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs={"token": access.make_token(booking)})


def test_the_patient_moves_a_gold_implantation_and_staff_must_confirm_again(
    client, gold, doctor, clinic
):
    booking = confirmed_gold(gold, doctor)
    page = client.get(private(booking)).content.decode()
    assert private(booking, "private_reschedule") in page
    picker = client.get(private(booking, "private_reschedule")).content.decode()
    new = pick(local(4, 10), doctor)  # 3 days' lead and a day's pause: Friday
    assert new in offered_values(picker)
    response = client.post(private(booking, "private_reschedule"), {"time": new})
    assert response["Location"] == private(booking)
    booking.refresh_from_db()
    assert booking.starts_at == local(4, 10)
    assert booking.status == Booking.Status.TENTATIVE  # staff confirm gold again
    assert booking.time_sequence == 1
    # The old time is free for others at once.
    assert local(10, 9) in [s.start for s in scheduling.offered_times(appointment_type=gold)]


def test_a_moved_phone_talk_stays_confirmed_and_a_tampered_new_time_is_refused(
    client, phone_talk, doctor, clinic
):
    booking = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(5, 9), as_=scheduling.CONFIRMED
    )
    response = client.post(
        private(booking, "private_reschedule"), {"time": "2027-01-17T03:00:00+01:00|1"}
    )
    assert response.status_code == 400
    assert "Please choose one of the times shown." in response.content.decode()
    response = client.post(
        private(booking, "private_reschedule"), {"time": pick(local(4, 9), doctor)}
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.starts_at == local(4, 9)


@pytest.mark.parametrize(("hours_before", "allowed"), [(24, True), (23, False)])
def test_online_changes_end_a_day_before_the_appointment(
    client, gold, doctor, clinic, hours_before, allowed
):
    booking = confirmed_gold(gold, doctor, day_offset=10)
    with time_machine.travel(booking.starts_at - timedelta(hours=hours_before), tick=False):
        page = client.get(private(booking)).content.decode()
        assert (private(booking, "private_reschedule") in page) is allowed
        assert ("please call us on" in page) is not allowed
        response = client.post(private(booking, "private_cancel"), {"reason": "Ill"})
    booking.refresh_from_db()
    expected = Booking.Status.CANCELLED if allowed else Booking.Status.CONFIRMED
    assert booking.status == expected, response


def test_once_the_last_dose_day_has_come_only_a_call_moves_the_appointment(
    client, gold, doctor, clinic
):
    booking = confirmed_gold(gold, doctor, day_offset=10)
    booking_doctor = UserFactory(groups=["Doctors"])
    services.agree_anticoagulant_plan(
        booking=booking,
        lines=[
            {
                "anticoagulant": None,
                "medicine_name": "Marevan",
                "action": "pause",
                "last_dose_date": local(7, 0).date(),
                "restart_date": local(11, 0).date(),
            }
        ],
        instructions="",
        user=booking_doctor,
    )
    with time_machine.travel(local(6, 12), tick=False):  # the day before the last dose
        assert (
            private(booking, "private_reschedule") in client.get(private(booking)).content.decode()
        )
    with time_machine.travel(local(7, 8), tick=False):  # the last-dose day
        page = client.get(private(booking)).content.decode()
        assert private(booking, "private_reschedule") not in page
        assert "please call us on" in page
        # The restart date stays on the page.
        assert "Day to start again" in page
        response = client.post(private(booking, "private_reschedule"), {"time": "x"})
        assert response["Location"] == private(booking)
        client.post(private(booking, "private_cancel"), {"reason": "Ill"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.restart_date


def test_a_request_without_a_time_can_still_be_cancelled(client, clinic):
    booking = BookingFactory(language="en")
    client.post(private(booking, "private_cancel"), {"reason": "Better now"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


# --- The waitlist --------------------------------------------------------------------


def test_a_freed_earlier_time_is_offered_to_the_first_waitlisted_patients_only(
    client, phone_talk, doctor, clinic, mailoutbox
):
    leaving = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=leaving, practitioner=doctor, starts_at=local(3, 9), as_=scheduling.CONFIRMED
    )
    waiting = []
    for n in range(5):
        booking = BookingFactory(
            appointment_type=phone_talk, language="en", email=f"wait{n}@example.com"
        )
        scheduling.claim_time(
            booking=booking,
            practitioner=doctor,
            starts_at=local(8 + n, 9),
            as_=scheduling.CONFIRMED,
        )
        waiting.append(booking)
    for n, booking in enumerate(waiting[:4]):
        with time_machine.travel(NOW + timedelta(minutes=n), tick=False):
            client.post(private(booking, "private_waitlist"), {"wants_earlier": "1"})
    # The fifth patient did not ask; the fourth asked last.
    mailoutbox.clear()
    services.cancel_booking(booking=leaving, reason="Better now")
    told = sorted(m.to[0] for m in mailoutbox if "earlier time" in m.subject)
    assert told == ["wait0@example.com", "wait1@example.com", "wait2@example.com"]
    message = next(m for m in mailoutbox if m.to == ["wait0@example.com"])
    assert private(waiting[0], "private_reschedule") in message.body
    assert "non-binding" not in message.body  # not even the appointment type

    # The first to take it gets it; the next one finds it gone among the free times.
    freed = pick(local(3, 9), doctor)
    response = client.post(private(waiting[1], "private_reschedule"), {"time": freed})
    assert response["Location"] == private(waiting[1])
    waiting[1].refresh_from_db()
    assert waiting[1].starts_at == local(3, 9) and not waiting[1].wants_earlier
    late = client.post(private(waiting[0], "private_reschedule"), {"time": freed})
    assert late.status_code == 400
    assert freed not in offered_values(late.content.decode())
    assert offered_values(late.content.decode())
    waiting[0].refresh_from_db()
    assert waiting[0].starts_at == local(8, 9)  # still the time they had


def test_a_freed_time_later_than_the_patients_own_is_not_offered(
    client, phone_talk, doctor, clinic, mailoutbox
):
    early = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=early, practitioner=doctor, starts_at=local(2, 9), as_=scheduling.CONFIRMED
    )
    scheduling.join_waitlist(booking=early, wants=True)
    leaving = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=leaving, practitioner=doctor, starts_at=local(4, 9), as_=scheduling.CONFIRMED
    )
    mailoutbox.clear()
    services.cancel_booking(booking=leaving, reason="Better now")
    assert not [m for m in mailoutbox if "earlier time" in m.subject]


def test_removing_an_absence_offers_its_time_to_the_waitlist(phone_talk, doctor, mailoutbox):
    from booking.admin import offer_time_of

    absence = Absence.objects.create(
        practitioner=doctor, starts_at=local(2, 0), ends_at=local(3, 0), reason="Course"
    )
    later = BookingFactory(appointment_type=phone_talk, language="en", email="later@example.com")
    scheduling.claim_time(
        booking=later, practitioner=doctor, starts_at=local(9, 9), as_=scheduling.CONFIRMED
    )
    scheduling.join_waitlist(booking=later, wants=True)
    mailoutbox.clear()
    absence.delete()
    offer_time_of(absence)
    assert [m.to for m in mailoutbox if "earlier time" in m.subject] == [["later@example.com"]]


def test_the_calendar_file_keeps_its_uid_raises_its_sequence_and_cancels(
    phone_talk, doctor, clinic, mailoutbox
):
    booking = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(1, 9), as_=scheduling.CONFIRMED
    )
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(2, 9), as_=scheduling.CONFIRMED
    )
    services.cancel_booking(booking=booking, reason="Better now")

    def ics(message) -> str:
        content = message.attachments[0][1]
        return content if isinstance(content, str) else content.decode()

    first, moved, cancelled = (ics(m) for m in mailoutbox if m.attachments)
    uid = re.search(r"UID:(\S+)", first).group(1)
    assert re.search(r"UID:(\S+)", moved).group(1) == uid
    assert re.search(r"UID:(\S+)", cancelled).group(1) == uid
    assert "SEQUENCE:0" in first and "SEQUENCE:1" in moved and "SEQUENCE:2" in cancelled
    assert "METHOD:PUBLISH" in moved and "DTSTART;TZID=Europe/Copenhagen:20270113T090000" in moved
    assert "METHOD:CANCEL" in cancelled and "STATUS:CANCELLED" in cancelled


def test_a_cancelled_request_that_never_had_a_confirmed_time_sends_no_calendar_file(
    phone_talk, doctor, mailoutbox
):
    booking = BookingFactory(appointment_type=phone_talk, language="en")
    scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(1, 9), as_=scheduling.TENTATIVE
    )
    services.cancel_booking(booking=booking, reason="Better now")
    assert [m for m in mailoutbox if "cancelled" in m.subject]
    assert not [m for m in mailoutbox if m.attachments]


# --- Rules that must not be bypassed ----------------------------------------------------


def test_the_review_step_by_url_without_a_picked_time_goes_back_to_the_times(
    client, phone_talk, consent
):
    start_draft(client, phone_talk)
    client.post(url("about"), ABOUT)
    assert client.get(url("review"))["Location"] == url("when")
    response = client.post(url("review"), {"consent": "on", "consent_version": consent.pk})
    assert response["Location"] == url("when")
    assert Booking.objects.get().status == Booking.Status.DRAFT


@pytest.mark.parametrize(("minutes_later", "still_held"), [(14, True), (15, False)])
def test_a_hold_lasts_fifteen_minutes(client, phone_talk, doctor, minutes_later, still_held):
    start_draft(client, phone_talk)
    client.post(url("when"), {"time": pick(local(0, 10), doctor)})
    with time_machine.travel(NOW + timedelta(minutes=minutes_later), tick=False):
        starts = [s.start for s in scheduling.offered_times(appointment_type=phone_talk)]
    assert (local(0, 10) not in starts) is still_held


def test_the_waitlist_cannot_be_joined_once_online_changes_are_over(client, gold, doctor, clinic):
    booking = confirmed_gold(gold, doctor, day_offset=0, hour=11)  # within 24 hours
    client.post(private(booking, "private_waitlist"), {"wants_earlier": "1"})
    booking.refresh_from_db()
    assert not booking.wants_earlier
    assert private(booking, "private_waitlist") not in client.get(private(booking)).content.decode()


def test_a_booking_that_asked_for_a_period_is_not_moved_online(client, clinic):
    booking = BookingFactory(language="en")  # requested, no time
    assert (
        private(booking, "private_reschedule") not in client.get(private(booking)).content.decode()
    )
    response = client.post(private(booking, "private_reschedule"), {"time": "x"})
    assert response["Location"] == private(booking)
    booking.refresh_from_db()
    assert booking.starts_at is None
