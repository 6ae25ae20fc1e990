"""The private page tells one story: at every stage of a booking it never contradicts itself.

A gold-implantation booking is followed from the request to the end, with a scan that
will be too old and a doctor's advice about the images, so that each message that used
to be repeated (the scan warning, the advice, "do not stop" beside the agreed plan) can
be counted.
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from booking.access import make_token, private_path
from booking.models import Booking, ImagingReview, PlanLine
from booking.timeline import DONE, LATE, TO_DO, WAITING, timeline
from tests.booking.factories import AnticoagulantFactory, BookingFactory
from tests.conftest import axe_violations, screenshot
from tests.factories import UserFactory

DO_NOT_STOP = "Do not stop any medicine until we have agreed a plan with you."
YOUR_PLAN = "This is your plan."
SCAN_WARNING = "The scan will be more than 2 years old on the day."
ADVICE = "Please ask your own doctor for a new MR scan of the neck."
READ_BUTTON = "I have read my plan"
READ_DONE = "that you have read the plan."
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

STAGES = [
    "requested",
    "tentative",
    "confirmed",
    "prepared",
    "agreed",
    "read",
    "companion",
    "cancelled",
    "completed",
]
AGREED_STAGES = {"agreed", "read", "companion", "cancelled", "completed"}
COMPANION_STAGES = {"companion", "cancelled", "completed"}


@pytest.fixture
def replans(monkeypatch):
    """The bookings passed to booking.outbox.replan from now on."""
    from booking import outbox

    calls = []
    monkeypatch.setattr(outbox, "replan", lambda booking, **kwargs: calls.append(booking.pk))
    return calls


def appointment_time() -> datetime:
    day = timezone.localdate() + timedelta(days=30)
    return timezone.make_aware(datetime.combine(day, time(9, 30)))


def at_stage(stage: str) -> Booking:
    """A booking as it is at `stage`; each stage builds on the one before it."""
    index = STAGES.index(stage)
    booking = BookingFactory(
        language="en",
        takes_blood_thinners=Booking.Answer.YES,
        imaging_status=Booking.ImagingStatus.NO_SCAN_YET,
        scan_date=timezone.localdate() - timedelta(days=3 * 365),
    )
    ImagingReview.objects.create(
        booking=booking,
        doctor=UserFactory(),
        verdict=ImagingReview.Verdict.NEW_IMAGING,
        advice_for_patient=ADVICE,
    )
    if index >= STAGES.index("tentative"):
        booking.status = Booking.Status.TENTATIVE
        booking.starts_at = appointment_time()
        booking.ends_at = booking.starts_at + timedelta(minutes=45)
    if index >= STAGES.index("confirmed"):
        booking.status = Booking.Status.CONFIRMED
    if index >= STAGES.index("prepared"):
        day = timezone.localdate(booking.starts_at)
        booking.last_dose_date = day - timedelta(days=3)
        booking.restart_date = day + timedelta(days=1)
        booking.plan_prepared_by = UserFactory()
        PlanLine.objects.create(
            booking=booking,
            anticoagulant=AnticoagulantFactory(brand="Eliquis"),
            action=PlanLine.Action.PAUSE,
            last_dose_date=booking.last_dose_date,
            restart_date=booking.restart_date,
        )
        PlanLine.objects.create(
            booking=booking, medicine_name="Hjertemagnyl", action=PlanLine.Action.CONTINUE, order=1
        )
    if stage in AGREED_STAGES:
        booking.plan_agreed_by = UserFactory()
        booking.plan_agreed_at = timezone.now()
        booking.plan_instructions = "Take the last tablet in the evening."
    if stage in {"read", "completed"}:
        booking.plan_read_at = timezone.now()
    if stage in COMPANION_STAGES:
        booking.companion_confirmed = True
        booking.companion_name = "Ole"
    if stage == "cancelled":
        booking.status = Booking.Status.CANCELLED
    if stage == "completed":
        booking.status = Booking.Status.COMPLETED
    booking.save()
    return booking


def page(client, booking) -> str:
    response = client.get(private_path(booking, "en"))
    assert response.status_code == 200
    return response.content.decode()


def action_url(booking, name: str, token: str | None = None) -> str:
    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs={"token": token or make_token(booking)})


# --- The page at each stage ---------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_the_plan_message_is_do_not_stop_or_the_agreed_plan_never_both(client, clinic, stage):
    html = page(client, at_stage(stage))
    agreed = stage in AGREED_STAGES
    assert html.count(DO_NOT_STOP) == (0 if agreed else 1)
    assert html.count(YOUR_PLAN) == (1 if agreed else 0)
    # Prepared dates are not an agreement: no date of the pause before a doctor agreed.
    assert ("Last day to take it" in html) is agreed
    has_steps = stage != "cancelled"
    assert ("Start taking your blood-thinning medicine again" in html) is (agreed and has_steps)


@pytest.mark.parametrize("stage", STAGES)
def test_the_scan_warning_and_the_doctors_advice_appear_once(client, clinic, stage):
    html = page(client, at_stage(stage))
    # Nothing about images is left to do once the booking is cancelled or completed.
    expected = 0 if stage in {"cancelled", "completed"} else 1
    assert html.count(SCAN_WARNING) == expected
    assert html.count(ADVICE) == expected


@pytest.mark.parametrize("stage", STAGES)
def test_cancelling_is_a_folded_secondary_control_and_gone_once_over(client, clinic, stage):
    html = page(client, at_stage(stage))
    assert 'class="btn btn-danger' not in html
    if stage in {"cancelled", "completed"}:
        assert "private-cancel" not in html
        assert "Cancel my appointment" not in html and "Withdraw my request" not in html
        return
    folded = re.search(r'<details class="private-cancel">(.*?)</details>', html, re.S)
    assert folded, "the cancel form is folded away, closed"
    label = "Withdraw my request" if stage == "requested" else "Cancel my appointment"
    assert re.search(r'class="btn btn-outline-danger">' + label, folded.group(1))
    assert html.index("private-cancel") > html.index("timeline-heading")


@pytest.mark.parametrize("stage", STAGES)
def test_the_companion_form_hides_behind_change_once_confirmed(client, clinic, stage):
    html = page(client, at_stage(stage))
    if stage == "cancelled":
        assert 'name="companion_name"' not in html
    elif stage in COMPANION_STAGES - {"completed"}:
        assert "Ole will drive you home." in html
        folded = re.search(r'<details class="private-change">(.*?)</details>', html, re.S)
        assert folded and 'name="companion_name"' in folded.group(1)
        assert html.count('name="companion_name"') == 1
    elif stage != "completed":
        assert "private-change" not in html
        assert html.count('name="companion_name"') == 1


@pytest.mark.parametrize("stage", STAGES)
def test_the_read_plan_button_only_for_an_agreed_unread_plan(client, clinic, stage):
    html = page(client, at_stage(stage))
    shown = stage in {"agreed", "companion"}
    assert (READ_BUTTON in html) is shown
    assert html.count('class="private-plan-read"') == (1 if shown else 0)
    assert (READ_DONE in html) is (stage in {"read", "completed"})


@pytest.mark.parametrize("stage", STAGES)
def test_the_time_stands_in_its_own_block_at_the_top(client, clinic, stage):
    booking = at_stage(stage)
    html = page(client, booking)
    block = re.search(r'<div class="private-when[^"]*">(.*?)</div>', html, re.S)
    if stage in {"requested", "cancelled"}:
        assert block is None
        return
    assert block.start() < html.index("timeline-heading")
    when = timezone.localtime(booking.starts_at)
    assert when.strftime("%A") in block.group(1) and "9:30" in block.group(1)
    assert "Kildevej 1" in block.group(1)
    assert ("Tentative: we will confirm this time." in block.group(1)) is (stage == "tentative")


def test_the_steps_are_an_ordered_list_with_each_state_in_words(client, clinic):
    html = page(client, at_stage("companion"))
    steps = re.search(r'<ol class="private-timeline"[^>]*>(.*?)</ol>', html, re.S).group(1)
    titles = re.findall(r'<p class="timeline-title"><strong>(.*?)</strong>', steps)
    assert titles == [
        "Send your images by this day",
        "Last day to take your blood-thinning medicine",
        "Someone to drive you home",
        "Your appointment",
        "Start taking your blood-thinning medicine again",
    ]
    states = re.findall(r'<span class="timeline-state[^"]*">(.*?)</span>', steps)
    assert states == ["To do", "To do", "Done", "To do", "To do"]


def test_the_type_advice_gives_way_to_the_agreed_plan(client, clinic):
    booking = at_stage("prepared")
    booking.appointment_type.instructions_en = "Bring a list of your medicines."
    booking.appointment_type.save()
    assert "Bring a list of your medicines." in page(client, booking)
    booking.plan_agreed_at = timezone.now()
    booking.save()
    assert "Bring a list of your medicines." not in page(client, booking)


def test_the_agreed_plan_lists_each_medicine_and_the_doctors_words(client, clinic):
    booking = at_stage("agreed")
    html = page(client, booking)
    plan = re.search(r'<section [^>]*class="blood-thinner-plan">(.*?)</section>', html, re.S)
    text = plan.group(1)
    eliquis, aspirin = booking.plan_lines.all()
    assert text.index(eliquis.name) < text.index("Last day to take it")
    assert text.index(aspirin.name) < text.index("Keep taking it as usual.")
    with translation.override("en"):
        for day in (eliquis.last_dose_date, eliquis.restart_date):
            assert f"{date_format(day, 'l')} {date_format(day, 'DATE_FORMAT')}" in text
    assert "Take the last tablet in the evening." in text


# --- Reading the plan ---------------------------------------------------------------


def test_reading_the_plan_is_recorded_once_and_replans_the_messages(client, clinic, replans):
    booking = at_stage("agreed")
    replans.clear()
    response = client.post(action_url(booking, "private_plan_read"))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.plan_read_at is not None
    assert replans and set(replans) == {booking.pk}
    html = client.get(response["Location"]).content.decode()
    assert READ_DONE in html and READ_BUTTON not in html


@pytest.mark.parametrize("stage", ["prepared", "cancelled", "read"])
def test_reading_the_plan_is_refused_unless_agreed_active_and_unread(
    client, clinic, replans, stage
):
    booking = at_stage(stage)
    before = booking.plan_read_at
    replans.clear()
    client.post(action_url(booking, "private_plan_read"))
    booking.refresh_from_db()
    assert booking.plan_read_at == before
    assert replans == []


def test_reading_the_plan_with_a_bad_token_changes_nothing(client, clinic, replans):
    booking = at_stage("agreed")
    replans.clear()
    token = make_token(booking)
    response = client.post(action_url(booking, "private_plan_read", token[:-3] + "xyz"))
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.plan_read_at is None and replans == []


def test_reading_the_plan_needs_a_post(client, clinic, replans):
    booking = at_stage("agreed")
    assert client.get(action_url(booking, "private_plan_read")).status_code == 405
    booking.refresh_from_db()
    assert booking.plan_read_at is None


# --- Reminders ----------------------------------------------------------------------


def test_reminders_can_be_turned_off_and_on(client, clinic, replans):
    booking = at_stage("confirmed")
    html = page(client, booking)
    assert "Messages about your plan and about a change of time are always sent." in html
    replans.clear()
    client.post(action_url(booking, "private_reminders"), {"reminders": "off"})
    booking.refresh_from_db()
    assert booking.reminders_off and replans
    assert "Send me reminders" in page(client, booking)
    replans.clear()
    client.post(action_url(booking, "private_reminders"), {"reminders": "on"})
    booking.refresh_from_db()
    assert not booking.reminders_off and replans
    assert "Stop sending me reminders" in page(client, booking)


def test_reminders_cannot_be_changed_on_a_cancelled_booking(client, clinic, replans):
    booking = at_stage("cancelled")
    replans.clear()
    assert "reminders-heading" not in page(client, booking)
    client.post(action_url(booking, "private_reminders"), {"reminders": "off"})
    booking.refresh_from_db()
    assert not booking.reminders_off and replans == []


# --- The timeline itself ------------------------------------------------------------


def test_images_are_due_a_week_before_the_appointment_and_late_after(clinic):
    booking = at_stage("confirmed")
    due = timezone.localdate(booking.starts_at) - timedelta(days=7)
    images = [step for step in timeline(booking, today=due) if step.code == "images"][0]
    assert (images.date, images.state) == (due, TO_DO)
    images = timeline(booking, today=due + timedelta(days=1))[0]
    assert (images.code, images.state) == ("images", LATE)


def test_without_a_time_images_are_due_a_week_before_the_period_ends(clinic):
    booking = at_stage("requested")
    steps = timeline(booking, today=timezone.localdate())
    assert [step.code for step in steps] == ["images", "plan", "companion", "appointment"]
    assert steps[0].date == booking.latest_date - timedelta(days=7)
    assert [step.date for step in steps[1:]] == [None, None, None]
    assert (steps[1].state, steps[3].state) == (WAITING, WAITING)


def test_medicines_paused_on_different_days_get_their_own_steps(clinic):
    booking = at_stage("agreed")
    day = timezone.localdate(booking.starts_at)
    PlanLine.objects.create(
        booking=booking,
        medicine_name="Marevan",
        action=PlanLine.Action.PAUSE,
        last_dose_date=day - timedelta(days=5),
        restart_date=day + timedelta(days=1),
    )
    eliquis = booking.plan_lines.first().name
    steps = timeline(booking, today=date(2000, 1, 1))
    doses = [(s.date, s.medicines) for s in steps if s.code in ("last_dose", "restart")]
    assert doses == [
        (day - timedelta(days=5), ("Marevan",)),
        (day - timedelta(days=3), (eliquis,)),
        (day + timedelta(days=1), (eliquis, "Marevan")),
    ]


def test_past_days_of_the_pause_are_done(clinic):
    booking = at_stage("agreed")
    after = booking.last_dose_date + timedelta(days=1)
    states = {s.code: s.state for s in timeline(booking, today=after)}
    assert (states["last_dose"], states["restart"]) == (DONE, TO_DO)


def test_the_timeline_makes_no_query_with_the_checklist_and_the_lines_given(
    clinic, django_assert_num_queries
):
    from booking.checklist import checklist

    booking = Booking.objects.prefetch_related("plan_lines__anticoagulant").get(
        pk=at_stage("agreed").pk
    )
    booking.appointment_type  # noqa: B018 - loaded once, as the page's query does
    items = checklist(booking, upload_count=0)
    with django_assert_num_queries(0):
        timeline(booking, items=items)


def test_after_the_visit_only_starting_again_is_left(clinic):
    booking = at_stage("completed")
    steps = timeline(booking, today=booking.restart_date)
    assert [(step.code, step.state) for step in steps] == [
        ("appointment", DONE),
        ("restart", TO_DO),
    ]


def test_after_the_visit_prepared_dates_are_still_not_a_plan(clinic):
    booking = at_stage("prepared")
    booking.status = Booking.Status.COMPLETED
    steps = timeline(booking, today=booking.restart_date)
    assert [step.code for step in steps] == ["appointment"]


# --- In a real browser --------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_agreed_plan_with_a_companion_on_a_phone_and_a_desktop(visit, clinic, replans):
    booking = at_stage("companion")
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        browser_page = visit(locale="en", viewport=viewport).page
        browser_page.goto(private_path(booking, "en"))
        assert axe_violations(browser_page) == [], name
        screenshot(browser_page, f"private-story-agreed-{name}")
    assert browser_page.locator("details.private-change").get_attribute("open") is None
    with browser_page.expect_navigation():
        browser_page.get_by_role("button", name=READ_BUTTON).click()
    assert READ_DONE in browser_page.locator(".blood-thinner-plan").inner_text()
    booking.refresh_from_db()
    assert booking.plan_read_at is not None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_stage_on_a_phone_tells_one_story(visit, clinic):
    """A screenshot of each stage at 390 px (var/screenshots/private-stage-*.png)."""
    browser_page = visit(locale="en", viewport=PHONE).page
    for stage in STAGES:
        browser_page.goto(private_path(at_stage(stage), "en"))
        text = browser_page.locator("main").inner_text()
        agreed = stage in AGREED_STAGES
        assert (DO_NOT_STOP in text, YOUR_PLAN in text) == (not agreed, agreed), stage
        assert text.count(SCAN_WARNING) <= 1 and text.count(ADVICE) <= 1, stage
        # The time comes before any list of steps, and no button is wider than the phone.
        widths = browser_page.eval_on_selector_all(
            "main .btn", "buttons => buttons.map(b => b.getBoundingClientRect().right)"
        )
        assert all(right <= PHONE["width"] for right in widths), stage
        screenshot(browser_page, f"private-stage-{STAGES.index(stage)}-{stage}")
