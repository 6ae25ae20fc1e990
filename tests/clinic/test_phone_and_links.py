"""The clinic's phone number in E.164, shown spaced; links, sender and calendar UID in messages."""

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from booking import outbox, scheduling
from booking.access import make_token, site_base_url
from booking.models import AppointmentType, WorkingHours
from booking.tasks import send_booking_message
from clinic.models import ClinicDetails, Page
from clinic.staff_groups import EDITORS, RECEPTION
from tests.booking.factories import AppointmentTypeFactory, BookingFactory
from tests.factories import PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db
heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")

ROOT = Path(__file__).resolve().parents[2]
SERVED_AT = "http://127.0.0.1:8123"
# Monday 11 January 2027, 07:00 in Copenhagen: the doctor works 8-12 on weekdays.
NOW = datetime(2027, 1, 11, 7, 0, tzinfo=timezone.get_fixed_timezone(60))


def local(day_offset: int, hour: int) -> datetime:
    return timezone.make_aware(
        datetime.combine(NOW.date() + timedelta(days=day_offset), time(hour))
    )


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken",
        phone="98765432",
        email="kontakt@testklinikken.example",
        street_address="Kildevej 1",
        postal_code="8000",
        city="Aarhus C",
    )


# --- The phone number -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["98765432", "98 76 54 32", "+45 98765432", "0045 98765432"])
def test_the_number_is_saved_in_e164_however_it_was_typed(clinic, typed):
    clinic.phone = typed
    clinic.save()
    clinic.refresh_from_db()
    assert clinic.phone == "+4598765432"
    assert clinic.phone_uri == "tel:+4598765432"
    assert clinic.phone_display == "+45 98 76 54 32"


def test_a_foreign_number_keeps_its_own_country_code(clinic):
    clinic.phone = "+46 70 123 45 67"
    clinic.save()
    assert clinic.phone == "+46701234567"
    assert clinic.phone_display == "+46 70 123 45 67"


def change_form_data(response) -> dict:
    """What the admin's change form posts back unchanged: its fields and its inlines."""
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data |= {
            management.add_prefix(name): management[name].value() for name in management.fields
        }
        for subform in formset.forms:
            data |= {subform.add_prefix(name): subform[name].value() for name in subform.fields}
    return {name: value for name, value in data.items() if value is not None}


@pytest.mark.parametrize("typed", ["1234", "12 34 56 78", "+45 98 76 54 32 1", "ring os"])
def test_the_admin_refuses_a_number_that_cannot_exist_in_the_staff_members_language(
    client, demo, typed
):
    client.force_login(UserFactory(groups=[EDITORS]))
    url = f"/admin/clinic/clinicdetails/{demo.pk}/change/"
    data = change_form_data(client.get(url, HTTP_ACCEPT_LANGUAGE="da"))
    response = client.post(url, data | {"phone": typed}, HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 200
    english = "Please write a valid phone number, for example 20 12 34 56 or +46 70 123 45 67."
    with translation.override("da"):
        danish = translation.gettext(english)
    assert danish != english
    assert response.context["adminform"].form.errors["phone"] == [danish]
    assert danish in response.content.decode()
    assert ClinicDetails.load().phone == demo.phone


def test_the_admin_saves_a_typed_number_in_e164(client, demo):
    client.force_login(UserFactory(groups=[EDITORS]))
    url = f"/admin/clinic/clinicdetails/{demo.pk}/change/"
    data = change_form_data(client.get(url))
    response = client.post(url, data | {"phone": "0045 70 20 30 40"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ClinicDetails.load().phone == "+4570203040"


def test_the_header_and_footer_show_the_number_spaced_on_one_line(client, clinic):
    html = client.get("/da/").content.decode()
    header = html.split("</header>")[0]
    footer = html.split("<footer", 1)[1]
    assert (
        '<a class="header-phone" href="tel:+4598765432">' in header
        and '<span class="header-phone-number text-nowrap">+45 98 76 54 32</span>' in header
    )
    assert '<a class="text-nowrap" href="tel:+4598765432">+45 98 76 54 32</a>' in footer
    assert "98765432<" not in html, "the number as typed is never shown"


def test_the_contact_page_and_the_call_button_keep_the_number_on_one_line(client, demo):
    home = client.get("/da/").content.decode()
    assert '<span class="text-nowrap">+45 98 76 54 32</span>' in home  # "Ring +45 98 76 54 32"
    with translation.override("da"):
        contact_url = Page.objects.get(kind=Page.Kind.CONTACT).get_absolute_url()
    contact = client.get(contact_url).content.decode()
    assert '<a class="text-nowrap" href="tel:+4598765432">+45 98 76 54 32</a>' in contact


def test_the_json_ld_gives_the_number_with_the_country_code(client, clinic):
    html = client.get("/da/").content.decode()
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    nodes = [node for script in scripts for node in json.loads(script).get("@graph", [])]
    [business] = [node for node in nodes if node.get("@type") == "MedicalClinic"]
    assert business["telephone"] == "+4598765432"


def test_the_data_migration_normalises_stored_numbers_and_keeps_unreadable_ones(clinic):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("clinic.migrations.0003_clinic_phone_e164")
    ClinicDetails.objects.filter(pk=clinic.pk).update(phone="98 76 54 32")
    migration.phone_to_e164(apps, None)
    assert ClinicDetails.objects.get().phone == "+4598765432"
    ClinicDetails.objects.filter(pk=clinic.pk).update(phone="ring os")
    migration.phone_to_e164(apps, None)
    assert ClinicDetails.objects.get().phone == "ring os"


# --- Links, sender and calendar file in messages --------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def doctor():
    practitioner = PractitionerFactory(name="Dr. Links")
    for weekday in range(5):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, starts=time(8), ends=time(12)
        )
    return practitioner


@pytest.fixture
def tentative(frozen, doctor):
    kind = AppointmentTypeFactory(
        booking_mode=AppointmentType.BookingMode.PICK_TENTATIVE, min_notice_hours=0
    )
    kind.practitioners.add(doctor)
    booking = BookingFactory(appointment_type=kind, language="en", imaging_reviewed=True)
    return scheduling.claim_time(
        booking=booking, practitioner=doctor, starts_at=local(2, 9), as_=scheduling.TENTATIVE
    )


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


@override_settings(SITE_URL=SERVED_AT + "/")
def test_links_in_a_message_sent_from_the_admin_point_at_site_url(
    client, clinic, doctor, tentative, mailoutbox
):
    client.force_login(UserFactory(groups=[RECEPTION]))
    response = client.post(
        f"/admin/booking/booking/{tentative.pk}/confirm/",
        {"practitioner": doctor.pk, "starts_at_0": "2027-01-13", "starts_at_1": "09:00"},
    )
    assert response.status_code == 302
    [message] = [m for m in mailoutbox if m.to == [tentative.email]]
    found = links(message.body) + links(message.alternatives[0][0])
    assert found and all(link.startswith(SERVED_AT + "/en/") for link in found), found
    event = Calendar.from_ical(message.attachments[0][1]).walk("VEVENT")[0]
    assert str(event["url"]).startswith(SERVED_AT + "/en/")


@override_settings(SITE_URL=SERVED_AT)
def test_links_in_a_message_sent_by_the_message_pass_point_at_site_url(clinic, mailoutbox):
    booking = BookingFactory(language="en")
    outbox.record_event(booking=booking, kind="news")  # recorded outside any request
    mailoutbox.clear()
    call_command("send_messages", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [message] = [m for m in mailoutbox if m.to == [booking.email]]
    found = links(message.body)
    assert found and all(link.startswith(SERVED_AT + "/en/") for link in found), found


def test_site_base_url_prefers_a_patients_own_request_then_site_url():
    with override_settings(SITE_URL=SERVED_AT + "/"):
        assert site_base_url() == SERVED_AT
        assert site_base_url("https://clinic.test/") == "https://clinic.test"


@pytest.mark.parametrize("configured", ["webmaster@localhost", ""])
def test_without_a_configured_sender_messages_come_from_the_clinic(clinic, mailoutbox, configured):
    with override_settings(DEFAULT_FROM_EMAIL=configured):
        send_booking_message(booking=BookingFactory(), kind="received")
    [message] = mailoutbox
    assert message.message()["From"] == '"Testklinikken" <kontakt@testklinikken.example>'


def test_a_configured_sender_is_kept(clinic, mailoutbox):
    with override_settings(DEFAULT_FROM_EMAIL="Klinik <noreply@klinik.example>"):
        send_booking_message(booking=BookingFactory(), kind="received")
    assert mailoutbox[0].from_email == "Klinik <noreply@klinik.example>"


def ics_uid_and_sequence(content: bytes) -> tuple[str, int]:
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    return str(event["uid"]), int(event["sequence"])


@override_settings(SITE_URL=SERVED_AT)
def test_the_mailed_and_the_downloaded_calendar_file_are_one_event(
    client, clinic, doctor, tentative, mailoutbox
):
    def download() -> bytes:
        with translation.override("en"):
            url = reverse("booking:private_ics", kwargs={"token": make_token(tentative)})
        response = client.get(url, HTTP_HOST="clinic.localhost")  # not SITE_URL's host
        assert response.status_code == 200
        return response.content

    scheduling.claim_time(
        booking=tentative, practitioner=doctor, starts_at=local(2, 9), as_=scheduling.CONFIRMED
    )
    mailed = ics_uid_and_sequence(mailoutbox[-1].attachments[0][1])
    assert ics_uid_and_sequence(download()) == mailed
    assert mailed[0] == f"booking-{tentative.reference}@127.0.0.1"

    scheduling.claim_time(
        booking=tentative, practitioner=doctor, starts_at=local(3, 9), as_=scheduling.CONFIRMED
    )
    moved = ics_uid_and_sequence(mailoutbox[-1].attachments[0][1])
    assert moved == (mailed[0], mailed[1] + 1), "a new time keeps the UID, raises SEQUENCE"
    assert ics_uid_and_sequence(download()) == moved


# --- make run -------------------------------------------------------------------------


def test_make_run_prints_the_address_it_serves_on():
    make = shutil.which("make") or pytest.skip("make is not installed")
    result = subprocess.run(
        [make, "--no-print-directory", "-n", "-C", str(ROOT), "run", "HOST=127.0.0.1", "PORT=8123"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"Staff admin: {SERVED_AT}/admin/" in result.stdout
    assert f"Serving on {SERVED_AT}/" in result.stdout
    assert "8000" not in result.stdout


@heavy
def test_make_run_gives_every_process_site_url(tmp_path):
    """Runs the real `run` target with a stand-in Python that records what it was given."""
    make = shutil.which("make") or pytest.skip("make is not installed")
    log = tmp_path / "commands.log"
    python = tmp_path / "python.sh"
    # The server waits a moment, so the background processes have written before it exits.
    python.write_text(f'echo "$SITE_URL $*" >> "{log}"\n[ "$2" = runserver ] && sleep 1\nexit 0\n')
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than the lock files: nothing is installed
    env = os.environ | {"SITE_URL": "http://localhost:8000"}  # a stale value is replaced
    result = subprocess.run(
        [
            make,
            "--no-print-directory",
            "-C",
            str(ROOT),
            "run",
            "HOST=127.0.0.1",
            "PORT=8123",
            f"PY=/bin/sh {python}",
            f"STAMP={stamp}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert f"Staff admin: {SERVED_AT}/admin/" in result.stdout
    commands = sorted(log.read_text().splitlines())
    assert commands == sorted(
        [
            f"{SERVED_AT} manage.py migrate --noinput",
            f"{SERVED_AT} manage.py translations",
            f"{SERVED_AT} manage.py load_demo",
            f"{SERVED_AT} manage.py run_worker --queue-name messages,default",
            f"{SERVED_AT} manage.py run_worker --queue-name imaging",
            f"{SERVED_AT} manage.py send_messages --every 120",
            f"{SERVED_AT} manage.py runserver 127.0.0.1:8123",
        ]
    )
