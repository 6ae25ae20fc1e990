"""In a real Chromium at phone width: patients pick free times, and reception confirms in the
calendar.

- The free phone talk (Danish): the patient picks the first free time; it is confirmed at
  once and the private page offers the calendar file.
- Gold implantation (English): the checklist comes first, the patient picks a time, it is
  held as tentative; reception finds it in the calendar and confirms it; the patient then
  moves it from the private page.
axe-core finds no violations on any of these pages, the staff calendar included.
"""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from booking.models import AppointmentType, Booking
from tests.conftest import axe_violations, log_in_verified, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def url(name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def in_language(language: str, message: str, **params) -> str:
    with translation.override(language):
        text = translation.gettext(message)
        return text % params if params else text


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return {
        "talk": AppointmentType.objects.get(order=1),
        "gold": AppointmentType.objects.get(order=3),
    }


def next_step(page):
    with page.expect_navigation():
        page.locator("button[type=submit][form=booking-step-form]").click()


def about_you(page, name: str, email: str, language: str):
    page.fill("#id_name", name)
    page.fill("#id_email", email)
    page.fill("#id_phone", "20 12 34 56")
    page.fill("#id_birth_date", "1949-03-02")
    page.select_option("#id_language", language)


def send(page):
    page.check("#id_consent")
    with page.expect_navigation():
        page.locator("button[name=send]").click()


def no_violations(page, name: str):
    found = axe_violations(page)
    assert not found, f"{name}: {found}"


def test_the_phone_talk_is_booked_at_a_picked_time_and_confirmed_at_once(visit, demo):
    page = visit(locale="da", viewport=PHONE).page
    page.goto(url("booking:what", "da"))
    page.check(f'input[name=appointment_type][value="{demo["talk"].pk}"]')
    next_step(page)

    assert page.url.endswith(url("booking:when", "da"))
    first = page.locator("input[name=time]").first
    value = first.get_attribute("value")
    label = page.locator(f'label[for="{first.get_attribute("id")}"]')
    # Read aloud as one sentence: "mandag 14. december 2026, kl. 9:00" (day, date and time).
    spoken = " ".join(label.text_content().split())
    assert re.search(r"\d{1,2}\. \w+ \d{4}, kl\. \d{1,2}[:.]\d{2}", spoken), spoken
    no_violations(page, "when step with times (da)")
    screenshot(page, "scheduling-da-phone-when")
    label.click()
    expect(first).to_be_checked()
    next_step(page)

    assert page.url.endswith(url("booking:about", "da"))
    about_you(page, "Else Marie Dahl", "else@example.com", "da")
    next_step(page)
    assert page.url.endswith(url("booking:review", "da"))
    no_violations(page, "review with a picked time (da)")
    send(page)

    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert timezone.localtime(booking.starts_at).isoformat() == value.split("|")[0]
    page.get_by_role("link", name=in_language("da", "See your booking")).click()
    page.wait_for_load_state()
    expect(page.locator(".booking-status-value")).to_have_text(in_language("da", "Confirmed"))
    assert page.locator("a[download]").count() == 1
    no_violations(page, "private page, confirmed (da)")
    screenshot(page, "scheduling-da-phone-private-confirmed")


def test_gold_is_picked_held_as_tentative_and_confirmed_by_reception_in_the_calendar(visit, demo):
    page = visit(locale="en", viewport=PHONE).page
    page.goto(url("booking:what", "en"))
    page.check(f'input[name=appointment_type][value="{demo["gold"].pk}"]')
    next_step(page)

    # The images and the checklist first: the blood-thinner answer decides the earliest time.
    # No scan and "No": the questions that depend on them are not asked.
    assert page.url.endswith(url("booking:images", "en"))
    page.check('input[name=imaging_status][value="no_scan"]')
    next_step(page)
    assert page.url.endswith(url("booking:checklist", "en"))
    page.check('input[name=takes_blood_thinners][value="no"]')
    next_step(page)

    assert page.url.endswith(url("booking:when", "en"))
    page.locator("details[open] .time-option label").nth(2).click()
    screenshot(page, "scheduling-en-phone-when-gold")
    next_step(page)
    about_you(page, "Harold Dahl", "harold@example.com", "en")
    next_step(page)
    send(page)

    booking = Booking.objects.get()
    assert booking.status == Booking.Status.TENTATIVE
    page.get_by_role("link", name=in_language("en", "See your booking")).click()
    page.wait_for_load_state()
    expect(page.locator(".booking-status-value")).to_have_text(
        in_language("en", "Time picked, to be confirmed")
    )
    no_violations(page, "private page, tentative (en)")
    private_url = page.url

    # Reception confirms it from the calendar, on a tablet.
    UserFactory(username="rikke", groups=["Reception"])
    staff = visit(locale="en", viewport=TABLET).page
    log_in_verified(staff, "rikke")
    day = timezone.localtime(booking.starts_at).date().isoformat()
    staff.goto(f"/admin/booking/booking/calendar/?date={day}")
    entry = staff.locator(".entry-tentative", has_text=booking.reference)
    expect(entry).to_contain_text("Tentative: to be confirmed")
    no_violations(staff, "staff calendar")
    screenshot(staff, "scheduling-calendar-tablet")
    with staff.expect_navigation():
        entry.get_by_role("link", name="Confirm or move").click()
    staff.check("#id_despite_imaging")
    with staff.expect_navigation():
        staff.locator("input[type=submit].default").click()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    staff.goto(f"/admin/booking/booking/calendar/?date={day}")
    expect(staff.locator(".entry-booked", has_text=booking.reference)).to_have_count(1)

    # The patient moves it to another time: it waits for reception again.
    page.goto(private_url)
    with page.expect_navigation():
        page.get_by_role("link", name="Choose another time").click()
    no_violations(page, "reschedule page (en)")
    screenshot(page, "scheduling-en-phone-reschedule")
    old = booking.starts_at
    page.locator("details[open] .time-option label").nth(5).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Move my appointment").click()
    booking.refresh_from_db()
    assert booking.starts_at != old and booking.status == Booking.Status.TENTATIVE
    expect(page.locator(".messagelist, .alert-success").first).to_be_visible()
