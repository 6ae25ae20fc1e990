"""E-mails about bookings: the patient's language, no health details, real SMTP."""

import email
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from booking.emails import KINDS
from booking.models import Booking, PlannedMessage
from booking.tasks import send_booking_message
from clinic.models import ClinicDetails, ConsentText
from tests.booking.conftest import free_port
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.conditions.factories import ConditionFactory
from tests.factories import ConsentTextFactory

pytestmark = pytest.mark.django_db

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Words that would give away a health detail or the treatment.
HEALTH_WORDS = [
    "gold",
    "guld",
    "implant",
    "neck",
    "nakke",
    "marevan",
    "warfarin",
    "smerte",
    "pain",
    "x-ray",
    "scan",
    "blood",
    "blod",
    "medicine",
    "medicin",
]


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken",
        phone="+45 70 20 30 40",
        email="clinic@example.com",
        street_address="Kildevej 1",
        postal_code="8000",
        city="Aarhus C",
    )


@pytest.fixture
def sensitive_booking(clinic):
    """A booking full of health details that must never leave in an e-mail."""
    condition = ConditionFactory(name_en="Neck pain", name_da="Nakkesmerter")
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    booking = BookingFactory(
        language="da",
        appointment_type=AppointmentTypeFactory(
            name_da="Guldimplantation", name_en="Gold implantation"
        ),
        condition=condition,
        painful_area="Nakke",
        takes_blood_thinners=Booking.Answer.YES,
        other_medicine="Marevan",
        scan_body_area="Nakke",
        anticoagulants=[warfarin],
    )
    return booking


def confirm(booking):
    booking.status = Booking.Status.CONFIRMED
    booking.starts_at = datetime(2030, 3, 14, 9, 30, tzinfo=COPENHAGEN)
    booking.ends_at = booking.starts_at + timedelta(minutes=45)
    booking.save()
    return booking


def full_text(message) -> str:
    """Subject, plain text, HTML and attachments of a Django EmailMessage, lower-cased."""
    parts = [message.subject, message.body]
    parts += [content for content, _mime in getattr(message, "alternatives", [])]
    parts += [
        content.decode() if isinstance(content, bytes) else str(content)
        for _name, content, _mime in message.attachments
    ]
    return "\n".join(parts).lower()


def assert_no_health_words(text: str):
    for word in HEALTH_WORDS:
        assert word not in text, f"{word!r} in an e-mail"


@pytest.mark.parametrize("kind", KINDS)
def test_no_email_carries_health_details(sensitive_booking, mailoutbox, kind):
    if kind == "confirmed":
        confirm(sensitive_booking)
    send_booking_message(booking=sensitive_booking, kind=kind, site_url="https://clinic.test")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert_no_health_words(full_text(message))
    assert sensitive_booking.reference in message.subject
    assert sensitive_booking.reference in message.body


@pytest.mark.parametrize("kind", ["received", "confirmed", "cancelled", "news", "new_link"])
def test_patient_emails_are_in_the_patients_language_with_the_private_link(
    sensitive_booking, mailoutbox, kind
):
    if kind == "confirmed":
        confirm(sensitive_booking)
    with translation.override("en"):  # the page the staff or patient is on does not matter
        send_booking_message(booking=sensitive_booking, kind=kind, site_url="https://clinic.test")
    message = mailoutbox[0]
    assert message.to == [sensitive_booking.email]
    html = message.alternatives[0][0]
    assert '<html lang="da">' in html
    assert "https://clinic.test/da/" in message.body
    assert "Kildevej 1" in message.body and "+45 70 20 30 40" in message.body


def test_confirmation_gives_the_time_in_danish_with_the_calendar_file(
    sensitive_booking, mailoutbox
):
    confirm(sensitive_booking)
    send_booking_message(booking=sensitive_booking, kind="confirmed", site_url="https://c.test")
    message = mailoutbox[0]
    assert "14. marts 2030" in message.body and "09:30" in message.body
    (name, content, mimetype) = message.attachments[0]
    assert name.endswith(".ics") and mimetype == "text/calendar"
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == sensitive_booking.starts_at


def test_the_clinic_is_told_of_each_new_request_in_danish(sensitive_booking, mailoutbox):
    send_booking_message(booking=sensitive_booking, kind="clinic_new_request")
    message = mailoutbox[0]
    assert message.to == ["clinic@example.com"]
    assert "/admin/" in message.body
    assert sensitive_booking.name not in message.body


def test_an_smtp_failure_is_kept_on_the_message_row_for_a_retry(sensitive_booking, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    send_booking_message(booking=sensitive_booking, kind="received")  # does not raise
    row = PlannedMessage.objects.get(booking=sensitive_booking, kind="received")
    assert row.status == PlannedMessage.Status.PLANNED and row.attempts == 1
    assert row.send_after > row.last_attempt_at
    assert "Connection" in row.last_error


# --- A real SMTP server -----------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted"

    def to(self, address):
        return [message for rcpt, message in self.messages if address in rcpt]


@pytest.fixture
def smtp_inbox(settings):
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield inbox
    controller.stop()


def booking_url(name):
    with translation.override("en"):
        return reverse(f"booking:{name}")


def test_end_to_end_request_then_confirmation_with_calendar_over_smtp(client, clinic, smtp_inbox):
    consent = ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA)
    gold = AppointmentTypeFactory(name_en="Gold implantation", name_da="Guldimplantation")
    warfarin = AnticoagulantFactory(brand="Marevan", substance="warfarin")
    today = timezone.localdate()
    client.post(booking_url("what"), {"appointment_type": gold.pk, "painful_area": "Neck"})
    client.post(
        booking_url("when"),
        {"earliest_date": (today + timedelta(days=3)).isoformat(), "time_of_day": "any"},
    )
    client.post(
        booking_url("about"),
        {
            "name": "Karen Jensen",
            "email": "karen@example.com",
            "phone": "20123456",
            "birth_date": "1960-01-02",
            "language": "da",
        },
    )
    client.post(booking_url("images"), {"imaging_status": "no_scan"})
    client.post(booking_url("checklist"), {"takes_blood_thinners": "yes"})
    client.post(booking_url("checklist") + "?part=2", {"anticoagulants": [warfarin.pk]})
    response = client.post(booking_url("review"), {"consent": "on", "consent_version": consent.pk})
    assert response["Location"] == booking_url("thanks")
    booking = Booking.objects.get(status=Booking.Status.REQUESTED)
    assert mail.outbox == []  # sent over SMTP, not to the test outbox

    [received] = smtp_inbox.to("karen@example.com")
    assert booking.reference in received["Subject"]
    assert len(smtp_inbox.to("clinic@example.com")) == 1

    confirm(booking)
    send_booking_message(booking=booking, kind="confirmed", site_url="https://clinic.test")
    confirmation = smtp_inbox.to("karen@example.com")[-1]
    assert booking.reference in confirmation["Subject"]
    calendars = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    ics = calendars[0].get_payload(decode=True)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2030, 3, 14, 9, 30, tzinfo=COPENHAGEN)
    assert "Kildevej 1" in str(event["location"])
    assert str(event["url"]).startswith("https://clinic.test/da/")

    for _rcpt, message in smtp_inbox.messages:
        text = message.as_string().lower()
        assert_no_health_words(text)
        assert "karen jensen" not in text or message["To"] == "karen@example.com"
