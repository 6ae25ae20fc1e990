"""In a real Chromium: the series viewer's free window/level, wheel and keys, true scale.

The series are made with pydicom and go through the real processing, so the page gets
the values the worker stored (the "raw" PNG) and the windows it rendered. The pixels the
page draws are read back from its canvas and compared with the server's own renditions
and with the DICOM windowing formula computed here.
"""

import io
import re
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image
from playwright.sync_api import expect
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from booking.imaging import processing
from booking.models import Instance, Upload
from booking.storage import private_storage
from tests.booking.dicom_fixtures import cr_monochrome1_dataset, ct_dataset, to_bytes
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import save
from tests.conftest import SCREENSHOTS, axe_violations, log_in_verified, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
SLICES = 5
# Rows 0.7 mm apart, columns 0.35 mm: the image is twice as tall as wide in the patient.
SPACING = [0.7, 0.35]

CANVAS_GREYS = """() => {
  const canvas = document.querySelector('[data-viewer-canvas]');
  const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const greys = [];
  for (let i = 0; i < rgba.length; i += 4) greys.push(rgba[i]);
  return {width: canvas.width, height: canvas.height, greys: greys};
}"""


@pytest.fixture
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_SERVE_WITH_X_ACCEL = False
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def doctor(db):
    return UserFactory(username="dr-window", groups=["Doctors"])


def process(booking, name: str, data: bytes, kind=Upload.Kind.DICOM) -> Upload:
    upload = Upload.objects.create(
        booking=booking,
        file=save(f"bookings/{booking.pk}/{name}", data),
        original_name=name,
        size=len(data),
        kind=kind,
    )
    with translation.override("en"):
        processing.run_processing(upload.pk)
    return upload


def ct_series(booking) -> int:
    """Five CT slices of 64 x 64 (rescale -1024, a 40/400 window), processed; the series' pk."""
    study, series = generate_uid(), generate_uid()
    for number in range(1, SLICES + 1):
        ds = ct_dataset(64, study_uid=study, series_uid=series, number=number, seed=number)
        ds.PixelSpacing = SPACING
        process(booking, f"ct{number}.dcm", to_bytes(ds))
    return Instance.objects.filter(series__series_uid=series).first().series_id


def colour_dataset(number: int, study: str, series: str) -> Dataset:
    """An RGB screenshot (secondary capture): no windows, so no free window either."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality = "OT"
    ds.PatientName = "Test^Patient"
    ds.StudyDate = "20240315"
    ds.SeriesNumber = 2
    ds.InstanceNumber = number
    ds.SeriesDescription = "Screenshots"
    ds.Rows, ds.Columns = 48, 64
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:, :, 0] = np.linspace(0, 255, 64, dtype=np.uint8)
    pixels[:24, :, 2] = 40 * number
    ds.PixelData = pixels.tobytes()
    return ds


def colour_series(booking) -> int:
    study, series = generate_uid(), generate_uid()
    for number in (1, 2):
        process(booking, f"shot{number}.dcm", to_bytes(colour_dataset(number, study, series)))
    return Instance.objects.filter(series__series_uid=series).first().series_id


# --- What the page should show, computed here --------------------------------------------


def raw_values(instance: Instance) -> np.ndarray:
    """The stored values (R * 256 + G) as the worker wrote them."""
    with private_storage().open(instance.raw.name, "rb") as stored:
        rgb = np.asarray(Image.open(io.BytesIO(stored.read())).convert("RGB"), dtype=np.int64)
    return rgb[:, :, 0] * 256 + rgb[:, :, 1]


def windowed(instance: Instance, center: float, width: float, function="LINEAR") -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2 on the stored values, 0..255, inverted for MONOCHROME1."""
    x = instance.raw_offset + raw_values(instance) * instance.raw_scale
    if function == "SIGMOID":
        y = 255 / (1 + np.exp(-4 * (x - center) / width))
    else:
        c, w = (center - 0.5, width - 1) if function == "LINEAR" else (center, width)
        y = np.clip(((x - c) / w + 0.5) * 255, 0, 255)
        y = np.where(x <= c - w / 2, 0, np.where(x > c + w / 2, 255, y))
    y = np.floor(y + 0.5)  # half up, as Math.round
    return 255 - y if instance.invert else y


def png_greys(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.int64)


def server_image(page, url: str) -> np.ndarray:
    response = page.request.get(url)
    assert response.status == 200, url
    return png_greys(response.body())


def canvas_greys(page) -> np.ndarray:
    drawn = page.evaluate(CANVAS_GREYS)
    return np.array(drawn["greys"], dtype=np.int64).reshape(drawn["height"], drawn["width"])


def max_difference(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape, (a.shape, b.shape)
    return int(np.abs(a - b).max())


def window_of(instance: Instance, code: str) -> dict:
    return next(item for item in instance.presets if item["code"] == code)


def readout_numbers(text: str) -> tuple[float, float]:
    width, center = re.search(r"W (-?[\d.]+) · L (-?[\d.]+)", text).groups()
    return float(width), float(center)


def viewer_data(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('viewer-data').textContent)")


def open_viewer(visit, series_pk: int, viewport=DESKTOP, **options):
    page = visit(
        locale="en", extra_http_headers={"Accept-Language": "en"}, viewport=viewport, **options
    ).page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_verified(page, "dr-window")
    page.goto(reverse("review:viewer", args=[series_pk]))
    return page, errors


def canvas_shown(page):
    canvas = page.locator("[data-viewer-canvas]")
    expect(canvas).to_be_visible()
    expect(page.locator("[data-viewer-image]")).to_be_hidden()
    return canvas


def stage_centre(page) -> tuple[float, float]:
    box = page.locator("[data-viewer-stage]").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, dx: float, dy: float) -> None:
    x, y = stage_centre(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=6)
    page.mouse.up()


def keep_screenshot(page, name: str) -> Path:
    return screenshot(page, name, full_page=False, always=True)


# --- The tests ----------------------------------------------------------------------------


def test_the_wheel_and_keys_step_through_the_stack(visit, storage, doctor):
    booking = BookingFactory(language="en")
    series = ct_series(booking)
    page, errors = open_viewer(visit, series)
    position = page.locator("[data-viewer-position]")
    expect(position).to_have_text(f"Image 1 of {SLICES}")
    canvas_shown(page)

    # One image per notch, over the image only; the page itself does not scroll (made
    # long enough to scroll first).
    page.evaluate(
        "() => { const s = document.createElement('div'); s.style.height = '3000px';"
        " document.querySelector('main').append(s); }"
    )
    x, y = stage_centre(page)
    page.mouse.move(x, y)
    scrolled = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 100)
    expect(position).to_have_text(f"Image 2 of {SLICES}")
    page.mouse.wheel(0, 100)
    expect(position).to_have_text(f"Image 3 of {SLICES}")
    page.mouse.wheel(0, -100)
    expect(position).to_have_text(f"Image 2 of {SLICES}")
    assert page.evaluate("window.scrollY") == scrolled
    assert page.url.endswith("?image=2")
    heading = page.locator("h1").bounding_box()
    page.mouse.move(heading["x"] + 5, heading["y"] + 5)
    page.mouse.wheel(0, 100)
    page.wait_for_function("before => window.scrollY > before", arg=scrolled)  # it scrolled
    page.keyboard.press("ArrowDown")  # the keys still act: proves the wheel event was handled
    expect(position).to_have_text(f"Image 3 of {SLICES}")

    page.keyboard.press("End")
    expect(position).to_have_text(f"Image {SLICES} of {SLICES}")
    assert page.url.endswith(f"?image={SLICES}")
    page.keyboard.press("Home")
    expect(position).to_have_text(f"Image 1 of {SLICES}")
    page.keyboard.press("PageDown")  # 10 forward, clamped to the last
    expect(position).to_have_text(f"Image {SLICES} of {SLICES}")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text(f"Image {SLICES - 1} of {SLICES}")
    page.keyboard.press("PageUp")  # 10 back, clamped to the first
    expect(position).to_have_text(f"Image 1 of {SLICES}")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text(f"Image 2 of {SLICES}")

    # Not with a modifier key, not while typing in a form field.
    for key in ("Shift+End", "Control+End", "Alt+PageDown"):
        page.keyboard.press(key)
    page.evaluate(
        "() => { const f = document.createElement('input'); f.id = 'typing';"
        " f.setAttribute('aria-label', 'Typing'); document.querySelector('main').append(f); }"
    )
    page.focus("#typing")
    for key in ("End", "Home", "ArrowRight", "PageDown"):
        page.keyboard.press(key)
    page.locator("h1").click()
    page.keyboard.press("ArrowLeft")  # the keys act again once out of the field
    expect(position).to_have_text(f"Image 1 of {SLICES}")
    assert errors == []


def test_dragging_sets_a_free_window_kept_while_stepping_and_reset_restores(visit, storage, doctor):
    booking = BookingFactory(language="en")
    series = ct_series(booking)
    page, errors = open_viewer(visit, series)
    data = viewer_data(page)
    instances = Instance.objects.in_bulk(data["ids"])
    first, second = instances[data["ids"][0]], instances[data["ids"][1]]
    default = first.default_window
    own = window_of(first, default)
    readout = page.locator("[data-viewer-readout]")
    reset = page.get_by_role("button", name="Reset window")
    presets = page.locator("[data-preset]")
    canvas = canvas_shown(page)

    # The drawing is exactly the formula on the stored values (so they were read unchanged),
    # and the server's preview of the same window within one grey level.
    before = canvas_greys(page)
    assert max_difference(before, windowed(first, own["center"], own["width"])) == 0
    preview = reverse("review:instance_preview", args=[first.pk])
    assert max_difference(before, server_image(page, preview)) <= 1
    assert readout_numbers(readout.inner_text()) == (own["width"], own["center"])
    expect(page.locator(f"[data-preset='{default}']")).to_have_attribute("aria-current", "true")
    expect(reset).to_be_hidden()

    # True to scale: the canvas keeps the image's own proportions (twice as tall as wide).
    size = page.evaluate(
        "() => { const c = document.querySelector('[data-viewer-canvas]');"
        " return [c.width, c.height]; }"
    )
    assert size[1] == pytest.approx(2 * size[0], rel=0.05)
    box = canvas.bounding_box()
    assert box["height"] / box["width"] == pytest.approx(size[1] / size[0], rel=0.02)

    # Right: wider; down: a higher level.
    drag(page, 120, 60)
    expect(readout).to_contain_text("Custom window")
    width, center = readout_numbers(readout.inner_text())
    assert width > own["width"] and center > own["center"]
    for i in range(presets.count()):
        assert presets.nth(i).get_attribute("aria-current") is None
    expect(reset).to_be_visible()
    custom = canvas_greys(page)
    assert max_difference(custom, before) > 10
    assert max_difference(custom, windowed(first, center, width)) == 0

    # Left and up: narrower and lower than the preset.
    drag(page, -240, -150)
    width, center = readout_numbers(readout.inner_text())
    assert width < own["width"] and center < own["center"]
    assert max_difference(canvas_greys(page), windowed(first, center, width)) == 0

    # The free window stays while stepping: the next image is drawn with it.
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-viewer-position]")).to_have_text(f"Image 2 of {SLICES}")
    page.wait_for_function(
        "() => document.querySelector('[data-viewer-canvas]').getAttribute('aria-label')"
        " === 'Image 2 of 5'"
    )
    assert readout_numbers(readout.inner_text()) == (width, center)
    page.wait_for_function(
        "expected => { const c = document.querySelector('[data-viewer-canvas]');"
        " return !c.hidden && c.getContext('2d').getImageData(0, 0, c.width, c.height)"
        ".data.length === expected; }",
        arg=int(windowed(second, center, width).size * 4),
    )
    expect(canvas).to_be_visible()
    assert max_difference(canvas_greys(page), windowed(second, center, width)) == 0

    # Reset: back to the window the image showed before the drag.
    reset.click()
    expect(reset).to_be_hidden()
    expect(readout).not_to_contain_text("Custom window")
    expect(page.locator(f"[data-preset='{default}']")).to_have_attribute("aria-current", "true")
    second_preview = reverse("review:instance_preview", args=[second.pk])
    assert max_difference(canvas_greys(page), server_image(page, second_preview)) <= 1

    # Bone: the same pixels as the server's bone rendition, within one grey level.
    page.get_by_role("link", name="Bone").click()
    expect(page.get_by_role("link", name="Bone")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"[data-preset='{default}']")).not_to_have_attribute("aria-current", "true")
    assert page.url.endswith("?image=2&preset=bone")
    bone = canvas_greys(page)
    rendition = server_image(page, second_preview + "?preset=bone")
    assert max_difference(bone, rendition) <= 1
    assert max_difference(bone, canvas_greys(page)) == 0
    assert readout_numbers(readout.inner_text()) == (1800, 400)

    # A drag after Bone, then Reset: Bone again, the preset chosen before.
    drag(page, 80, 0)
    expect(page.get_by_role("link", name="Bone")).not_to_have_attribute("aria-current", "true")
    assert max_difference(canvas_greys(page), rendition) > 1
    reset.click()
    expect(page.get_by_role("link", name="Bone")).to_have_attribute("aria-current", "true")
    assert max_difference(canvas_greys(page), rendition) <= 1

    # A click without moving changes nothing.
    x, y = stage_centre(page)
    page.mouse.click(x, y)
    expect(reset).to_be_hidden()
    assert axe_violations(page) == []
    assert errors == []


def test_a_finger_swipes_images_unless_adjust_window_is_on(visit, storage, doctor):
    booking = BookingFactory(language="en")
    series = ct_series(booking)
    page, errors = open_viewer(visit, series, viewport=TABLET, has_touch=True)
    position = page.locator("[data-viewer-position]")
    readout = page.locator("[data-viewer-readout]")
    canvas_shown(page)
    first_readout = readout.inner_text()
    touch = page.context.new_cdp_session(page)
    x, y = stage_centre(page)

    def swipe(dx, dy=0):
        points = [(x + dx * step / 6, y + dy * step / 6) for step in range(7)]
        touch.send(
            "Input.dispatchTouchEvent",
            {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
        )
        for px, py in points[1:]:
            touch.send(
                "Input.dispatchTouchEvent",
                {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]},
            )
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    swipe(-150)
    expect(position).to_have_text(f"Image 2 of {SLICES}")
    assert readout.inner_text() == first_readout
    swipe(150)
    expect(position).to_have_text(f"Image 1 of {SLICES}")

    adjust = page.get_by_role("button", name="Adjust window")
    expect(adjust).to_have_attribute("aria-pressed", "false")
    adjust.click()
    expect(adjust).to_have_attribute("aria-pressed", "true")
    swipe(-150, 40)
    expect(readout).to_contain_text("Custom window")
    expect(position).to_have_text(f"Image 1 of {SLICES}")  # adjusted, not stepped
    width, center = readout_numbers(readout.inner_text())
    own = readout_numbers(first_readout)
    assert width < own[0] and center > own[1]
    adjust.click()
    expect(adjust).to_have_attribute("aria-pressed", "false")
    swipe(-150)
    expect(position).to_have_text(f"Image 2 of {SLICES}")
    assert errors == []


def test_a_monochrome1_radiograph_is_drawn_inverted_like_the_server(visit, storage, doctor):
    booking = BookingFactory(language="en")
    process(booking, "knee.dcm", to_bytes(cr_monochrome1_dataset(size=64)))
    instance = Instance.objects.get(upload__booking=booking)
    assert instance.invert and instance.raw
    page, errors = open_viewer(visit, instance.series_id)
    canvas_shown(page)
    own = window_of(instance, instance.default_window)
    drawn = canvas_greys(page)
    assert max_difference(drawn, windowed(instance, own["center"], own["width"])) == 0
    preview = reverse("review:instance_preview", args=[instance.pk])
    assert max_difference(drawn, server_image(page, preview)) <= 1
    # MONOCHROME1: the low values (left) are bright, the high ones (right) dark.
    assert drawn[:, 0].min() > 200 and drawn[:, -1].max() < 55
    automatic = page.get_by_role("link", name="Automatic")
    automatic.click()
    expect(automatic).to_have_attribute("aria-current", "true")
    rendition = server_image(page, preview + "?preset=auto")
    assert max_difference(canvas_greys(page), rendition) <= 1
    drag(page, -100, 0)  # narrower: more contrast, still inverted
    width, center = readout_numbers(page.locator("[data-viewer-readout]").inner_text())
    assert max_difference(canvas_greys(page), windowed(instance, center, width)) == 0
    assert errors == []


def test_a_colour_series_has_no_free_window(visit, storage, doctor):
    booking = BookingFactory(language="en")
    series = colour_series(booking)
    page, errors = open_viewer(visit, series)
    data = viewer_data(page)
    assert data["raw"] is None
    image = page.locator("[data-viewer-image]")
    expect(image).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-viewer-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    src = image.get_attribute("src")
    assert page.locator("[data-viewer-reset]").count() == 0
    assert page.locator("[data-viewer-adjust]").count() == 0
    assert page.locator("[data-preset]").count() == 0
    drag(page, 150, 80)
    expect(image).to_be_visible()
    expect(page.locator("[data-viewer-canvas]")).to_be_hidden()
    assert image.get_attribute("src") == src
    # True to scale without a canvas too: 64 x 48.
    box = image.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(64 / 48, rel=0.02)
    # The wheel still steps.
    x, y = stage_centre(page)
    page.mouse.move(x, y)
    page.mouse.wheel(0, 100)
    expect(page.locator("[data-viewer-position]")).to_have_text("Image 2 of 2")
    assert image.get_attribute("src") != src
    assert axe_violations(page) == []
    assert errors == []


def test_the_viewer_fits_phone_tablet_and_desktop(visit, storage, doctor):
    """One page, resized to each width (one processing and one browser context for all)."""
    booking = BookingFactory(language="en")
    series = ct_series(booking)
    page, errors = open_viewer(visit, series, viewport=PHONE)
    canvas = canvas_shown(page)
    drag(page, 60, 30)
    expect(page.get_by_role("button", name="Reset window")).to_be_visible()
    for viewport in (PHONE, TABLET, DESKTOP):
        page.set_viewport_size(viewport)
        page.evaluate("() => new Promise(requestAnimationFrame)")
        box = canvas.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        # Scaled to fit, never stretched: the box keeps the canvas' own ratio.
        size = page.evaluate(
            "() => { const c = document.querySelector('[data-viewer-canvas]');"
            " return [c.width, c.height]; }"
        )
        assert box["height"] / box["width"] == pytest.approx(size[1] / size[0], rel=0.02)
        assert box["height"] > size[1]  # scaled up from 64 x 128 to use the screen
        # No part of the page is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        targets = [
            page.locator("[data-viewer-previous]"),  # on the first image: not a link
            page.get_by_role("link", name="Next", exact=True),
            page.get_by_role("link", name="Bone", exact=True),
            page.get_by_role("button", name="Reset window"),
            page.get_by_role("button", name="Adjust window"),
        ]
        for target in targets:
            target_box = target.bounding_box()
            assert target_box["height"] >= 44 and target_box["width"] >= 44
        help_text = page.locator(".viewer-help")
        for words in ("mouse wheel", "Home", "Page Down", "Drag"):
            expect(help_text).to_contain_text(words)
        assert axe_violations(page) == []
        path = keep_screenshot(page, f"viewer-{viewport['width']}")
        assert path.exists() and path.parent == SCREENSHOTS
    assert errors == []


def test_without_javascript_the_window_controls_stay_hidden(visit, storage, doctor):
    booking = BookingFactory(language="en")
    series = ct_series(booking)
    page, _errors = open_viewer(visit, series, java_script_enabled=False)
    expect(page.locator("[data-viewer-image]")).to_be_visible()
    expect(page.locator("[data-viewer-window]")).to_be_hidden()
    expect(page.locator("[data-viewer-canvas]")).to_be_hidden()
    page.get_by_role("link", name="Bone").click()
    page.wait_for_url("**preset=bone")
    expect(page.get_by_role("link", name="Bone")).to_have_attribute("aria-current", "true")
    src = page.locator("[data-viewer-image]").get_attribute("src")
    assert src.endswith("?preset=bone")
