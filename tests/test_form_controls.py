"""In a real Chromium at phone width: every form control a patient meets can be seen and hit.

WCAG 2.2 1.4.11 (non-text contrast) asks 3:1 for what identifies a control, and 2.5.8
(target size) asks 24 by 24 CSS px. axe does not check the first for form controls, so
this test measures them from the computed styles, on every form page: the booking steps
(two appointment types, so every kind of checklist answer appears), the private page
with its companion and cancel forms, the reschedule page, the testimonial form and its
list's filter, and the new-link form.

The rules, for each visible control (input of any type but hidden, select, textarea,
button, a link styled as a button, and the `.btn` label that stands in for a visually
hidden `.btn-check` radio):

- The adjacent background is the colour behind the control: the ancestors'
  background-colors, from the nearest out, composed over the white canvas.
- The control's boundary is its border (the lowest contrast of the sides that have one,
  each border colour composed over the adjacent background), or its own background
  when that stands out from the adjacent one. Whichever is stronger must reach 3:1.
- Its own box (not its label's) is at least 24 by 24 CSS px: stricter than 2.5.8, which
  also counts spacing, because the patients are often older and on phones.
- A ticked radio and checkbox still reach 3:1, and keyboard focus on a control shows an
  outline of 3:1 or more against the background (a date field's calendar button, the
  browser's own part, keeps the browser's own ring).
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from booking.access import private_path
from booking.models import AppointmentType, Booking
from tests.booking.factories import BookingFactory
from tests.conftest import screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MIN_CONTRAST = 3.0
MIN_TARGET = 24

# Reads, for each visible control under `root`, what the rules above need; Python judges.
MEASURE_CONTROLS = """
(selector) => {
  const root = selector ? document.querySelector(selector) : document;
  const controls = root.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, .btn"
  );
  const hidden = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return !el.checkVisibility({visibilityProperty: true, opacityProperty: true})
      || box.width <= 1 || box.height <= 1 || box.right + scrollX <= 0 || box.bottom + scrollY <= 0
      || style.clip === "rect(0px, 0px, 0px, 0px)" || el.closest(".hp-field") !== null;
  };
  const backgrounds = (el) => {
    const layers = [];
    for (let node = el.parentElement; node; node = node.parentElement) {
      layers.push(getComputedStyle(node).backgroundColor);
    }
    return layers;
  };
  const describe = (el) => {
    const label = el.labels && el.labels.length ? el.labels[0].innerText : el.innerText;
    return `${el.tagName.toLowerCase()}${el.type ? "[" + el.type + "]" : ""}`
      + `${el.id ? "#" + el.id : el.name ? "[name=" + el.name + "]" : ""}`
      + ` "${(label || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  };
  const found = [];
  for (const input of controls) {
    let el = input;
    if (input.classList.contains("btn-check")) {
      el = input.labels && input.labels[0];  // the label is the visible button
      if (!el) continue;
    } else if (el.tagName === "LABEL" || hidden(el)) {
      continue;
    }
    if (hidden(el)) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    found.push({
      name: describe(input),
      checked: Boolean(input.checked),
      focused: input === document.activeElement && input.matches(":focus"),
      width: box.width,
      height: box.height,
      background: style.backgroundColor,
      behind: backgrounds(el),
      borders: ["top", "right", "bottom", "left"].map((side) => ({
        width: parseFloat(style.getPropertyValue(`border-${side}-width`)),
        style: style.getPropertyValue(`border-${side}-style`),
        color: style.getPropertyValue(`border-${side}-color`),
      })),
      outline: {
        width: parseFloat(style.outlineWidth),
        style: style.outlineStyle,
        color: style.outlineColor,
      },
    });
  }
  return found;
}
"""


# --- WCAG colour arithmetic -------------------------------------------------------


def parse_colour(css: str) -> tuple[float, float, float, float]:
    """(r, g, b, alpha) of a computed `rgb()`/`rgba()` colour, r, g, b in 0..255."""
    match = re.fullmatch(r"rgba?\(([^)]*)\)", css.strip())
    assert match, f"unexpected computed colour {css!r}"
    parts = [float(part) for part in re.split(r"[\s,/]+", match[1].strip())]
    return (*parts[:3], parts[3] if len(parts) == 4 else 1.0)


def over(top: tuple, bottom: tuple) -> tuple:
    """`top` composed over an opaque `bottom` (source-over)."""
    alpha = top[3]
    return (*(alpha * t + (1 - alpha) * b for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)


def relative_luminance(colour: tuple) -> float:
    """WCAG 2.2's relative luminance of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple, other: tuple) -> float:
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def background_behind(layers: list[str]) -> tuple:
    """The opaque colour the ancestors' backgrounds (nearest first) paint behind a control."""
    colour = (255.0, 255.0, 255.0, 1.0)  # the canvas
    for css in reversed(layers):
        colour = over(parse_colour(css), colour)
    return colour


def boundary_contrast(control: dict) -> float:
    """The contrast of what marks the control's edge against the background behind it."""
    behind = background_behind(control["behind"])
    own = contrast(over(parse_colour(control["background"]), behind), behind)
    sides = [
        contrast(over(parse_colour(side["color"]), behind), behind)
        for side in control["borders"]
        if side["width"] > 0 and side["style"] not in ("none", "hidden")
    ]
    return max(own, min(sides, default=1.0))


def outline_contrast(control: dict) -> float:
    """The focus outline's contrast against the background behind the control (1 if none)."""
    outline = control["outline"]
    if outline["width"] < 2 or outline["style"] in ("none", "hidden"):
        return 1.0
    behind = background_behind(control["behind"])
    return contrast(over(parse_colour(outline["color"]), behind), behind)


# --- Measuring pages --------------------------------------------------------------


def measure(page, selector: str | None = None) -> list[dict]:
    return page.evaluate(MEASURE_CONTROLS, selector)


def problems(page, where: str) -> list[str]:
    controls = measure(page)
    assert controls, f"{where}: no visible form control found"
    return judge(controls, where)


def judge(controls: list[dict], where: str) -> list[str]:
    """Every control that is too faint or too small, with what was measured."""
    found = []
    for control in controls:
        ratio = boundary_contrast(control)
        if ratio < MIN_CONTRAST:
            found.append(f"{where}: {control['name']} has {ratio:.2f}:1")
        if control["width"] < MIN_TARGET or control["height"] < MIN_TARGET:
            size = f"{control['width']:.1f}x{control['height']:.1f}"
            found.append(f"{where}: {control['name']} is {size} px")
    return found


def url(name: str, language: str = "da", **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def next_step(page):
    with page.expect_navigation():
        page.locator("button[type=submit][form=booking-step-form]").click()


def screenshots(page, name: str):
    """The page at phone and desktop width, for a person to look at."""
    screenshot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)


@pytest.fixture
def demo_site(db):
    call_command("load_demo", verbosity=0)
    return {
        "consultation": AppointmentType.objects.get(order=2),
        "gold": AppointmentType.objects.get(order=3),
    }


# --- The tests ----------------------------------------------------------------------


def test_the_contrast_arithmetic_follows_wcag():
    white, black = (255, 255, 255, 1.0), (0, 0, 0, 1.0)
    assert contrast(white, black) == pytest.approx(21.0)
    assert contrast(white, white) == pytest.approx(1.0)
    # Bootstrap's default control border, the faint one: about 1.3:1 on white.
    assert contrast(parse_colour("rgb(222, 226, 230)"), white) == pytest.approx(1.3, abs=0.01)
    assert contrast(parse_colour("rgb(118, 118, 118)"), white) == pytest.approx(4.54, abs=0.01)
    # A half-transparent black border on white shows as mid grey.
    assert over(parse_colour("rgba(0, 0, 0, 0.5)"), white)[:3] == (127.5, 127.5, 127.5)
    assert background_behind(["rgba(0, 0, 0, 0)", "rgb(11, 85, 99)", "rgb(255, 255, 255)"]) == (
        11,
        85,
        99,
        1.0,
    )


def test_a_faint_or_small_control_is_reported():
    white = "rgb(255, 255, 255)"

    def control(border_colour: str, background: str = "rgba(0, 0, 0, 0)") -> dict:
        side = {"width": 1.0, "style": "solid", "color": border_colour}
        return {"background": background, "behind": [white], "borders": [side] * 4}

    assert boundary_contrast(control("rgb(222, 226, 230)")) < MIN_CONTRAST
    assert boundary_contrast(control("rgb(108, 117, 125)")) > MIN_CONTRAST
    # A filled control (a ticked box) stands out by its background.
    assert boundary_contrast(control("rgb(222, 226, 230)", "rgb(11, 85, 99)")) > MIN_CONTRAST
    # One faint side is enough to fail; no border and no background is 1:1.
    faint_side = control("rgb(108, 117, 125)")
    faint_side["borders"] = [
        *faint_side["borders"][:3],
        {**faint_side["borders"][0], "color": white},
    ]
    assert boundary_contrast(faint_side) == pytest.approx(1.0)
    assert boundary_contrast({**control(white), "borders": []}) == pytest.approx(1.0)

    clear = {**control("rgb(108, 117, 125)"), "name": "box", "width": 24.0, "height": 24.0}
    assert judge([clear], "page") == []
    assert judge([{**clear, "height": 23.9}], "page") == ["page: box is 24.0x23.9 px"]
    assert judge(
        [{**control("rgb(222, 226, 230)"), "name": "box", "width": 30, "height": 30}], "page"
    ) == ["page: box has 1.30:1"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_booking_step_has_clear_controls_of_a_good_size(visit, demo_site):
    page = visit(locale="da", viewport=PHONE).page
    found = []
    today = timezone.localdate()

    # A consultation: what, when (a period), about you, the images with the upload box, review.
    page.goto(url("booking:what"))
    found += problems(page, "step 1 (what)")
    page.check(f'input[name=appointment_type][value="{demo_site["consultation"].pk}"]')
    page.fill("#id_painful_area", "Nakke")
    next_step(page)
    assert page.url.endswith(url("booking:when"))
    found += problems(page, "step 2 (when, a period)")
    page.fill("#id_earliest_date", (today + timedelta(days=14)).isoformat())
    page.fill("#id_latest_date", (today + timedelta(days=60)).isoformat())
    page.check('input[name=time_of_day][value="morning"]')
    next_step(page)
    assert page.url.endswith(url("booking:about"))
    found += problems(page, "step 3 (about you)")
    screenshots(page, "form-controls-da-step3")
    page.fill("#id_name", "Inger Marie Holm")
    page.fill("#id_email", "inger@example.com")
    page.fill("#id_phone", "20 12 34 56")
    page.fill("#id_birth_date", "1950-05-04")
    next_step(page)
    assert page.url.endswith(url("booking:images"))
    assert page.locator("#upload-files").is_visible()
    found += problems(page, "step 4 (images)")
    screenshots(page, "form-controls-da-step4")
    next_step(page)
    assert page.url.endswith(url("booking:review"))
    found += problems(page, "step 5 (review)")

    # Gold implantation asks more: the scan, blood thinners and a companion (each with a
    # second screen for what depends on the answer), then free times to pick.
    page.goto(url("booking:what"))
    page.check(f'input[name=appointment_type][value="{demo_site["gold"].pk}"]')
    next_step(page)
    assert page.url.endswith(url("booking:images"))
    page.check('input[name=imaging_status][value="radiology"]')
    found += problems(page, "gold's images")
    next_step(page)
    assert page.locator('input[name="scan_modality"]').count() == 4
    found += problems(page, "gold's scan")
    next_step(page)
    assert page.url.endswith(url("booking:checklist"))
    page.check('input[name=takes_blood_thinners][value="yes"]')
    page.check("#id_companion_confirmed")
    found += problems(page, "gold's checklist")
    next_step(page)
    assert page.locator("input[name=anticoagulants]").count() > 0
    assert page.locator("#id_companion_phone").is_visible()
    found += problems(page, "gold's checklist, second screen")
    next_step(page)
    assert page.url.endswith(url("booking:when"))
    assert page.locator("input.btn-check").count() > 0
    found += problems(page, "gold's free times")
    assert not found, "\n" + "\n".join(found)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_private_page_and_the_other_forms_have_clear_controls(visit, demo_site):
    starts_at = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    booking = BookingFactory(
        appointment_type=demo_site["gold"],
        status=Booking.Status.CONFIRMED,
        starts_at=starts_at + timedelta(days=10),
        ends_at=starts_at + timedelta(days=10, minutes=45),
    )
    page = visit(locale="da", viewport=PHONE).page
    found = []

    page.goto(private_path(booking, "da"))
    assert page.locator("#id_companion_name").is_visible()
    page.locator(".private-cancel summary").click()  # the cancel form is folded away
    assert page.locator(".private-cancel textarea").is_visible()
    found += problems(page, "private page")
    page.goto(private_path(booking, "da", name="private_reschedule"))
    assert page.locator("input.btn-check").count() > 0
    found += problems(page, "reschedule")
    for name, where in [
        ("testimonials:submit", "testimonial form"),
        ("testimonials:index", "testimonials' filter"),
        ("booking:new_link", "new-link form"),
    ]:
        page.goto(url(name))
        found += problems(page, where)
    assert not found, "\n" + "\n".join(found)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ticked_and_focused_controls_stay_clear(visit, demo_site):
    page = visit(locale="da", viewport=PHONE).page
    page.goto(url("booking:what"))
    page.check(f'input[name=appointment_type][value="{demo_site["consultation"].pk}"]')
    page.fill("#id_painful_area", "Nakke")
    next_step(page)
    page.check('input[name=weekdays][value="1"]')
    page.check('input[name=time_of_day][value="morning"]')

    ticked = [control for control in measure(page, "#booking-step-form") if control["checked"]]
    assert sorted(control["name"].split("#")[0] for control in ticked) == [
        "input[checkbox]",
        "input[radio]",
    ]
    for control in ticked:
        assert boundary_contrast(control) >= MIN_CONTRAST, control

    # Keyboard focus, from the first date field on through the form's controls.
    page.focus("#id_earliest_date")
    seen, faint = [], []
    while page.evaluate("document.activeElement.closest('#booking-step-form') !== null"):
        # A date field's calendar button is the browser's own, with the browser's own ring.
        for control in (c for c in measure(page, "#booking-step-form") if c["focused"]):
            seen.append(control["name"])
            if outline_contrast(control) < MIN_CONTRAST:
                faint.append(f"{control['name']}: {outline_contrast(control):.2f}:1")
        page.keyboard.press("Tab")
    assert any(name.startswith("input[checkbox]") for name in seen), seen
    assert any(name.startswith("input[radio]") for name in seen), seen
    assert not faint, "\n" + "\n".join(faint)
