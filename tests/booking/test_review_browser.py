"""In a real Chromium: a doctor reviews a booking's imaging and the patient sees it done."""

import pytest
from playwright.sync_api import expect

from booking.access import private_path
from booking.models import Booking, ImagingAccess, Instance
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import make_imaging
from tests.conftest import axe_violations, log_in_verified, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_SERVE_WITH_X_ACCEL = False
    return settings.PRIVATE_STORAGE_ROOT


def test_a_doctor_steps_through_a_series_approves_and_the_patient_sees_it(visit, storage):
    booking = BookingFactory(language="en", imaging_status=Booking.ImagingStatus.UPLOADED)
    imaging = make_imaging(booking)
    first, second, third = imaging["instances"]
    # Without the values for the browser's window, presets are the server's stored images.
    Instance.objects.update(raw="")
    UserFactory(username="dr-brask", groups=["Doctors"])

    page = visit(locale="en", extra_http_headers={"Accept-Language": "en"}, viewport=TABLET).page
    log_in_verified(page, "dr-brask")

    page.goto("/staff/imaging/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=booking.reference).click()
    expect(page.locator("h1")).to_contain_text(booking.reference)
    assert axe_violations(page) == []
    expect(page.get_by_text("The file holds no image (a DICOMDIR index).")).to_be_visible()
    page.locator(".review-series-link").first.click()

    image = page.locator("[data-viewer-image]")
    position = page.locator("[data-viewer-position]")
    expect(position).to_have_text("Image 1 of 3")
    expect(image).to_have_attribute("src", f"/staff/imaging/image/{first.pk}/preview/")
    next_button = page.get_by_role("link", name="Next")
    for button in (next_button, page.get_by_role("link", name="Bone")):
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44

    next_button.click()
    expect(position).to_have_text("Image 2 of 3")
    expect(image).to_have_attribute("src", f"/staff/imaging/image/{second.pk}/preview/")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text("Image 3 of 3")
    expect(image).to_have_attribute("src", f"/staff/imaging/image/{third.pk}/preview/")
    assert page.url.endswith("?image=3")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text("Image 2 of 3")
    page.get_by_role("link", name="Previous").click()
    expect(position).to_have_text("Image 1 of 3")

    page.get_by_role("link", name="Bone").click()
    expect(image).to_have_attribute("src", f"/staff/imaging/image/{first.pk}/preview/?preset=bone")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-viewer-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    expect(page.get_by_role("link", name="Bone")).to_have_attribute("aria-current", "true")
    assert axe_violations(page) == []
    screenshot(page, "review-viewer-tablet")
    # Every image shown (and prefetched) was logged; nothing beyond the next one.
    assert ImagingAccess.objects.filter(booking=booking).exists()

    page.goto(f"/staff/imaging/booking/{booking.pk}/")
    page.get_by_label("Approved").check()
    page.get_by_label("Advice for the patient").fill("Bring the CD to the appointment.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the verdict").click()
    assert page.url.endswith("/staff/imaging/")
    expect(page.locator(".review-messages")).to_contain_text(booking.reference)

    patient = visit(locale="en", extra_http_headers={"Accept-Language": "en"}).page
    patient.goto(private_path(booking, "en"))
    item = patient.locator(".timeline-step").first
    expect(item).to_have_class("timeline-step timeline-done")
    expect(item).to_contain_text("The doctor has looked at your images.")
    expect(patient.locator(".doctor-advice")).to_contain_text("Bring the CD to the appointment.")


def test_the_viewer_works_without_javascript(visit, storage):
    booking = BookingFactory(language="en")
    imaging = make_imaging(booking)
    UserFactory(username="dr-nojs", groups=["Doctors"])
    page = visit(
        java_script_enabled=False, locale="en", extra_http_headers={"Accept-Language": "en"}
    ).page
    log_in_verified(page, "dr-nojs")
    page.goto(f"/staff/imaging/series/{imaging['series'].pk}/")
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**?image=2")
    expect(page.locator("[data-viewer-position]")).to_have_text("Image 2 of 3")
    # With JavaScript off, ask for the image the page points to, as the browser does.
    src = page.locator("[data-viewer-image]").get_attribute("src")
    response = page.request.get(src)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")
