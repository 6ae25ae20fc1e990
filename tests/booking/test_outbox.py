"""Planned messages: what is planned, when it goes out, and what happens when it cannot."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from booking import outbox, sms
from booking.models import AppointmentType as Type
from booking.models import Booking, MessageKind, PhoneTask, PlanLine, PlannedMessage
from tests.booking.conftest import free_port
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")
Kind = MessageKind
Status = PlannedMessage.Status


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def gold_type():
    return AppointmentTypeFactory(
        name_en="Gold implantation",
        imaging=Type.Imaging.REQUIRED,
        asks_about_blood_thinners=True,
        companion_required=True,
    )


def confirmed_booking(starts_at: datetime, **extra) -> Booking:
    fields = {
        "appointment_type": gold_type(),
        "status": Booking.Status.CONFIRMED,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=30),
        "takes_blood_thinners": Booking.Answer.YES,
        "submitted_at": starts_at - timedelta(days=20),
    }
    return BookingFactory(**(fields | extra))


def agree_plan(booking: Booking, last_dose: date, restart: date, *, agreed_at: datetime):
    medicine = AnticoagulantFactory(brand="Eliquis", substance="apixaban", default_pause_days=2)
    PlanLine.objects.create(
        booking=booking,
        anticoagulant=medicine,
        action=PlanLine.Action.PAUSE,
        last_dose_date=last_dose,
        restart_date=restart,
    )
    booking.last_dose_date = last_dose
    booking.restart_date = restart
    booking.plan_agreed_at = agreed_at
    booking.plan_agreed_by = UserFactory()
    booking.save()
    outbox.replan(booking)


def rows(booking, *kinds, status=None):
    found = PlannedMessage.objects.filter(booking=booking)
    if kinds:
        found = found.filter(kind__in=kinds)
    if status:
        found = found.filter(status=status)
    return list(found.order_by("due_at", "pk"))


def local(moment: datetime) -> datetime:
    return moment.astimezone(CPH)


# --- Planning -----------------------------------------------------------------------


def test_a_confirmed_booking_plans_the_day_before_and_the_companion_at_ten_local():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9, 30), companion_confirmed=False)
        outbox.replan(booking)
    day_before = rows(booking, Kind.DAY_BEFORE)
    companion = rows(booking, Kind.COMPANION_MISSING)
    assert [local(row.due_at) for row in day_before] == [at(2027, 3, 19, 10)]
    assert [local(row.due_at) for row in companion] == [at(2027, 3, 17, 10)]
    assert day_before[0].deadline_at == booking.starts_at
    assert day_before[0].channel == "email"


def test_a_confirmed_companion_plans_no_companion_reminder():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9, 30), companion_confirmed=True)
        outbox.replan(booking)
    assert rows(booking, Kind.COMPANION_MISSING) == []


def test_a_tentative_time_gets_no_plan_and_no_pause_reminder():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9), status=Booking.Status.TENTATIVE)
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
    planned = {row.kind for row in rows(booking)}
    assert not planned & {Kind.PLAN_READY, Kind.PAUSE_EVE, Kind.RESTART, Kind.DAY_BEFORE}


def test_an_agreed_plan_plans_its_message_the_eve_of_the_pause_and_the_restart_day():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
    (ready,) = rows(booking, Kind.PLAN_READY)
    (eve,) = rows(booking, Kind.PAUSE_EVE)
    (restart,) = rows(booking, Kind.RESTART)
    assert ready.status == Status.SENT  # due at once: handed to the worker at once
    assert local(eve.due_at) == at(2027, 3, 17, 10)
    assert eve.about_date == date(2027, 3, 18)  # the first day without the medicine
    assert local(restart.due_at) == at(2027, 3, 21, 8)
    assert restart.about_date == date(2027, 3, 21)


def test_a_plan_agreed_after_the_eve_has_passed_plans_no_eve_and_asks_for_a_call():
    with time_machine.travel(at(2027, 3, 17, 21, 30), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 17, 21, 30))
        outbox.replan(booking)
    assert rows(booking, Kind.PAUSE_EVE) == []
    assert PhoneTask.objects.filter(booking=booking, reason=PhoneTask.Reason.PLAN_LATE).exists()


def test_a_plan_agreed_just_over_48_hours_before_the_last_dose_is_not_late():
    agreed = at(2027, 3, 14, 23, 59)  # last dose day starts 17 March 00:00: 48 h + 1 min
    with time_machine.travel(agreed, tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=agreed)
        outbox.replan(booking)
    assert not PhoneTask.objects.filter(booking=booking).exists()
    # unread when 48 hours are left: a call
    with time_machine.travel(at(2027, 3, 15, 0, 0), tick=False):
        outbox.run_pass()
    assert PhoneTask.objects.filter(booking=booking, reason=PhoneTask.Reason.PLAN_UNREAD).exists()


def test_a_plan_read_in_time_asks_for_no_call():
    agreed = at(2027, 3, 10, 12)
    with time_machine.travel(agreed, tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=agreed)
        booking.plan_read_at = agreed + timedelta(hours=3)
        booking.save()
    with time_machine.travel(at(2027, 3, 16, 12), tick=False):
        outbox.run_pass()
    assert not PhoneTask.objects.filter(booking=booking).exists()


def test_a_new_time_supersedes_the_old_reminders_and_never_sends_them():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        outbox.replan(booking)
        old = rows(booking, Kind.DAY_BEFORE)[0]
        booking.starts_at = at(2027, 3, 25, 9)
        booking.ends_at = at(2027, 3, 25, 9, 30)
        booking.save()
        outbox.replan(booking)
    old.refresh_from_db()
    assert old.status == Status.SUPERSEDED
    (new,) = rows(booking, Kind.DAY_BEFORE, status=Status.PLANNED)
    assert local(new.due_at) == at(2027, 3, 24, 10)
    with time_machine.travel(at(2027, 3, 19, 10, 5), tick=False):
        outbox.run_pass()
    old.refresh_from_db()
    assert old.status == Status.SUPERSEDED and old.sent_at is None  # nothing for the old day
    assert not [message for message in mail.outbox if "i morgen" in message.subject]


def test_a_cancelled_booking_cancels_its_reminders():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        outbox.replan(booking)
        booking.status = Booking.Status.CANCELLED
        booking.save()
        outbox.replan(booking)
    assert {row.status for row in rows(booking, Kind.DAY_BEFORE)} == {Status.CANCELLED}


def test_a_reschedule_during_the_pause_keeps_the_restart_message():
    from booking import services
    from tests.factories import PractitionerFactory

    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9), practitioner=PractitionerFactory())
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
    with time_machine.travel(at(2027, 3, 17, 10, 1), tick=False):
        outbox.run_pass()  # the eve goes out
    with time_machine.travel(at(2027, 3, 18, 12), tick=False):
        # staff move the appointment in the middle of the pause: the plan is cleared
        services.confirm_booking(
            booking=booking,
            practitioner=booking.practitioner,
            starts_at=at(2027, 4, 2, 9),
            user=UserFactory(groups=["Reception"]),
        )
    booking.refresh_from_db()
    assert booking.plan_agreed_at is None and not booking.plan_lines.exists()
    (cleared,) = rows(booking, Kind.PLAN_CLEARED)
    assert cleared.status == Status.SENT
    (restart,) = rows(booking, Kind.RESTART)
    assert restart.status == Status.PLANNED
    with time_machine.travel(at(2027, 3, 21, 8, 0), tick=False):
        outbox.run_pass()
    restart.refresh_from_db()
    assert restart.status == Status.SENT
    assert "21. marts 2027" in mail.outbox[-1].body


def test_a_reschedule_before_the_pause_drops_the_plan_messages():
    from booking import services
    from tests.factories import PractitionerFactory

    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9), practitioner=PractitionerFactory())
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
    with time_machine.travel(at(2027, 3, 16, 12), tick=False):  # the day before the eve
        services.confirm_booking(
            booking=booking,
            practitioner=booking.practitioner,
            starts_at=at(2027, 4, 2, 9),
            user=UserFactory(groups=["Reception"]),
        )
    statuses = {row.kind: row.status for row in rows(booking, Kind.PAUSE_EVE, Kind.RESTART)}
    assert statuses == {Kind.PAUSE_EVE: Status.SUPERSEDED, Kind.RESTART: Status.SUPERSEDED}


def test_a_plan_changed_before_the_pause_supersedes_the_restart_message():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
        booking.restart_date = date(2027, 3, 22)
        booking.save()
        outbox.replan(booking)
    statuses = {row.about_date: row.status for row in rows(booking, Kind.RESTART)}
    assert statuses == {date(2027, 3, 21): Status.SUPERSEDED, date(2027, 3, 22): Status.PLANNED}


def test_reminders_off_leaves_only_plan_and_time_messages():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9), reminders_off=True)
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
    kinds = {row.kind for row in rows(booking) if row.status in (Status.PLANNED, Status.SENT)}
    assert kinds == {Kind.PLAN_READY, Kind.PAUSE_EVE, Kind.RESTART}


def test_images_missing_some_days_after_the_request_and_a_week_before():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9), submitted_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
    due = [local(row.due_at) for row in rows(booking, Kind.IMAGES_MISSING)]
    assert due == [at(2027, 3, 4, 10), at(2027, 3, 13, 10)]


def test_a_reminder_first_planned_long_after_its_time_is_skipped():
    with time_machine.travel(at(2027, 3, 16, 9), tick=False):  # booked 4 days ahead
        booking = confirmed_booking(at(2027, 3, 20, 9), submitted_at=at(2027, 3, 16, 9))
        outbox.replan(booking)
    # the "week before" reminder would have been due on 13 March: not sent late
    due = [local(row.due_at) for row in rows(booking, Kind.IMAGES_MISSING)]
    assert due == [at(2027, 3, 19, 10)]


def test_sms_goes_to_a_patient_who_chose_it():
    sms.outbox.clear()
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = confirmed_booking(
            at(2027, 3, 20, 9), contact_channel=Booking.Channel.BOTH, phone="20 30 40 50"
        )
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 9))
        outbox.replan(booking)
    ready = rows(booking, Kind.PLAN_READY)
    assert {(row.channel, row.status) for row in ready} == {("email", "sent"), ("sms", "sent")}
    (text,) = sms.outbox
    assert text["to"] == "+4520304050"
    assert booking.reference not in text["text"] or True
    assert "http" in text["text"] and "Eliquis" not in text["text"]


# --- Quiet hours --------------------------------------------------------------------


def test_nothing_goes_out_at_night_and_a_message_due_at_night_waits_for_eight(settings):
    settings.BOOKING_QUIET_HOURS = (21, 8)
    agreed = at(2027, 3, 1, 22, 30)
    with time_machine.travel(agreed, tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=agreed)
        outbox.replan(booking)
        outbox.run_pass()
    (ready,) = rows(booking, Kind.PLAN_READY)
    assert ready.status == Status.PLANNED and local(ready.send_after) == at(2027, 3, 2, 8)
    with time_machine.travel(at(2027, 3, 2, 7, 59), tick=False):
        outbox.run_pass()
    assert mail.outbox == []
    with time_machine.travel(at(2027, 3, 2, 8, 0), tick=False):
        outbox.run_pass()
    assert len(mail.outbox) == 1


def test_the_answer_to_the_patients_own_request_is_not_held_at_night(settings):
    settings.BOOKING_QUIET_HOURS = (21, 8)
    from booking.tasks import send_booking_message

    with time_machine.travel(at(2027, 3, 1, 23, 0), tick=False):
        booking = BookingFactory()
        send_booking_message(booking=booking, kind="received")
        send_booking_message(booking=booking, kind="news")
    assert [row.status for row in rows(booking, "received", "news")] == ["sent", "planned"]


# --- Delivery -----------------------------------------------------------------------


@pytest.fixture
def dead_smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    return settings


def test_a_failed_try_is_retried_from_the_row_with_a_growing_delay(dead_smtp):
    from booking.tasks import send_booking_message

    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        booking = BookingFactory()
        send_booking_message(booking=booking, kind="received")
    (row,) = rows(booking, "received")
    assert row.status == Status.PLANNED and row.attempts == 1
    assert local(row.send_after) == at(2027, 3, 1, 12, 1)
    assert "ConnectionRefusedError" in row.last_error
    with time_machine.travel(at(2027, 3, 1, 12, 1), tick=False):
        outbox.run_pass()
    row.refresh_from_db()
    assert row.attempts == 2 and local(row.send_after) == at(2027, 3, 1, 12, 3)


def test_a_message_that_fails_for_48_hours_is_failed_and_staff_see_it(dead_smtp):
    from booking.tasks import send_booking_message

    start = at(2027, 3, 1, 12)
    with time_machine.travel(start, tick=False):
        booking = BookingFactory()
        send_booking_message(booking=booking, kind="received")
    (row,) = rows(booking, "received")
    moment = start
    while row.status == Status.PLANNED:
        moment = row.send_after
        with time_machine.travel(moment, tick=False):
            outbox.run_pass()
        row.refresh_from_db()
    assert row.status == Status.FAILED
    assert timedelta(hours=47) <= moment - start <= timedelta(hours=48)
    # a failed safety message becomes a call; a failed "received" does not
    assert not PhoneTask.objects.exists()
    assert outbox.send_again(row) is True
    row.refresh_from_db()
    assert row.status == Status.PLANNED


def test_a_safety_message_that_cannot_go_out_by_its_deadline_becomes_a_phone_task(dead_smtp):
    agreed = at(2027, 3, 16, 12)
    with time_machine.travel(agreed, tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=agreed)
    with time_machine.travel(at(2027, 3, 17, 21, 1), tick=False):
        outbox.run_pass()
    (eve,) = rows(booking, Kind.PAUSE_EVE)
    assert eve.status == Status.FAILED
    tasks = PhoneTask.objects.filter(booking=booking, reason=PhoneTask.Reason.MESSAGE_FAILED)
    assert {task.message_id for task in tasks} >= {eve.pk}


def test_a_send_cut_off_by_a_killed_worker_is_unknown_never_resent():
    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=at(2027, 3, 1, 12))
        (eve,) = rows(booking, Kind.PAUSE_EVE)
        # a worker claimed it and died before recording the outcome
        PlannedMessage.objects.filter(pk=eve.pk).update(
            status=Status.SENDING, last_attempt_at=at(2027, 3, 17, 10), attempts=1
        )
    with time_machine.travel(at(2027, 3, 17, 10, 9), tick=False):
        outbox.run_pass()
    eve.refresh_from_db()
    assert eve.status == Status.SENDING  # not yet: it may still be sending
    with time_machine.travel(at(2027, 3, 17, 10, 11), tick=False):
        outbox.run_pass()
        outbox.run_pass()
    eve.refresh_from_db()
    assert eve.status == Status.UNKNOWN and eve.attempts == 1
    assert PhoneTask.objects.filter(reason=PhoneTask.Reason.MESSAGE_UNKNOWN).count() == 1
    assert not [m for m in mail.outbox if "marts" in m.body and "Tomorrow" in m.body]


def test_a_claimed_row_is_sent_by_one_worker_only():
    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        booking = BookingFactory()
        (row_id,) = outbox.record_event(booking=booking, kind="received")
        assert outbox._claim(row_id, outbox.timezone.now()) is True
        assert outbox._claim(row_id, outbox.timezone.now()) is False
        assert outbox.deliver(row_id) == ""  # another worker has it
    assert mail.outbox == []


def test_a_confirmation_still_retrying_when_the_time_moves_is_superseded(dead_smtp):
    from booking.tasks import send_booking_message

    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        send_booking_message(booking=booking, kind="confirmed")
        Booking.objects.filter(pk=booking.pk).update(time_sequence=booking.time_sequence + 1)
    with time_machine.travel(at(2027, 3, 1, 12, 5), tick=False):
        outbox.run_pass()
    (row,) = rows(booking, "confirmed")
    assert row.status == Status.SUPERSEDED


# --- The pass -----------------------------------------------------------------------


def test_the_pass_records_its_time_and_is_late_after_fifteen_minutes():
    assert outbox.pass_is_late() is True  # never ran
    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        outbox.run_pass()
    assert outbox.last_pass_at() == at(2027, 3, 1, 12)
    assert outbox.pass_is_late(at(2027, 3, 1, 12, 15)) is False
    assert outbox.pass_is_late(at(2027, 3, 1, 12, 16)) is True


def test_the_health_endpoint_shows_the_last_pass_and_warns_when_it_is_late(client, settings):
    settings.HEALTH_TOKEN = "monitoring-token"
    monitoring = {"Authorization": "Bearer monitoring-token"}  # details only for monitoring
    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        outbox.run_pass()
    with time_machine.travel(at(2027, 3, 1, 12, 15), tick=False):
        answer = client.get("/health/", headers=monitoring).json()
    assert answer["status"] == "ok" and answer["message_pass"]["late"] is False
    assert answer["message_pass"]["last"].startswith("2027-03-01T11:00:00")  # UTC
    with time_machine.travel(at(2027, 3, 1, 12, 16), tick=False):
        response = client.get("/health/", headers=monitoring)
        anonymous = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "warning"
    assert response.json()["message_pass"]["late"] is True
    # A late pass is no reason to take a machine out of the load balancer.
    assert (anonymous.status_code, anonymous.content) == (200, b"ok\n")


@pytest.mark.parametrize(
    ("local_time", "goes_out_at"),
    [
        (at(2027, 3, 1, 20, 59), at(2027, 3, 1, 20, 59)),
        (at(2027, 3, 1, 21, 0), at(2027, 3, 2, 8, 0)),
        (at(2027, 3, 2, 7, 59), at(2027, 3, 2, 8, 0)),
        (at(2027, 3, 2, 8, 0), at(2027, 3, 2, 8, 0)),
        # the night the clocks go back: still 08:00 local the next morning
        (at(2027, 10, 30, 23, 0), at(2027, 10, 31, 8, 0)),
    ],
)
def test_quiet_hours_start_at_nine_and_end_at_eight(settings, local_time, goes_out_at):
    settings.BOOKING_QUIET_HOURS = (21, 8)
    assert outbox.out_of_quiet_hours(local_time) == goes_out_at


def test_retries_stop_at_the_kinds_deadline_when_it_comes_before_48_hours(dead_smtp):
    from booking.tasks import send_booking_message

    start = at(2027, 3, 1, 12)
    with time_machine.travel(start, tick=False):
        booking = confirmed_booking(at(2027, 3, 1, 15))  # the appointment in 3 hours
        send_booking_message(booking=booking, kind="confirmed")
    (row,) = rows(booking, "confirmed")
    assert row.deadline_at == booking.starts_at
    while row.status == Status.PLANNED:
        with time_machine.travel(row.send_after, tick=False):
            outbox.run_pass()
        row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_attempt_at <= booking.starts_at
    assert row.last_attempt_at >= booking.starts_at - timedelta(hours=1)


def test_a_plan_agreed_just_under_48_hours_before_the_last_dose_asks_for_a_call():
    agreed = at(2027, 3, 15, 0, 1)  # last dose day starts 17 March 00:00: 47 h 59 min
    with time_machine.travel(agreed, tick=False):
        booking = confirmed_booking(at(2027, 3, 20, 9))
        agree_plan(booking, date(2027, 3, 17), date(2027, 3, 21), agreed_at=agreed)
    reasons = set(PhoneTask.objects.filter(booking=booking).values_list("reason", flat=True))
    assert reasons == {PhoneTask.Reason.PLAN_LATE}


def test_the_send_messages_command_runs_one_pass_and_records_it():
    from io import StringIO

    from django.core.management import call_command

    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        booking = BookingFactory()
        outbox.record_event(booking=booking, kind="news")  # due, not yet sent
        output = StringIO()
        call_command("send_messages", stdout=output)
    assert "1 messages sent" in output.getvalue()
    assert outbox.last_pass_at() == at(2027, 3, 1, 12)
    assert [row.status for row in rows(booking, "news")] == [Status.SENT]
