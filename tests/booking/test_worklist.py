"""The staff work list by role, the messages on a booking, sending again and phone calls."""

import re
from datetime import date, datetime, time, timedelta
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone, translation

from booking import worklist
from booking.models import Booking, MessageKind, MessagePass, PhoneTask, PlannedMessage
from tests.booking.factories import BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
MessageStatus = PlannedMessage.Status
TODAY = date(2026, 3, 2)
NOW = timezone.make_aware(datetime.combine(TODAY, time(9)))
WORKLIST = "/admin/booking/worklist/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
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
def reception_user():
    return UserFactory(groups=["Reception"])


@pytest.fixture
def doctor_user():
    return UserFactory(groups=["Doctors"])


@pytest.fixture
def viewer_user():
    """Staff who may look at bookings but not change them."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_booking"))
    return user


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def booking(status=Status.CONFIRMED, days=10, **fields):
    starts = NOW + timedelta(days=days)
    return BookingFactory(
        status=status,
        practitioner=PractitionerFactory(),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        **fields,
    )


def message(booking, kind=MessageKind.PLAN_READY, status=MessageStatus.FAILED, **fields):
    row = {
        "channel": PlannedMessage.Channel.EMAIL,
        "key": f"test-{kind}-{status}",
        "due_at": NOW - timedelta(hours=1),
        "send_after": NOW - timedelta(hours=1),
        "attempts": 3,
        "last_error": "550 mailbox unavailable",
    }
    return PlannedMessage.objects.create(
        booking=booking, kind=kind, status=status, **(row | fields)
    )


def section(sections, key):
    return next(found for found in sections if found.key == key)


def references(found) -> set[str]:
    items = found.items
    return {getattr(item, "booking", item).reference for item in items}


# --- What each section holds --------------------------------------------------------------


def test_times_to_confirm_are_the_tentative_bookings(reception_user):
    waiting = booking(Status.TENTATIVE)
    booking(Status.REQUESTED)
    booking(Status.CONFIRMED)
    found = section(worklist.worklist(reception_user), worklist.TO_CONFIRM)
    assert references(found) == {waiting.reference}


def test_phone_calls_are_the_open_tasks(reception_user):
    open_task = PhoneTask.objects.create(
        booking=booking(), reason=PhoneTask.Reason.MESSAGE_FAILED, key="a"
    )
    PhoneTask.objects.create(
        booking=booking(), reason=PhoneTask.Reason.PLAN_UNREAD, key="b", done_at=NOW
    )
    found = section(worklist.worklist(reception_user), worklist.PHONE_TASKS)
    assert found.items == [open_task]


def test_failed_or_unknown_safety_messages_are_listed_and_no_others(reception_user):
    failed = message(booking(), MessageKind.PLAN_READY, MessageStatus.FAILED)
    unknown = message(booking(), MessageKind.PAUSE_EVE, MessageStatus.UNKNOWN)
    message(booking(), MessageKind.DAY_BEFORE, MessageStatus.FAILED)  # only a reminder
    message(booking(), MessageKind.RESTART, MessageStatus.SENT)
    message(booking(), MessageKind.RESTART, MessageStatus.PLANNED)
    found = section(worklist.worklist(reception_user), worklist.FAILED_MESSAGES)
    assert set(found.items) == {failed, unknown}


def test_agreed_plans_the_patient_has_not_read_come_nearest_last_dose_first(reception_user):
    agreed = {"plan_agreed_at": NOW, "restart_date": TODAY + timedelta(days=12)}
    later = booking(last_dose_date=TODAY + timedelta(days=5), **agreed)
    sooner = booking(last_dose_date=TODAY + timedelta(days=2), **agreed)
    booking(last_dose_date=TODAY + timedelta(days=2), plan_read_at=NOW, **agreed)
    booking(Status.CANCELLED, last_dose_date=TODAY + timedelta(days=2), **agreed)
    booking(last_dose_date=TODAY + timedelta(days=2), plan_prepared_by=reception_user)
    found = section(worklist.worklist(reception_user), worklist.UNREAD_PLANS)
    assert [item.reference for item in found.items] == [sooner.reference, later.reference]


def test_plans_to_agree_are_prepared_and_not_agreed(doctor_user, reception_user):
    prepared = booking(plan_prepared_by=reception_user, last_dose_date=TODAY)
    booking(plan_prepared_by=reception_user, plan_agreed_at=NOW, plan_agreed_by=doctor_user)
    booking(Status.CANCELLED, plan_prepared_by=reception_user)
    booking()
    found = section(worklist.worklist(doctor_user), worklist.PLANS_TO_AGREE)
    assert references(found) == {prepared.reference}


# --- Who sees what --------------------------------------------------------------------------


def test_reception_sees_all_but_the_plans_to_agree(reception_user):
    keys = [found.key for found in worklist.worklist(reception_user)]
    assert keys == ["to_confirm", "phone_tasks", "failed_messages", "unread_plans"]


def test_doctors_see_the_plans_to_agree_and_the_phone_calls(doctor_user):
    keys = [found.key for found in worklist.worklist(doctor_user)]
    assert keys == ["plans_to_agree", "phone_tasks"]


def test_someone_with_both_roles_sees_everything(admin_user):
    keys = [found.key for found in worklist.worklist(admin_user)]
    assert keys[0] == "plans_to_agree" and len(keys) == 5


def test_the_page_by_role(client, reception_user, doctor_user, viewer_user):
    prepared = booking(plan_prepared_by=reception_user, name="Pia Prepared")
    waiting = booking(Status.TENTATIVE, name="Tina Tentative")
    page = text(logged_in(client, reception_user).get(WORKLIST))
    assert waiting.reference in page and prepared.reference not in page
    page = text(logged_in(client, doctor_user).get(WORKLIST))
    assert prepared.reference in page and waiting.reference not in page
    assert logged_in(client, viewer_user).get(WORKLIST).status_code == 403
    assert logged_in(client, UserFactory()).get(WORKLIST).status_code == 403


def test_the_booking_list_links_to_the_work_list(client, reception_user):
    page = text(logged_in(client, reception_user).get(reverse("admin:booking_booking_changelist")))
    assert f'href="{WORKLIST}"' in page


# --- The periodic pass ------------------------------------------------------------------------


def test_a_late_pass_is_a_warning_on_the_work_list_and_the_booking_list(client, reception_user):
    reception = logged_in(client, reception_user)
    MessagePass.objects.create(pk=1, finished_at=NOW - timedelta(minutes=10))
    assert "Messages to patients: last pass" in text(reception.get(WORKLIST))
    for url in (WORKLIST, reverse("admin:booking_booking_changelist")):
        assert "are not going out" not in text(reception.get(url))
    MessagePass.objects.filter(pk=1).update(finished_at=NOW - timedelta(minutes=16))
    for url in (WORKLIST, reverse("admin:booking_booking_changelist")):
        assert "Messages to patients are not going out (last pass" in text(reception.get(url))


def test_no_pass_yet_is_a_warning_too(client, reception_user):
    page = text(logged_in(client, reception_user).get(WORKLIST))
    assert "no pass has run yet" in page


# --- Sending again ----------------------------------------------------------------------------


def send_again_url(message):
    return reverse("admin:booking_booking_send_again", args=[message.booking_id, message.pk])


def test_the_booking_page_lists_its_messages_with_send_again_for_failed_ones(
    client, reception_user
):
    patient = booking()
    failed = message(patient, MessageKind.PLAN_READY, MessageStatus.FAILED)
    done = message(patient, MessageKind.RESTART, MessageStatus.SENT, sent_at=NOW)
    page = text(
        logged_in(client, reception_user).get(
            reverse("admin:booking_booking_change", args=[patient.pk])
        )
    )
    assert 'id="booking-messages"' in page
    assert "Plan ready" in page and "550 mailbox unavailable" in page
    assert f'formaction="{send_again_url(failed)}"' in page
    assert f'formaction="{send_again_url(done)}"' not in page


def test_send_again_plans_a_failed_message_now(client, reception_user):
    failed = message(booking())
    reception = logged_in(client, reception_user)
    assert reception.get(send_again_url(failed)).status_code == 405
    response = reception.post(send_again_url(failed))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status != MessageStatus.FAILED
    assert failed.last_error == "" or failed.status == MessageStatus.SENT


def test_a_sent_message_is_not_sent_again(client, reception_user):
    done = message(booking(), status=MessageStatus.SENT, sent_at=NOW)
    response = logged_in(client, reception_user).post(send_again_url(done), follow=True)
    assert "Only a failed message" in text(response)
    done.refresh_from_db()
    assert done.status == MessageStatus.SENT and done.attempts == 3


def test_only_staff_who_change_bookings_send_again(client, viewer_user):
    failed = message(booking())
    assert logged_in(client, viewer_user).post(send_again_url(failed)).status_code == 403
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_the_message_list_is_read_only_with_failed_and_unknown_first(client, reception_user):
    patient = booking()
    unknown = message(patient, MessageKind.PAUSE_EVE, MessageStatus.UNKNOWN)
    # Due later and planned later: only its status puts it below the unknown one.
    planned = message(
        patient, MessageKind.DAY_BEFORE, MessageStatus.PLANNED, due_at=NOW + timedelta(days=1)
    )
    reception = logged_in(client, reception_user)
    response = reception.get(reverse("admin:booking_plannedmessage_changelist"))
    shown = list(response.context["cl"].result_list)
    assert shown.index(unknown) < shown.index(planned)
    assert reception.get(reverse("admin:booking_plannedmessage_add")).status_code == 403
    change = reception.post(
        reverse("admin:booking_plannedmessage_change", args=[planned.pk]), {"status": "sent"}
    )
    assert change.status_code == 403
    planned.refresh_from_db()
    assert planned.status == MessageStatus.PLANNED


def test_the_send_again_action_needs_the_change_permission(client, reception_user, viewer_user):
    failed = message(booking())
    data = {"action": "send_again", "_selected_action": [failed.pk]}
    url = reverse("admin:booking_plannedmessage_changelist")
    logged_in(client, viewer_user).post(url, data)
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED
    logged_in(client, reception_user).post(url, data)
    failed.refresh_from_db()
    assert failed.status != MessageStatus.FAILED


# --- Phone calls ------------------------------------------------------------------------------


def test_marking_a_call_done_records_who_and_when(client, reception_user, doctor_user):
    task = PhoneTask.objects.create(booking=booking(), reason=PhoneTask.Reason.PLAN_LATE, key="a")
    url = reverse("admin:booking_phonetask_changelist")
    data = {"action": "mark_done", "_selected_action": [task.pk]}
    logged_in(client, reception_user).post(url, data)
    task.refresh_from_db()
    assert task.done_by == reception_user and task.done_at == NOW
    # Done once: a second click does not change who made the call.
    logged_in(client, doctor_user).post(url, data)
    task.refresh_from_db()
    assert task.done_by == reception_user


def test_only_staff_who_change_bookings_mark_calls_done(client, viewer_user):
    task = PhoneTask.objects.create(booking=booking(), reason=PhoneTask.Reason.PLAN_LATE, key="a")
    viewer = logged_in(client, viewer_user)
    response = viewer.get(reverse("admin:booking_phonetask_changelist"))
    assert response.status_code == 200 and "mark_done" not in text(response)
    viewer.post(
        reverse("admin:booking_phonetask_changelist"),
        {"action": "mark_done", "_selected_action": [task.pk]},
    )
    task.refresh_from_db()
    assert task.done_at is None and task.done_by is None
