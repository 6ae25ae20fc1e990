"""A booking's whole life in time travel, with a real SMTP server receiving the messages.

Request, confirmation, plan prepared, plan agreed, the reminders and the appointment,
across the October clock change: the server receives exactly the expected messages,
at the expected local times, in Danish, with no health words; a mail server that is
down for six hours loses nothing and sends nothing twice.
"""

import email
import json
from datetime import date, datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.urls import reverse

from booking import outbox, services
from booking.access import make_token
from booking.models import AppointmentType, Booking, PlanLine, PlannedMessage
from booking.tasks import send_booking_message
from tests.booking.conftest import free_port
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")
HEALTH_WORDS = [
    "gold", "guld", "implant", "neck", "nakke", "eliquis", "apixaban", "medicin",
    "blodfortyndende", "smerte", "røntgen", "mr-scanning", "ct-scanning",
]  # fmt: skip


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


class Inbox:
    """An SMTP server's mailbox that notes the local time each message arrived."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((datetime.now(CPH), message))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.BOOKING_QUIET_HOURS = (21, 8)
    controller.start()
    inbox.controllers = [controller]

    def restart():
        inbox.controllers.append(Controller(inbox, hostname="127.0.0.1", port=port))
        inbox.controllers[-1].start()

    inbox.restart = restart
    yield inbox
    inbox.controllers[-1].stop()


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def passes(start: datetime, end: datetime, step=timedelta(hours=1)):
    """The periodic pass, every `step` of real (UTC) time from start to end."""
    moment = start
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            outbox.run_pass()
        moment += step


def test_a_whole_booking_life_across_the_october_clock_change(smtp, clinic, client):
    gold = AppointmentTypeFactory(
        name_en="Gold implantation",
        name_da="Guldimplantation",
        imaging=AppointmentType.Imaging.REQUIRED,
        asks_about_blood_thinners=True,
        companion_required=True,
        duration_minutes=45,
    )
    eliquis = AnticoagulantFactory(brand="Eliquis", substance="apixaban", default_pause_days=2)
    reception = UserFactory(groups=["Reception"])
    doctor = UserFactory(groups=["Doctors"])
    practitioner = PractitionerFactory()

    # 20 Oct 09:00: the request is sent.
    with time_machine.travel(at(2027, 10, 20, 9), tick=False):
        booking = BookingFactory(
            appointment_type=gold,
            language="da",
            email="patient@example.com",
            painful_area="Nakke",
            takes_blood_thinners=Booking.Answer.YES,
            scan_date=date(2027, 5, 1),
            anticoagulants=[eliquis],
            earliest_date=date(2027, 11, 1),
            latest_date=date(2027, 11, 30),
        )
        send_booking_message(booking=booking, kind="received")
    passes(at(2027, 10, 20, 9, 5), at(2027, 10, 21, 10))

    # 21 Oct 10:30: reception confirms Wednesday 3 November 10:00 (after the clock change).
    with time_machine.travel(at(2027, 10, 21, 10, 30), tick=False):
        services.confirm_booking(
            booking=booking,
            practitioner=practitioner,
            starts_at=at(2027, 11, 3, 10),
            user=reception,
        )
    passes(at(2027, 10, 21, 11), at(2027, 10, 22, 10))

    # 22 Oct 11:00: reception prepares the plan; prepared dates are not agreement.
    line = {
        "anticoagulant": eliquis,
        "medicine_name": "",
        "action": PlanLine.Action.PAUSE,
        "last_dose_date": date(2027, 10, 31),
        "restart_date": date(2027, 11, 4),
    }
    with time_machine.travel(at(2027, 10, 22, 11), tick=False):
        booking.refresh_from_db()
        services.prepare_anticoagulant_plan(
            booking=booking, lines=[line], instructions="", user=reception
        )
    passes(at(2027, 10, 22, 12), at(2027, 10, 25, 10))

    # 25 Oct 11:00: a doctor agrees it; the plan's message goes out at once.
    with time_machine.travel(at(2027, 10, 25, 11), tick=False):
        booking.refresh_from_db()
        services.agree_anticoagulant_plan(
            booking=booking, lines=[line], instructions="", user=doctor
        )
    # 26 Oct 19:00: the patient confirms having read it.
    passes(at(2027, 10, 25, 12), at(2027, 10, 26, 18))
    with time_machine.travel(at(2027, 10, 26, 19), tick=False):
        read_url = reverse("booking:private_plan_read", kwargs={"token": make_token(booking)})
        client.post(read_url)
    booking.refresh_from_db()
    assert booking.plan_read_at == at(2027, 10, 26, 19)
    passes(at(2027, 10, 26, 20), at(2027, 11, 3, 11))

    # 3 Nov 12:00: treated; the restart day's message still comes.
    with time_machine.travel(at(2027, 11, 3, 12), tick=False):
        booking.refresh_from_db()
        services.mark_completed(booking=booking, user=reception)
    passes(at(2027, 11, 3, 13), at(2027, 11, 6, 12))

    got = [
        (moment.replace(second=0, microsecond=0), " ".join(message["Subject"].split()))
        for moment, message in smtp.received
    ]
    reference = booking.reference
    expected = [
        (at(2027, 10, 20, 9), f"Vi har modtaget din anmodning om en tid ({reference})"),
        (at(2027, 10, 21, 10, 30), f"Din tid er bekræftet ({reference})"),
        (at(2027, 10, 23, 10), f"Vi venter på dine billeder ({reference})"),
        (at(2027, 10, 25, 11), f"Din plan for dagene før behandlingen er klar ({reference})"),
        (at(2027, 10, 27, 10), f"Vi venter på dine billeder ({reference})"),
        (at(2027, 10, 31, 10), f"En dato i din plan ({reference})"),
        (at(2027, 10, 31, 10), f"Hvem kører dig hjem? ({reference})"),
        (at(2027, 11, 2, 10), f"Din tid i morgen ({reference})"),
        (at(2027, 11, 4, 8), f"En dato i din plan ({reference})"),
    ]
    assert sorted(got) == sorted(expected)
    bodies = [body_of(message) for _moment, message in smtp.received]
    for _moment, message in smtp.received:
        text = " ".join(
            [message["Subject"], body_of(message), message.get_body(("html",)).get_content()]
        ).lower()
        for word in HEALTH_WORDS:
            assert word not in text, f"{word!r} in {message['Subject']!r}"
        assert "/da/" in text  # the private link, in Danish
    # Absolute dates, never "tomorrow" alone.
    assert any("I morgen, mandag 1. november 2027" in body for body in bodies)
    assert any("I dag, torsdag 4. november 2027" in body for body in bodies)
    assert any("onsdag 3. november 2027, kl. 10:00" in body for body in bodies)
    assert not PlannedMessage.objects.filter(status__in=["failed", "unknown", "sending"]).exists()
    assert not booking.phone_tasks.exists()  # read in time, every safety message sent


def test_a_mail_server_down_for_six_hours_loses_nothing_and_sends_nothing_twice(smtp, clinic):
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        bookings = [BookingFactory(language="da") for _ in range(3)]
    smtp.controllers[0].stop()  # the mail server goes down
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        for booking in bookings:
            send_booking_message(booking=booking, kind="received")
            send_booking_message(booking=booking, kind="news")
    passes(at(2027, 3, 1, 9, 5), at(2027, 3, 1, 15), step=timedelta(minutes=5))
    assert smtp.received == []
    waiting = PlannedMessage.objects.filter(kind__in=["received", "news"])
    assert {row.status for row in waiting} == {"planned"}
    assert min(row.attempts for row in waiting) >= 8
    smtp.restart()  # back after six hours
    passes(at(2027, 3, 1, 15, 5), at(2027, 3, 1, 17), step=timedelta(minutes=5))
    subjects = sorted(message["Subject"] for moment, message in smtp.received)
    assert len(subjects) == 6 and len(set(subjects)) == 6
    assert {row.status for row in waiting.all()} == {"sent"}


def test_sms_goes_out_through_the_local_gateway_and_a_down_gateway_is_retried(
    smtp, clinic, gateway
):
    """The patient chose both: e-mail, and a text through the HTTP gateway, retried like mail."""
    gateway.status = 503  # the gateway is down at first
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        booking = BookingFactory(
            language="da", contact_channel=Booking.Channel.BOTH, phone="20 30 40 50"
        )
        send_booking_message(booking=booking, kind="received")
    text_row = PlannedMessage.objects.get(booking=booking, kind="received", channel="sms")
    assert text_row.status == "planned" and "503" in text_row.last_error
    assert len(smtp.received) == 1  # the e-mail went out anyway
    gateway.status = 202
    passes(at(2027, 3, 1, 9, 1), at(2027, 3, 1, 9, 30), step=timedelta(minutes=1))
    text_row.refresh_from_db()
    assert text_row.status == "sent" and text_row.attempts == 2
    assert len(gateway.received) == 2
    sent = json.loads(gateway.received[-1]["body"])
    assert sent["to"] == "+4520304050" and sent["from"] == "Egebaek"
    assert booking.reference in sent["text"] and "/da/" in sent["text"]
    assert sent["text"].startswith("Testklinikken: Vi har modtaget din anmodning om en tid")
