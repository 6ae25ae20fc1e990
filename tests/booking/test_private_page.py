"""The patient's private booking page, opened with the signed link from the e-mails."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from booking.access import make_token, private_path
from booking.models import Booking
from clinic.models import ClinicDetails
from tests.booking.factories import BookingFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
HEALTH_WORDS = ["gold", "guld", "neck", "nakke", "marevan", "warfarin", "condition", "implant"]


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
def booking(clinic):
    return BookingFactory(
        language="en",
        painful_area="Neck",
        takes_blood_thinners=Booking.Answer.YES,
        other_medicine="Marevan",
    )


def page_url(booking, language="en"):
    return private_path(booking, language)


def action_url(booking, name):
    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs={"token": make_token(booking)})


def confirm(booking, when=datetime(2030, 3, 14, 9, 30)):
    booking.status = Booking.Status.CONFIRMED
    booking.starts_at = when.replace(tzinfo=COPENHAGEN)
    booking.ends_at = booking.starts_at + timedelta(minutes=45)
    booking.save()
    return booking


def test_a_valid_link_shows_status_and_checklist(client, booking):
    response = client.get(page_url(booking))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert booking.reference in html
    assert "Requested" in html
    for title in (
        "Send your images by this day",
        "A plan for your blood-thinning medicine",
        "Someone to drive you home",
    ):
        assert title in html
    assert "Waiting for the clinic" in html and "To do" in html
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_an_expired_link_and_a_forged_one_get_the_same_friendly_page(client, booking, settings):
    token = make_token(booking)
    settings.BOOKING_LINK_MAX_AGE = timedelta(seconds=-1)
    with translation.override("en"):
        expired = client.get(reverse("booking:private", kwargs={"token": token}))
    settings.BOOKING_LINK_MAX_AGE = timedelta(days=60)
    forged_token = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    with translation.override("en"):
        forged = client.get(reverse("booking:private", kwargs={"token": forged_token}))
        unknown_key = signing.TimestampSigner(salt="booking.private-link", sep=".").sign("0" * 32)
        unknown = client.get(reverse("booking:private", kwargs={"token": unknown_key}))
    assert expired.status_code == forged.status_code == unknown.status_code == 404
    # The same page, apart from its own address (canonical and language links).
    pages = [
        r.content.decode().replace(t, "TOKEN")
        for r, t in ((expired, token), (forged, forged_token), (unknown, unknown_key))
    ]
    assert pages[0] == pages[1] == pages[2]
    html = expired.content.decode()
    with translation.override("en"):
        new_link = reverse("booking:new_link")
    assert "This link does not work" in html and new_link in html
    assert booking.reference not in html


def test_a_draft_cannot_be_opened_with_a_link(client, clinic):
    draft = BookingFactory(status=Booking.Status.DRAFT)
    assert client.get(page_url(draft)).status_code == 404


def test_the_plan_is_shown_only_when_a_doctor_has_agreed_it(client, booking):
    html = client.get(page_url(booking)).content.decode()
    assert "Do not stop any medicine until we have agreed a plan with you." in html
    assert "Last day to take it" not in html

    confirm(booking)
    booking.last_dose_date = date(2030, 3, 11)
    booking.restart_date = date(2030, 3, 15)
    booking.save()
    html = client.get(page_url(booking)).content.decode()
    assert "Last day to take it" not in html  # prepared, but not agreed yet

    booking.plan_agreed_by = UserFactory()
    booking.plan_agreed_at = timezone.now()
    booking.save()
    html = client.get(page_url(booking)).content.decode()
    assert "Last day to take it" in html
    assert "11 March 2030" in html and "14 March 2030" in html and "15 March 2030" in html


def test_dates_follow_the_page_language(client, booking):
    confirm(booking)
    html = client.get(page_url(booking, "da")).content.decode()
    assert "14. marts 2030" in html
    assert "kl. 09:30" in html or "09:30" in html


def test_cancel_with_a_reason(client, booking, mailoutbox):
    response = client.post(action_url(booking, "private_cancel"), {"reason": "I feel better"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancel_reason == "I feel better"
    html = client.get(response["Location"]).content.decode()
    assert "Your appointment has been cancelled." in html
    assert "Cancel my appointment" not in html


def test_cancel_without_a_reason_is_refused(client, booking):
    response = client.post(action_url(booking, "private_cancel"), {"reason": ""})
    assert response.status_code == 200
    assert "Please write a few words about why you cancel." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.REQUESTED


def test_companion_confirmation(client, booking):
    response = client.post(
        action_url(booking, "private_companion"),
        {"companion_confirmed": "on", "companion_name": "Ole", "companion_phone": "20 11 22 33"},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.companion_confirmed
    assert (booking.companion_name, booking.companion_phone) == ("Ole", "+4520112233")
    html = client.get(page_url(booking)).content.decode()
    assert "Thank you. We have noted who will drive you home." in html


def test_companion_needs_the_tick(client, booking):
    response = client.post(action_url(booking, "private_companion"), {"companion_name": "Ole"})
    assert response.status_code == 200
    assert "Please tick the box to confirm" in response.content.decode()
    booking.refresh_from_db()
    assert not booking.companion_confirmed


def test_calendar_file_only_once_confirmed(client, booking):
    assert client.get(action_url(booking, "private_ics")).status_code == 404
    assert "appointment.ics" not in client.get(page_url(booking)).content.decode()
    confirm(booking)
    assert "appointment.ics" in client.get(page_url(booking)).content.decode()
    response = client.get(action_url(booking, "private_ics"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar"
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2030, 3, 14, 9, 30, tzinfo=COPENHAGEN)
    assert event["dtstart"].params.get("TZID") == "Europe/Copenhagen"
    assert "Kildevej 1" in str(event["location"]) and "Aarhus C" in str(event["location"])
    assert str(event["url"]).endswith(page_url(booking))
    text = response.content.decode().lower()
    for word in HEALTH_WORDS:
        assert word not in text, word


def test_request_new_link_answers_the_same_and_mails_only_known_addresses(
    client, booking, mailoutbox
):
    with translation.override("en"):
        new_link = reverse("booking:new_link")
    known = client.post(new_link, {"email": booking.email.upper()}, follow=True)
    unknown = client.post(new_link, {"email": "nobody@example.com"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [booking.email]
    assert make_token(booking).split(".")[0] in message.body


def test_the_private_page_is_not_page_cached(client, booking, settings):
    settings.PAGE_CACHE_SECONDS = 600
    client.get(page_url(booking))
    booking.status = Booking.Status.CANCELLED
    booking.save()
    assert "Cancelled" in client.get(page_url(booking)).content.decode()


def test_more_images_can_be_added_from_the_private_page(client, booking, settings, tmp_path):
    from tests.booking.test_flow import png_file

    settings.PRIVATE_STORAGE_ROOT = tmp_path
    assert action_url(booking, "private_upload") in client.get(page_url(booking)).content.decode()
    response = client.post(action_url(booking, "private_upload"), {"files": png_file("mr.png")})
    assert response.status_code == 303
    assert booking.uploads.get().original_name == "mr.png"
    html = client.get(page_url(booking)).content.decode()
    assert "mr.png" in html and "Received. A doctor will look at them." in html
