"""The patient's appointment request, step by step, through the test client."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from booking.models import Booking
from booking.views import DRAFT_SESSION_KEY
from clinic.models import ClinicDetails, ConsentText
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory
from tests.conditions.factories import ConditionFactory
from tests.factories import ConsentTextFactory

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(f"booking:{name}", kwargs=kwargs or None)


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken",
        phone="+45 70 20 30 40",
        email="clinic@example.com",
        street_address="Guldgade 1",
        postal_code="8000",
        city="Aarhus C",
    )


@pytest.fixture
def consent():
    return ConsentTextFactory(
        kind=ConsentText.Kind.HEALTH_DATA,
        text_da="Jeg giver lov til at klinikken behandler mine helbredsoplysninger.",
        text_en="I allow the clinic to process my health information.",
    )


@pytest.fixture
def gold():
    return AppointmentTypeFactory(name_en="Gold implantation", name_da="Guldimplantation")


@pytest.fixture
def warfarin():
    return AnticoagulantFactory(brand="Marevan", substance="warfarin")


def today():
    return timezone.localdate()


def when_data(**overrides):
    data = {
        "earliest_date": (today() + timedelta(days=7)).isoformat(),
        "latest_date": (today() + timedelta(days=40)).isoformat(),
        "weekdays": ["0", "2"],
        "time_of_day": "morning",
        "time_wishes": "Not on Fridays in June",
    }
    return data | overrides


def about_data(**overrides):
    data = {
        "name": "Karen Jensen",
        "email": "karen@example.com",
        "phone": "20 12 34 56",
        "birth_date": "1958-04-30",
        "language": "da",
    }
    return data | overrides


def images_data(**overrides):
    """The images step's answers, for both its screens (each form takes its own)."""
    data = {
        "imaging_status": "radiology",
        "scan_date": (today() - timedelta(days=100)).isoformat(),
        "scan_body_area": "Neck",
        "scan_modality": "mr",
    }
    return data | overrides


def checklist_data(warfarin, **overrides):
    """The checklist step's answers, for both its screens (each form takes its own)."""
    data = {
        "takes_blood_thinners": "yes",
        "anticoagulants": [str(warfarin.pk)],
        "other_medicine": "",
        "companion_confirmed": "on",
        "companion_name": "Ole",
        "companion_phone": "",
    }
    return data | overrides


def second(name: str) -> str:
    """The URL of a step's second screen (the questions that depend on its first answers)."""
    return url(name) + "?part=2"


def send_data(consent, **overrides):
    return {"consent": "on", "consent_version": str(consent.pk)} | overrides


def walk_to_review(client, gold, warfarin, condition=None):
    what = {"appointment_type": str(gold.pk), "painful_area": "Neck"}
    if condition:
        what["condition"] = str(condition.pk)
    assert client.post(url("what"), what).status_code == 302
    assert client.post(url("when"), when_data()).status_code == 302
    assert client.post(url("about"), about_data()).status_code == 302
    assert client.post(url("images"), images_data())["Location"] == second("images")
    assert client.post(second("images"), images_data())["Location"] == url("checklist")
    answers = checklist_data(warfarin)
    assert client.post(url("checklist"), answers)["Location"] == second("checklist")
    assert client.post(second("checklist"), answers)["Location"] == url("review")


def test_the_whole_gold_implantation_flow_makes_one_requested_booking(
    client, clinic, consent, gold, warfarin, mailoutbox
):
    condition = ConditionFactory()
    page = client.get(url("what") + f"?condition={condition.slug_en}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<option value="{condition.pk}" selected>' in html
    assert html.count("<h1") == 1
    assert 'name="description"' in html

    response = client.post(
        url("what"),
        {"appointment_type": gold.pk, "condition": condition.pk, "painful_area": "Neck"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("when")
    draft = Booking.objects.get()
    assert draft.status == Booking.Status.DRAFT
    assert client.session[DRAFT_SESSION_KEY] == draft.pk
    assert draft.language == "en"

    assert client.post(url("when"), when_data())["Location"] == url("about")
    assert client.post(url("about"), about_data())["Location"] == url("images")
    assert "Step 4 of 6" in client.get(url("images")).content.decode()
    assert client.post(url("images"), images_data())["Location"] == second("images")
    assert "Step 4 of 6" in client.get(second("images")).content.decode()
    assert client.post(second("images"), images_data())["Location"] == url("checklist")
    checklist_page = client.get(url("checklist")).content.decode()
    assert "Do not stop any medicine until we have agreed a plan with you." in checklist_page
    assert "Step 5 of 6" in checklist_page
    # Which medicine is asked on the next screen, once the patient has said yes.
    assert "Marevan (warfarin)" not in checklist_page
    answers = checklist_data(warfarin)
    assert client.post(url("checklist"), answers)["Location"] == second("checklist")
    details_page = client.get(second("checklist")).content.decode()
    assert "Marevan (warfarin)" in details_page and "Step 5 of 6" in details_page
    assert client.post(second("checklist"), answers)["Location"] == url("review")

    review = client.get(url("review"))
    assert review.status_code == 200
    text = review.content.decode()
    assert "I allow the clinic to process my health information." in text
    assert "Karen Jensen" in text and "+45 20 12 34 56" in text
    assert ConsentText.objects.get(pk=consent.pk).locked

    response = client.post(url("review"), send_data(consent))
    assert response.status_code == 302
    assert response["Location"] == url("thanks")

    booking = Booking.objects.get()
    assert booking.status == Booking.Status.REQUESTED
    assert booking.consent_text == consent
    assert booking.consent_given_at is not None and booking.submitted_at is not None
    assert booking.condition == condition
    assert booking.phone == "+4520123456"
    assert booking.weekdays == [0, 2]
    assert list(booking.anticoagulants.all()) == [warfarin]
    assert booking.companion_confirmed and booking.companion_name == "Ole"

    thanks = client.get(url("thanks")).content.decode()
    assert booking.reference in thanks
    assert "/booking/" in thanks and "karen@example.com" in thanks
    # The patient's receipt and the clinic's notice.
    assert sorted(m.to[0] for m in mailoutbox) == ["clinic@example.com", "karen@example.com"]


def test_a_second_send_does_not_make_a_second_booking(client, clinic, consent, gold, warfarin):
    walk_to_review(client, gold, warfarin)
    first = client.post(url("review"), send_data(consent))
    second = client.post(url("review"), send_data(consent))
    assert first["Location"] == second["Location"] == url("thanks")
    assert Booking.objects.count() == 1
    assert Booking.objects.get().status == Booking.Status.REQUESTED


def test_submit_request_is_idempotent(client, clinic, consent, gold, warfarin, mailoutbox):
    from booking.request_flow import submit_request

    walk_to_review(client, gold, warfarin)
    draft = Booking.objects.get()
    booking, sent_now = submit_request(booking=draft, consent_text=consent)
    again, sent_again = submit_request(booking=draft, consent_text=consent)
    assert (sent_now, sent_again) == (True, False)
    assert again.pk == booking.pk and Booking.objects.count() == 1
    assert len(mailoutbox) == 2


def test_going_back_and_forth_keeps_every_answer(client, consent, gold, warfarin):
    walk_to_review(client, gold, warfarin)
    what = client.get(url("what")).content.decode()
    assert re.search(rf'name="appointment_type" value="{gold.pk}"[^>]*checked', what)
    assert 'value="Neck"' in what
    when = client.get(url("when")).content.decode()
    assert when_data()["earliest_date"] in when and "Not on Fridays in June" in when
    about = client.get(url("about")).content.decode()
    assert "Karen Jensen" in about and "karen@example.com" in about
    images = client.get(url("images")).content.decode()
    assert re.search(r'value="radiology"[^>]*checked', images)
    assert 'value="Neck"' in client.get(second("images")).content.decode()
    details = client.get(second("checklist")).content.decode()
    assert re.search(rf'value="{warfarin.pk}"[^>]*checked', details) and 'value="Ole"' in details
    # Changing one step leaves the others as they were.
    client.post(url("when"), when_data(time_wishes="Mornings only"))
    draft = Booking.objects.get()
    assert draft.time_wishes == "Mornings only" and draft.name == "Karen Jensen"
    assert draft.imaging_status == "radiology"


def test_a_type_without_checklist_skips_the_checklist_steps(client, consent):
    talk = AppointmentTypeFactory(phone_talk=True)
    client.post(url("what"), {"appointment_type": talk.pk})
    client.post(url("when"), when_data())
    response = client.post(url("about"), about_data())
    assert response["Location"] == url("review")
    assert client.get(url("images"))["Location"] == url("review")
    assert client.get(url("checklist"))["Location"] == url("review")
    assert "Step 4 of 4" in client.get(url("review")).content.decode()


def test_jumping_ahead_without_a_draft_goes_to_the_first_step(client):
    assert client.get(url("review"))["Location"] == url("what")
    assert client.get(url("about"))["Location"] == url("what")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "karen@", "Please write a valid e-mail address"),
        ("phone", "12 34", "Please write a valid phone number"),
        ("birth_date", "2999-01-01", "The date of birth cannot be in the future."),
        ("birth_date", "1880-01-01", "more than 120 years ago"),
    ],
)
def test_bad_details_are_explained_and_nothing_is_lost(client, gold, field, value, message):
    client.post(url("what"), {"appointment_type": gold.pk})
    client.post(url("when"), when_data())
    response = client.post(url("about"), about_data(**{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please correct the following:" in html
    assert message in html
    assert html.count("<h1") == 1
    # What the patient wrote is still in the form.
    assert "Karen Jensen" in html and value in html


def test_foreign_phone_numbers_are_stored_in_e164(client, gold):
    client.post(url("what"), {"appointment_type": gold.pk})
    client.post(url("when"), when_data())
    client.post(url("about"), about_data(phone="+46 70 123 45 67"))
    assert Booking.objects.get().phone == "+46701234567"


def test_latest_date_before_earliest_is_refused(client, gold):
    client.post(url("what"), {"appointment_type": gold.pk})
    response = client.post(
        url("when"),
        when_data(
            earliest_date=(today() + timedelta(days=20)).isoformat(),
            latest_date=(today() + timedelta(days=10)).isoformat(),
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        html.count("The latest date must be on or after the earliest date.") == 2
    )  # summary + field
    assert Booking.objects.get().earliest_date is None


def test_sending_without_consent_is_refused_and_answers_are_kept(
    client, consent, gold, warfarin, mailoutbox
):
    walk_to_review(client, gold, warfarin)
    response = client.post(url("review"), {"consent_version": str(consent.pk)})
    assert response.status_code == 200
    assert "Please tick the box to allow us to process your health information." in (
        response.content.decode()
    )
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.DRAFT and booking.name == "Karen Jensen"
    assert mailoutbox == []


def test_scan_over_two_years_old_gets_a_warning(client, consent, gold, warfarin):
    client.post(url("what"), {"appointment_type": gold.pk})
    client.post(url("when"), when_data())
    client.post(url("about"), about_data())
    old = (today() - timedelta(days=3 * 365)).isoformat()
    client.post(url("images"), images_data())
    client.post(second("images"), images_data(scan_date=old))
    client.post(url("checklist"), checklist_data(warfarin))
    warning = "The scan will be more than 2 years old on the day."
    assert warning in client.get(url("review")).content.decode()
    assert warning in client.get(url("images")).content.decode()


def test_rate_limit_answers_429_and_keeps_the_answers(client, consent, gold, warfarin, settings):
    # A cache of this test's own: the file cache under var/ is shared with any other
    # test run on the machine, whose clear() would wipe the count mid-test.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "booking-rate-limit-test",
        }
    }
    settings.BOOKING_RATE_LIMIT = 1
    walk_to_review(client, gold, warfarin)
    assert client.post(url("review"), send_data(consent))["Location"] == url("thanks")

    walk_to_review(client, gold, warfarin)
    response = client.post(url("review"), send_data(consent))
    assert response.status_code == 429
    html = response.content.decode()
    assert "You have sent several requests in a short time." in html
    assert "Karen Jensen" in html and "checked" in html
    assert Booking.objects.sent().count() == 1
    assert Booking.objects.drafts().get().name == "Karen Jensen"


def test_the_draft_survives_a_csrf_failure(consent, gold, warfarin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    page = client.get(url("what"))
    token = page.cookies["csrftoken"].value
    client.post(url("what"), {"appointment_type": gold.pk, "csrfmiddlewaretoken": token})
    response = client.post(url("when"), when_data(csrfmiddlewaretoken="expired"))
    assert response.status_code == 403
    assert "Your form has expired" in response.content.decode()
    draft = Booking.objects.get()
    assert client.get(url("when")).status_code == 200
    assert client.session[DRAFT_SESSION_KEY] == draft.pk


def test_the_condition_page_links_to_the_booking_flow(client):
    condition = ConditionFactory()
    with translation.override("en"):
        html = client.get(condition.get_absolute_url()).content.decode()
    assert f'href="{url("what")}?condition={condition.slug_en}"' in html


def png_file(name="scan.png"):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_images_uploaded_during_the_flow_are_kept_on_the_draft(client, gold, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    client.post(url("what"), {"appointment_type": gold.pk})
    client.post(url("when"), when_data())
    client.post(url("about"), about_data())
    page = client.get(url("images")).content.decode()
    assert f'formaction="{url("draft_upload")}"' in page
    response = client.post(url("draft_upload"), {"files": png_file()})
    assert response.status_code == 303
    assert response["Location"] == url("images")
    draft = Booking.objects.get()
    assert [u.original_name for u in draft.uploads.all()] == ["scan.png"]
    assert draft.imaging_status == Booking.ImagingStatus.UPLOADED
    assert "scan.png" in client.get(url("images")).content.decode()
