"""In a real Chromium: files chosen in the images step's upload box are not lost when
the patient presses "Next" (or Enter) instead of "Send files". The page's script sends
them first with the progress bar, stops on the step when one is refused or the
connection fails; without JavaScript the step's form carries them to the server. Once
files have arrived, the step's answer says so ("I upload the images now")."""

from datetime import timedelta

import pydicom.data
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image
from playwright.sync_api import expect

from booking.models import Booking
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Each file is checked (a DICOM file read) before the answer comes: slow on a busy machine.
UPLOAD_TIMEOUT = 30_000  # ms
NEXT = "button[type=submit][form=booking-step-form]"
STOPPED = (
    "Not every file was accepted, so you are still on this page. Your answers are kept: "
    "press Next again to go on."
)
STOPPED_FAILED = (
    "The connection failed, so you are still on this page. The files not received yet are "
    "still chosen: press Next to try again."
)


def url(name: str, language: str) -> str:
    with translation.override(language):
        return reverse(name)


def scan_screen(language: str) -> str:
    """The images step's second screen: about the scan, for a patient whose files arrived."""
    return url("booking:images", language) + "?part=2"


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def files(tmp_path):
    photo = tmp_path / "scan-photo.png"
    Image.new("RGB", (64, 48), (180, 180, 180)).save(photo, "PNG")
    not_a_photo = tmp_path / "not-a-photo.jpg"
    not_a_photo.write_text("This is a letter, not a photo.")
    return {
        "png": str(photo),
        "dicom": pydicom.data.get_testdata_file("CT_small.dcm"),
        "text": str(not_a_photo),
    }


def open_images(page, demo_site, language: str):
    """Step 1 in the browser; for a gold implantation the images step comes next."""
    page.goto(url("booking:what", language))
    page.check(f'input[name=appointment_type][value="{demo_site["gold"].pk}"]')
    page.select_option("#id_condition", str(demo_site["neck"].pk))
    page.fill("#id_painful_area", "Neck")
    with page.expect_navigation():
        page.locator(NEXT).click()
    assert page.url.endswith(url("booking:images", language))


RADIOLOGY = 'input[name=imaging_status][value="radiology"]'
UPLOADED = 'input[name=imaging_status][value="uploaded"]'


def watch_progress(page) -> list[float]:
    """The progress bar's values while it is shown, reported from the page as they change."""
    seen: list[float] = []
    page.expose_function("reportUploadProgress", lambda value: seen.append(value))
    page.evaluate(
        """() => {
          const box = document.querySelector('.upload-progress');
          const bar = box.querySelector('progress');
          new MutationObserver(() => { if (!box.hidden) reportUploadProgress(bar.value); })
            .observe(box, {attributes: true, subtree: true});
        }"""
    )
    return seen


def chosen_count(page) -> int:
    return page.evaluate(
        "[...document.querySelectorAll('.upload-widget input[type=file]')]"
        ".reduce((n, input) => n + input.files.length, 0)"
    )


@pytest.mark.parametrize(("language", "how"), [("da", "click"), ("en", "enter")])
def test_next_sends_the_chosen_files_first(visit, demo_site, files, language, how):
    page = visit(locale=language, viewport=PHONE).page
    open_images(page, demo_site, language)
    page.check(RADIOLOGY)
    page.set_input_files("#upload-files", [files["png"], files["dicom"]])
    progress = watch_progress(page)

    with page.expect_navigation():
        if how == "click":
            page.locator(NEXT).click()
        else:
            page.locator(RADIOLOGY).press("Enter")

    # The files arrived, so the scan is asked about next.
    assert page.url.endswith(scan_screen(language))
    assert progress and max(progress) == 100, progress
    draft = Booking.objects.get()
    assert sorted(draft.uploads.values_list("original_name", flat=True)) == [
        "CT_small.dcm",
        "scan-photo.png",
    ]
    assert draft.imaging_status == "uploaded"

    # The review step counts the files that arrived, as received.
    Booking.objects.filter(pk=draft.pk).update(
        earliest_date=timezone.localdate() + timedelta(days=14),
        name="Margaret Holm",
        email="holm@example.com",
        phone="+4520123456",
        birth_date="1950-05-04",
        takes_blood_thinners="no",
    )
    page.goto(url("booking:review", language))
    with translation.override(language):
        received = translation.ngettext(
            "%(counter)s file received", "%(counter)s files received", 2
        ) % {"counter": 2}
    expect(page.locator(".review-images")).to_have_text(received)


def test_a_refused_file_stops_next_on_the_step(visit, demo_site, files):
    page = visit(locale="da", viewport=PHONE).page
    open_images(page, demo_site, "da")
    page.check(RADIOLOGY)
    page.set_input_files("#upload-files", [files["png"], files["text"]])
    images_url = page.url

    page.locator(NEXT).click()

    stopped = page.locator(".upload-stopped")
    expect(stopped).to_have_text(in_language("da", STOPPED), timeout=UPLOAD_TIMEOUT)
    expect(page.locator(".upload-refused")).to_contain_text("not-a-photo.jpg")
    expect(page.locator(".upload-list")).to_contain_text("scan-photo.png")
    assert page.url == images_url
    assert page.evaluate("document.activeElement.classList.contains('upload-status')")
    assert page.locator(".upload-status").get_attribute("role") == "status"
    # A file arrived: the answer says so, as the server has recorded it.
    assert page.locator(UPLOADED).is_checked() and not page.locator(RADIOLOGY).is_checked()
    draft = Booking.objects.get()
    assert list(draft.uploads.values_list("original_name", flat=True)) == ["scan-photo.png"]
    assert draft.imaging_status == "uploaded"
    assert axe_violations(page) == []

    # Next again, with no file chosen: the answer goes and the step moves on.
    with page.expect_navigation():
        page.locator(NEXT).click()
    assert page.url.endswith(scan_screen("da"))
    assert draft.uploads.count() == 1


def test_a_failed_connection_stops_next_and_keeps_the_files_chosen(visit, demo_site, files):
    page = visit(locale="en", viewport=PHONE).page
    open_images(page, demo_site, "en")
    page.check(RADIOLOGY)
    page.set_input_files("#upload-files", [files["png"], files["dicom"]])
    page.route("**" + url("booking:draft_upload", "en"), lambda route: route.abort())

    page.locator(NEXT).click()

    expect(page.locator(".upload-stopped")).to_have_text(STOPPED_FAILED, timeout=UPLOAD_TIMEOUT)
    assert page.url.endswith(url("booking:images", "en"))
    assert chosen_count(page) == 2
    assert page.evaluate("document.activeElement.classList.contains('upload-status')")
    assert page.locator(RADIOLOGY).is_checked()  # nothing arrived: the answer stands
    assert not Booking.objects.get().uploads.exists()

    # The connection is back: Next sends them and goes on.
    page.unroute("**" + url("booking:draft_upload", "en"))
    with page.expect_navigation():
        page.locator(NEXT).click()
    assert page.url.endswith(scan_screen("en"))
    assert Booking.objects.get().uploads.count() == 2


def test_without_javascript_next_posts_the_chosen_files(visit, demo_site, files):
    page = visit(locale="en", viewport=PHONE, java_script_enabled=False).page
    open_images(page, demo_site, "en")
    page.check(RADIOLOGY)
    page.set_input_files("#upload-files", [files["png"], files["dicom"]])
    with page.expect_navigation():
        page.locator(NEXT).click()

    assert page.url.endswith(scan_screen("en"))
    expect(page.locator(".messages")).to_contain_text("2 files were received.")
    draft = Booking.objects.get()
    assert draft.uploads.count() == 2
    assert draft.imaging_status == "uploaded"


def test_without_javascript_a_refused_file_keeps_the_step(visit, demo_site, files):
    page = visit(locale="da", viewport=PHONE, java_script_enabled=False).page
    open_images(page, demo_site, "da")
    page.check(RADIOLOGY)
    page.set_input_files("#upload-files", [files["png"], files["text"]])
    with page.expect_navigation():
        page.locator(NEXT).click()

    assert page.url.endswith(url("booking:images", "da"))
    messages = page.locator(".messages")
    expect(messages).to_contain_text("not-a-photo.jpg")
    expect(messages).to_contain_text(in_language("da", STOPPED))
    expect(page.locator(".upload-list")).to_contain_text("scan-photo.png")
    assert page.locator(UPLOADED).is_checked()  # the file that arrived is recorded
    assert list(Booking.objects.get().uploads.values_list("original_name", flat=True)) == [
        "scan-photo.png"
    ]


def gap(page, upper: str, lower: str) -> float:
    """Pixels between the bottom of `upper` and the top of `lower`."""
    above, below = page.locator(upper).bounding_box(), page.locator(lower).bounding_box()
    return below["y"] - (above["y"] + above["height"])


def test_send_files_keeps_its_distance(visit, demo_site, files):
    """ "Send files" does not touch the heading below it, nor the progress bar and messages,
    and the upload box keeps its distance from the question below it; at phone and desktop
    width. The screenshots are for a look."""
    page = visit(locale="da", viewport=PHONE).page
    open_images(page, demo_site, "da")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert gap(page, ".upload-send", "#upload-list-heading") >= 24, width
        assert gap(page, ".step-upload-box", "#div_id_imaging_status") >= 16, width
        screenshot(page, f"upload-next-{width}")
    page.set_input_files("#upload-files", [files["png"], files["text"]])
    page.locator(NEXT).click()
    expect(page.locator(".upload-stopped")).to_be_visible(timeout=UPLOAD_TIMEOUT)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert gap(page, ".upload-send", ".upload-progress") >= 8, width
        assert gap(page, ".upload-progress", ".upload-status") >= 8, width
        assert gap(page, ".upload-status", "#upload-list-heading") >= 16, width
        screenshot(page, f"upload-next-{width}-refused")
