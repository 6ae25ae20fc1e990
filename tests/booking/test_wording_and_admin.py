"""Words a patient of 77 and the clinic's staff understand, and a staff list that fits a screen.

Each wording is read from the page or e-mail as it is rendered, in Danish and in one
other language. The admin's booking list is measured in a real Chromium at 1280 px.
"""

import json
import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from booking import services
from booking.access import private_path
from booking.demo import load_demo_bookings
from booking.emails import build_message
from booking.models import Booking
from clinic.fields import editor_labels
from clinic.models import ClinicDetails
from conditions.models import Treatment
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory, BookingFactory
from tests.conditions.factories import ConditionFactory
from tests.conftest import axe_violations, log_in_verified, screenshot
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Booking.Status
LIST = "/admin/booking/booking/"


@pytest.fixture(autouse=True)
def sent():
    with mock.patch("booking.tasks.send_booking_message") as send:
        yield send


def in_language(language: str, message: str, context: str | None = None) -> str:
    with translation.override(language):
        if context:
            return translation.pgettext(context, message)
        return translation.gettext(message)


def staff(client, user, language: str):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def label_of(html: str, field_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>\s*(.*?)\s*</label>', html, re.S)
    assert match, f"no label for {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def reception_user():
    return UserFactory(username="rikke", first_name="Rikke", last_name="Holm", groups=["Reception"])


@pytest.fixture
def doctor_user():
    user = UserFactory(username="mette", first_name="Mette", last_name="Brask", groups=["Doctors"])
    PractitionerFactory(name="Mette Brask", user=user)
    return user


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken",
        phone="+4570203040",
        email="clinic@example.com",
        street_address="Kildevej 1",
        postal_code="8000",
        city="Aarhus C",
    )


# --- 1. The booking asks what kind of pain it is -------------------------------------


@pytest.mark.parametrize(
    "language, wording, awkward",
    [
        ("da", "Hvad er det for smerter?", "Hvad drejer dine smerter sig om?"),
        ("sv", "Vilken sorts smärta har du?", "Vad gäller din smärta?"),
        ("en", "What kind of pain do you have?", "What is your pain about?"),
    ],
)
def test_the_booking_asks_what_kind_of_pain_it_is(client, language, wording, awkward):
    AppointmentTypeFactory()
    ConditionFactory()
    with translation.override(language):
        html = html_of(client.get(reverse("booking:what")))
    assert label_of(html, "id_condition") == wording
    assert awkward not in html


# --- 2. A sent request is "waiting for a time", for the patient and for staff -------


@pytest.mark.parametrize(
    "language, wording, old",
    [("da", "Venter på en tid", "Forespurgt"), ("sv", "Väntar på en tid", "Förfrågan skickad")],
)
def test_a_sent_request_is_waiting_for_a_time_on_the_private_page(
    client, clinic, language, wording, old
):
    booking = BookingFactory(language=language)
    html = html_of(client.get(private_path(booking, language)))
    status = re.search(r'class="booking-status-value[^"]*"><strong>(.*?)</strong>', html)
    assert status and status.group(1) == wording
    assert old not in html


@pytest.mark.parametrize(
    "language, wording, old",
    [("da", "Venter på en tid", "Forespurgt"), ("de", "Wartet auf einen Termin", "Angefragt")],
)
def test_a_sent_request_is_waiting_for_a_time_in_the_staff_list(
    client, reception_user, language, wording, old
):
    BookingFactory()
    html = html_of(staff(client, reception_user, language).get(LIST))
    cell = re.search(r'<td class="field-status">(.*?)</td>', html)
    assert cell and cell.group(1) == wording
    assert f'">{wording}</a>' in html  # and the filter's choice
    assert old not in html


# --- 3. Phone numbers read as people write them -------------------------------------


def test_the_companions_phone_is_spaced_on_the_private_page_and_stored_as_before(client, clinic):
    booking = BookingFactory(
        language="da",
        companion_confirmed=True,
        companion_name="Ole",
        companion_phone="+4522334455",
    )
    html = html_of(client.get(private_path(booking, "da")))
    field = re.search(r'<input[^>]*name="companion_phone"[^>]*>', html).group(0)
    assert 'value="+45 22 33 44 55"' in field
    assert "+4522334455" not in html
    booking.refresh_from_db()
    assert booking.companion_phone == "+4522334455"


def test_staff_pages_show_the_patients_and_companions_phone_spaced(client, reception_user):
    booking = BookingFactory(phone="+4520123456", companion_phone="+4522334455")
    client = staff(client, reception_user, "da")
    change = html_of(client.get(reverse("admin:booking_booking_change", args=[booking.pk])))
    for name, shown in [("phone", "+45 20 12 34 56"), ("companion_phone", "+45 22 33 44 55")]:
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', change).group(0)
        assert f'value="{shown}"' in field, field
    confirm = html_of(client.get(reverse("admin:booking_booking_confirm", args=[booking.pk])))
    for page in (change, confirm):
        assert "+4520123456" not in page and "+4522334455" not in page
    assert "+45 20 12 34 56" in text_of(confirm)


def admin_form(user, booking, data=None):
    request = RequestFactory().get("/")
    request.user = user
    form_class = admin.site._registry[Booking].get_form(request, booking)
    return form_class(data, instance=booking)


def test_an_unchanged_phone_is_not_a_change_and_a_new_one_is_stored_in_e164(reception_user):
    booking = BookingFactory(phone="+4520123456", companion_phone="+4522334455")
    shown = admin_form(reception_user, booking)
    data = {name: shown[name].value() for name in shown.fields if name != "new_files"}
    data = {name: value for name, value in data.items() if value is not None}
    for name in ("phone", "companion_phone"):  # sent back as the page shows them
        data[name] = re.search(r'value="([^"]*)"', str(shown[name])).group(1)
    assert data["phone"] == "+45 20 12 34 56"

    unchanged = admin_form(reception_user, booking, data)
    assert unchanged.is_valid(), unchanged.errors
    assert "phone" not in unchanged.changed_data
    assert "companion_phone" not in unchanged.changed_data
    assert unchanged.cleaned_data["phone"] == "+4520123456"

    changed = admin_form(
        reception_user,
        booking,
        {**data, "phone": "20 12 34 57", "companion_phone": "ring efter 16"},
    )
    assert changed.is_valid(), changed.errors
    assert changed.cleaned_data["phone"] == "+4520123457"
    # Not a number: kept exactly as typed.
    assert changed.cleaned_data["companion_phone"] == "ring efter 16"


# --- 4. The booking's status has its own label ---------------------------------------


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_bookings_status_is_not_called_a_publication_status(client, reception_user, language):
    booking = BookingFactory()
    publication = in_language(language, "status")  # the published content's label
    label = in_language(language, "Status")
    assert publication.lower() != label.lower() or language == "en"
    client = staff(client, reception_user, language)
    page = html_of(client.get(reverse("admin:booking_booking_change", args=[booking.pk])))
    row = re.search(r'<div class="form-row field-status">.*?<label>(.*?):</label>', page, re.S)
    assert row and row.group(1) == label
    listing = html_of(client.get(LIST))
    header = re.search(r'<th scope="col" class="[^"]*column-status[^"]*">(.*?)</th>', listing, re.S)
    assert header and label in header.group(1)
    by_status = in_language(language, " By %(filter_title)s ") % {"filter_title": ""}
    assert f"{by_status.strip()} {label[:1].lower()}{label[1:]}" in text_of(listing)
    if language == "da":
        for html in (page, listing):
            assert "ubliceringsstatus" not in html


def test_published_content_keeps_its_publication_status_label(client):
    editor = UserFactory(groups=["Editors"])
    condition = ConditionFactory()
    page = html_of(
        staff(client, editor, "da").get(
            reverse("admin:conditions_condition_change", args=[condition.pk])
        )
    )
    assert "Publiceringsstatus" in page


# --- 5. Language names in the admin's language ---------------------------------------


@pytest.mark.parametrize(
    "language, names",
    [
        ("da", ["Engelsk", "Norsk (bokmål)", "Svensk", "Tysk"]),
        ("de", ["Englisch", "Norwegisch (Bokmål)", "Schwedisch", "Deutsch"]),
    ],
)
def test_the_admin_names_every_language_in_its_own_language(client, language, names):
    editor = UserFactory(groups=["Editors"])
    ConditionFactory()
    client = staff(client, editor, language)
    for url in ("/admin/translations/", reverse("admin:conditions_condition_changelist")):
        html = html_of(client.get(url))
        for name in names:
            assert name in html, (url, name)
        assert "Norwegian" not in html and "Bokmal" not in html, url


# --- 6. The rich-text editor's words come from the catalogue -------------------------


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_rich_text_editor_gets_its_words_in_the_admins_language(client, language):
    editor = UserFactory(groups=["Editors"])
    condition = ConditionFactory()
    page = html_of(
        staff(client, editor, language).get(
            reverse("admin:conditions_condition_change", args=[condition.pk])
        )
    )
    script = re.search(r'<script src="[^"]*prose-editor-labels[^"]*" data-labels="([^"]*)"', page)
    assert script, "the editor's words are not on the page"
    labels = json.loads(script.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    with translation.override(language):
        assert labels == editor_labels()
        word = lambda text: translation.pgettext("rich-text editor", text)  # noqa: E731
        assert labels["bold"] == word("Bold")
        assert (
            labels["heading 2"] == labels["Heading 2"] == word("Heading %(level)d") % {"level": 2}
        )
    assert labels["insert link"] != "insert link"
    # Before the editor's own scripts, which read the catalogue when they load.
    scripts = re.findall(r'<script src="([^"]+)"', page)
    ours = next(i for i, src in enumerate(scripts) if src.endswith("/js/prose-editor-labels.js"))
    assert scripts.index("/admin/jsi18n/") < ours
    assert ours < min(i for i, src in enumerate(scripts) if "django_prose_editor/" in src)


# --- 7. Staff e-mails address staff --------------------------------------------------


@pytest.mark.parametrize(
    "language, staff_label, patient_label",
    [("da", "Referencekode", "Din referencekode"), ("en", "Reference", "Your reference")],
)
def test_the_staff_mail_names_the_bookings_reference_and_the_patients_says_yours(
    clinic, settings, language, staff_label, patient_label
):
    settings.LANGUAGE_CODE = language  # the clinic's own language, for the staff mail
    booking = BookingFactory(language=language, email="patient@example.com")
    to_staff = build_message(
        booking=booking, kind="clinic_new_request", site_url="https://clinic.example", clinic=clinic
    )
    to_patient = build_message(
        booking=booking, kind="received", site_url="https://clinic.example", clinic=clinic
    )
    for message, label, not_label in [
        (to_staff, staff_label, patient_label),
        (to_patient, patient_label, None),
    ]:
        html = message.alternatives[0][0]
        assert f"{label}: {booking.reference}" in message.body
        assert f"{label}: <strong>{booking.reference}</strong>" in html
        if not_label:
            assert not_label not in message.body and not_label not in html


# --- 8. The booking list's columns and the plan's record -----------------------------


def test_the_booking_list_has_five_short_columns(client, reception_user):
    practitioner = PractitionerFactory(name="Lars Lind")
    starts = timezone.make_aware(datetime(2030, 3, 14, 9, 30))
    booking = BookingFactory(
        name="Grethe Holm",
        status=Status.CONFIRMED,
        practitioner=practitioner,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
    )
    html = html_of(staff(client, reception_user, "en").get(LIST))
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers == [
        "booking_column",
        "appointment_type",
        "status",
        "time_column",
        "checklist_column",
    ]
    row = text_of(re.search(r"<tr>.*?</tr>", html.split("<tbody>")[1], re.S).group(0))
    assert f"{booking.reference} Grethe Holm" in row
    assert "14 March 2030, 09:30 Lars Lind" in row


def prepare_plan(booking, user, medicine=None):
    medicine = medicine or AnticoagulantFactory(default_pause_days=2)
    day = booking.appointment_day
    services.prepare_anticoagulant_plan(
        booking=booking,
        lines=[
            {
                "anticoagulant": medicine,
                "medicine_name": "",
                "action": "pause",
                "last_dose_date": day - timedelta(days=3),
                "restart_date": day + timedelta(days=1),
            }
        ],
        instructions="",
        user=user,
    )


def confirmed_booking(practitioner, day):
    starts = timezone.make_aware(datetime.combine(day, time(10)))
    return BookingFactory(
        status=Status.CONFIRMED,
        takes_blood_thinners="yes",
        practitioner=practitioner,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=45),
        claim_starts_at=starts,
        claim_ends_at=starts + timedelta(minutes=45),
    )


def test_the_plan_page_says_who_prepared_the_plan_and_when_and_who_agreed_it(
    client, reception_user, doctor_user
):
    zone = timezone.get_current_timezone()
    prepared_at = datetime(2030, 3, 1, 9, 15, tzinfo=zone)
    agreed_at = datetime(2030, 3, 2, 14, 40, tzinfo=zone)
    with time_machine.travel(prepared_at, tick=False):
        booking = confirmed_booking(PractitionerFactory(), prepared_at.date() + timedelta(days=10))
        plan_url = reverse("admin:booking_booking_plan", args=[booking.pk])
        nothing_yet = text_of(html_of(staff(client, doctor_user, "da").get(plan_url)))
        assert in_language("da", "Prepared by") not in nothing_yet
        prepare_plan(booking, reception_user)
    with time_machine.travel(prepared_at + timedelta(hours=3), tick=False):
        # Reception saves the booking's page for something else: not a new preparing.
        booking.refresh_from_db()
        booking._history_user = reception_user
        booking.save()

    for language in ("da", "en"):
        page = text_of(html_of(staff(client, doctor_user, language).get(plan_url)))
        with translation.override(language):
            when = date_format(prepared_at, "DATETIME_FORMAT")
        assert f"{in_language(language, 'Prepared by')} Rikke Holm, {when}." in page
        assert in_language(language, "Not agreed yet: a doctor must agree it.") in page

    with time_machine.travel(agreed_at, tick=False):
        booking.refresh_from_db()
        lines = [
            {
                "anticoagulant": line.anticoagulant,
                "medicine_name": line.medicine_name,
                "action": line.action,
                "last_dose_date": line.last_dose_date,
                "restart_date": line.restart_date,
            }
            for line in booking.plan_lines.all()
        ]
        services.agree_anticoagulant_plan(
            booking=booking, lines=lines, instructions="", user=doctor_user
        )
    page = text_of(html_of(staff(client, doctor_user, "da").get(plan_url)))
    with translation.override("da"):
        prepared, agreed = (date_format(d, "DATETIME_FORMAT") for d in (prepared_at, agreed_at))
    # Agreeing the plan does not move the day it was prepared.
    assert f"Udarbejdet af Rikke Holm, {prepared}." in page
    assert f"Aftalt af Mette Brask, {agreed}." in page
    change = text_of(
        html_of(client.get(reverse("admin:booking_booking_change", args=[booking.pk])))
    )
    assert "Udarbejdet af Rikke Holm (2030-03-01 09:15)." in change
    assert "Aftalt af Mette Brask (2030-03-02 14:40)." in change


def paused_line(booking, medicine=None) -> dict:
    day = booking.appointment_day
    return {
        "anticoagulant": medicine or AnticoagulantFactory(default_pause_days=2),
        "medicine_name": "",
        "action": "pause",
        "last_dose_date": day - timedelta(days=3),
        "restart_date": day + timedelta(days=1),
    }


@pytest.mark.parametrize("prepared_first", [False, True])
def test_a_doctor_who_agrees_their_own_plan_prepared_it_when_they_first_saved_it(
    client, doctor_user, prepared_first
):
    zone = timezone.get_current_timezone()
    prepared_at = datetime(2030, 3, 1, 8, 5, tzinfo=zone)
    agreed_at = datetime(2030, 3, 2, 14, 40, tzinfo=zone)
    with time_machine.travel(prepared_at, tick=False):
        booking = confirmed_booking(PractitionerFactory(), agreed_at.date() + timedelta(days=10))
        line = paused_line(booking)
        if prepared_first:
            services.prepare_anticoagulant_plan(
                booking=booking, lines=[line], instructions="", user=doctor_user
            )
    with time_machine.travel(agreed_at, tick=False):
        booking.refresh_from_db()
        services.agree_anticoagulant_plan(
            booking=booking, lines=[line], instructions="", user=doctor_user
        )
    plan_url = reverse("admin:booking_booking_plan", args=[booking.pk])
    page = text_of(html_of(staff(client, doctor_user, "en").get(plan_url)))
    with translation.override("en"):
        prepared = date_format(prepared_at if prepared_first else agreed_at, "DATETIME_FORMAT")
        agreed = date_format(agreed_at, "DATETIME_FORMAT")
    assert f"Prepared by Mette Brask, {prepared}." in page
    assert f"Agreed by Mette Brask, {agreed}." in page


# --- In Chromium: the list fits 1280 px; the editor's menu; the plan page -----------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_booking_list_fits_1280_px_with_the_checklist_in_view(visit, demo_site):
    UserFactory(username="rikke", first_name="Rikke", last_name="Holm", groups=["Reception"])
    UserFactory(username="eva", groups=["Editors"])
    # The demo's four patients next week (made only for local development), and the
    # longest Danish status with a long name, and a request waiting for a time.
    load_demo_bookings(demo_site["doctor"], timezone.localdate())
    BookingFactory(
        name="Karen-Margrethe Østergaard Christiansen",
        status=Status.TENTATIVE,
        appointment_type=demo_site["gold"],
    )
    BookingFactory(name="Ib Ravn", appointment_type=demo_site["gold"])

    browser = visit(locale="da", viewport={"width": 1280, "height": 800})
    page = browser.page
    log_in_verified(page, "rikke")
    # Danish, and Norwegian, whose headers are the longest.
    for language in ("nb", "da"):
        browser.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": browser.base_url}]
        )
        page.goto(LIST)
        expect(page.locator("html")).to_have_attribute("lang", language)
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(Booking.objects.sent().count())
        fits = page.evaluate(
            """() => {
              const results = document.querySelector("#changelist-form .results");
              const checklist = document.querySelector("#result_list th.column-checklist_column");
              const box = checklist.getBoundingClientRect();
              return {scroll: results.scrollWidth, client: results.clientWidth,
                      left: box.left, right: box.right, width: window.innerWidth};
            }"""
        )
        assert fits["scroll"] <= fits["client"], (language, fits)
        assert fits["left"] >= 0 and fits["right"] <= fits["width"], (language, fits)
        expect(page.locator("#result_list td.field-checklist_column").first).to_be_in_viewport()
        assert in_language(language, "Requested") in page.locator("#result_list").inner_text()
    found = axe_violations(page)
    assert not found, found
    screenshot(page, "admin-booking-list-da-1280")

    # The plan page names who prepared the plan.
    booking = Booking.objects.filter(status=Status.CONFIRMED).order_by("-starts_at").first()
    booking.takes_blood_thinners = "yes"
    booking.save()
    prepare_plan(booking, get_user_model().objects.get(username="rikke"), demo_site["eliquis"])
    page.goto(reverse("admin:booking_booking_plan", args=[booking.pk]))
    expect(page.locator("#plan-prepared")).to_contain_text(
        f"{in_language('da', 'Prepared by')} Rikke Holm"
    )
    screenshot(page, "admin-booking-plan-da-1280")

    # The rich-text editor's menu and dialog speak the admin's language.
    editor = visit(locale="da", viewport={"width": 1280, "height": 800}).page
    log_in_verified(editor, "eva")
    editor.goto(reverse("admin:conditions_treatment_change", args=[Treatment.objects.first().pk]))
    field = editor.locator(".prose-editor:visible").first
    menu = field.locator(".prose-menubar")
    word = lambda text: in_language("da", text, "rich-text editor")  # noqa: E731
    expect(menu.locator("[data-name=bold]")).to_have_attribute("title", word("Bold"))
    expect(menu.locator("[data-name=bulletList]")).to_have_attribute(
        "aria-label", word("Bulleted list")
    )
    expect(menu.locator(".prose-menubar__option h2")).to_have_text(
        word("Heading %(level)d") % {"level": 2}
    )
    field.locator("[contenteditable=true]").click()
    editor.keyboard.press("Control+a")
    menu.locator("[data-name=link]").click()
    dialog = editor.locator("dialog.prose-editor-dialog")
    expect(dialog).to_contain_text(word("Web address"))
    expect(dialog.locator("button[type=submit]")).to_have_text(word("Save"))
    screenshot(editor, "admin-editor-link-dialog-da", full_page=False)
