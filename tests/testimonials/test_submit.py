"""Patients send a testimonial through the public form; staff hear of it by e-mail."""

import re
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse
from django.utils import translation
from django_tasks.signals import task_enqueued

from clinic.models import ClinicDetails, ConsentText
from testimonials import models
from tests.conditions.factories import ConditionFactory
from tests.factories import ConsentTextFactory


def url_in(language: str, name: str) -> str:
    """The URL in `language`: paths are translated ("patientudtalelser/" in Danish)."""
    with translation.override(language):
        return reverse(name)


pytestmark = pytest.mark.django_db

FORM = "/en/testimonials/share/"
THANKS = "/en/testimonials/thank-you/"
PATIENT_EMAIL = "karen.patient@example.com"


@pytest.fixture(autouse=True)
def _own_cache(settings, tmp_path):
    """A cache of this test's own: other test runs sharing var/test-cache may clear that one."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture
def consent(demo):
    return ConsentText.objects.current(ConsentText.Kind.TESTIMONIAL)


@pytest.fixture
def neck(demo):
    return ConditionFactory(name_en="Neck pain", slug_en="neck-pain")


def form_data(consent, /, **overrides):
    data = {
        "title": "Finally free of pain",
        "text": "After the treatment I could turn my head again.",
        "rating": "5",
        "condition": "",
        "treatment_year": "2024",
        "display_name": "Karen",
        "age": "64",
        "email": PATIENT_EMAIL,
        "consent": "on",
        "consent_version": str(consent.pk),
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def saved():
    return models.Testimonial.objects.all()


def main_part(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


# --- The form ------------------------------------------------------------------


def test_the_form_has_labelled_fields_and_is_never_page_cached(client, consent):
    response = client.get(FORM)
    assert response.status_code == 200
    assert "X-Page-Cache" not in response
    assert "no-store" in response["Cache-Control"]
    html = main_part(response)
    assert 'name="csrfmiddlewaretoken"' in html
    assert html.count("<h1") == 1
    for name in ("title", "text", "treatment_year", "display_name", "age", "email", "consent"):
        assert f'for="id_{name}"' in html, name
    rating = re.search(r"<fieldset[^>]*>\s*<legend[^>]*>\s*Your rating", html)
    assert rating and 'aria-describedby="id_rating_helptext"' in rating.group(0)
    assert 'aria-describedby="id_email_helptext"' in html
    assert "Only for the clinic&#x27;s staff" in html or "Only for the clinic's staff" in html
    assert consent.text_en in html


def test_showing_the_form_locks_the_consent_text(client, consent):
    assert not consent.locked
    client.get(FORM)
    consent.refresh_from_db()
    assert consent.locked


def test_the_honeypot_is_hidden_from_people(client, consent):
    html = main_part(client.get(FORM))
    wrapper = re.search(
        r'<div\s+class="hp-field"\s+aria-hidden="true">.*?</div>\s*</div>', html, re.S
    )
    assert wrapper
    assert re.search(r'<input type="text" name="website" tabindex="-1" autocomplete="off"', html)


# --- Submitting ----------------------------------------------------------------


def test_a_testimonial_is_saved_for_review_and_the_staff_are_told(client, consent, neck):
    response = client.post(FORM, form_data(consent, condition=str(neck.pk)))
    assert response.status_code == 302
    assert response["Location"] == THANKS

    testimonial = saved().get()
    assert testimonial.status == models.Testimonial.Status.SUBMITTED
    assert testimonial.origin == models.Testimonial.Origin.ONLINE
    assert testimonial.language == "en"
    assert testimonial.title_en == "Finally free of pain"
    assert testimonial.text_en == "After the treatment I could turn my head again."
    assert testimonial.text_da in (None, "")
    assert testimonial.rating == 5 and testimonial.age == 64 and testimonial.treatment_year == 2024
    assert testimonial.display_name == "Karen" and testimonial.email == PATIENT_EMAIL
    assert list(testimonial.conditions.all()) == [neck]
    assert testimonial.consent_text == consent and testimonial.consent_given_at is not None

    (message,) = mail.outbox
    assert message.to == [ClinicDetails.load().email]
    body = message.subject + message.body
    assert f"/admin/testimonials/testimonial/{testimonial.pk}/change/" in message.body
    assert "http://testserver/admin/" in message.body
    assert PATIENT_EMAIL not in body
    assert "turn my head" not in body

    thanks = client.get(response["Location"])
    assert "A member of our staff will read it before it appears on the website." in (
        thanks.content.decode()
    )


def test_a_submitted_testimonial_is_not_shown_until_approved(client, consent):
    client.post(FORM, form_data(consent))
    assert "Finally free of pain" not in client.get("/en/testimonials/").content.decode()
    testimonial = saved().get()
    testimonial.status = models.Testimonial.Status.APPROVED
    testimonial.save()
    assert "Finally free of pain" in client.get("/en/testimonials/").content.decode()


def test_the_testimonial_is_stored_in_the_pages_language(client, consent):
    response = client.post(
        url_in("nb", "testimonials:submit"), form_data(consent, title="Veldig bra")
    )
    assert response["Location"] == url_in("nb", "testimonials:thanks")
    testimonial = saved().get()
    assert testimonial.language == "nb"
    assert testimonial.title_nb == "Veldig bra" and testimonial.title_en in (None, "")


def test_optional_fields_may_be_left_empty(client, consent):
    data = form_data(consent, condition="", treatment_year="", age="")
    assert client.post(FORM, data).status_code == 302
    testimonial = saved().get()
    assert testimonial.age is None and testimonial.treatment_year is None
    assert not testimonial.conditions.exists()


def test_a_lone_less_than_sign_is_plain_text(client, consent):
    data = form_data(consent, text="My pain < before, and I sleep well.")
    assert client.post(FORM, data).status_code == 302
    assert saved().get().text_en == "My pain < before, and I sleep well."


def test_line_breaks_count_as_one_character(client, consent):
    text = ("x" * 99 + "\r\n") * 20  # 2000 characters as the browser counts them
    assert client.post(FORM, form_data(consent, text=text.strip())).status_code == 302
    assert len(saved().get().text_en) <= 2000


# --- Refused input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text": ""}, "Please write about your experience."),
        ({"text": "   "}, "Please write about your experience."),
        (
            {"text": "x" * 2001},
            "Please shorten your text to at most 2000 characters (it has 2001).",
        ),
        ({"rating": "0"}, "Please choose a rating from 1 to 5 stars."),
        ({"rating": "6"}, "Please choose a rating from 1 to 5 stars."),
        ({"rating": None}, "Please choose a rating from 1 to 5 stars."),
        ({"consent": None}, "Please tick the box to allow us to publish your testimonial."),
        ({"title": "<script>alert(1)</script>"}, "Please remove the HTML tags."),
        ({"text": "Good <b>treatment</b>"}, "Please remove the HTML tags."),
        ({"display_name": "<img src=x onerror=alert(1)>"}, "Please remove the HTML tags."),
        ({"treatment_year": "2999"}, "The year cannot be in the future."),
        ({"email": "not-an-address"}, "Please write a valid e-mail address"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_lost(
    client, consent, overrides, message
):
    data = form_data(consent, **overrides)
    response = client.post(FORM, data)
    assert response.status_code == 200
    html = main_part(response)
    assert message in html
    assert 'role="alert"' in html and "Please correct the following:" in html
    assert "<title>Error: " in response.content.decode()
    assert 'aria-invalid="true"' in html
    assert not saved().exists()
    assert not mail.outbox
    # Everything the patient typed is still there (escaped), to correct and send again.
    assert 'value="Karen"' in html or "display_name" in overrides
    assert "After the treatment I could turn my head again." in html or "text" in overrides
    if overrides.get("title"):
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
        assert "<script>alert" not in html


def test_a_page_in_danish_gives_the_messages_in_danish(client, consent):
    from django.utils import translation

    with translation.override("da"):
        expected = translation.gettext("Please choose a rating from 1 to 5 stars.")
    response = client.post(url_in("da", "testimonials:submit"), form_data(consent, rating="9"))
    assert expected in response.content.decode()


def test_a_changed_consent_text_must_be_agreed_to_again(client, consent):
    client.get(FORM)  # shows and locks version 1
    newer = consent.new_version()
    newer.text_en = "I agree to the new terms."
    newer.save()
    response = client.post(FORM, form_data(consent))
    assert response.status_code == 200
    html = main_part(response)
    assert "The consent text was changed while you were writing." in html
    assert "I agree to the new terms." in html
    assert f'name="consent_version" value="{newer.pk}"' in html
    assert not saved().exists()
    assert client.post(FORM, form_data(newer)).status_code == 302
    assert saved().get().consent_text == newer


def test_without_a_consent_text_no_form_is_shown(client, db):
    ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA)
    response = client.get(FORM)
    assert response.status_code == 200
    assert "cannot be sent through the website right now" in response.content.decode()
    assert "<form" not in main_part(response)


# --- Spam and floods -------------------------------------------------------------


def test_a_filled_honeypot_saves_nothing_and_looks_like_success(client, consent):
    response = client.post(FORM, form_data(consent, website="https://spam.example"))
    assert response.status_code == 302 and response["Location"] == THANKS
    assert not saved().exists()
    assert not mail.outbox


def test_more_than_five_testimonials_an_hour_from_one_address_are_refused(client, consent):
    for n in range(5):
        response = client.post(FORM, form_data(consent, title=f"Number {n}"))
        assert response.status_code == 302
    response = client.post(FORM, form_data(consent, title="Number six"))
    assert response.status_code == 429
    html = main_part(response)
    assert "You have sent several testimonials in a short time. Please try again later." in html
    assert 'value="Number six"' in html and 'value="Karen"' in html
    assert "After the treatment I could turn my head again." in html
    assert re.search(r'name="consent"[^>]*checked', html)
    assert saved().count() == 5
    # Another address is not held back.
    other = client.post(FORM, form_data(consent), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


def test_the_rate_limit_is_a_setting(client, consent, settings):
    settings.TESTIMONIAL_RATE_LIMIT = 1
    assert client.post(FORM, form_data(consent)).status_code == 302
    assert client.post(FORM, form_data(consent)).status_code == 429


def test_the_rate_limit_message_is_in_the_visitors_language(client, consent, settings):
    from django.utils import translation

    settings.TESTIMONIAL_RATE_LIMIT = 0
    with translation.override("de"):
        expected = translation.gettext(
            "You have sent several testimonials in a short time. Please try again later."
        )
    response = client.post(url_in("de", "testimonials:submit"), form_data(consent))
    assert response.status_code == 429
    assert expected in response.content.decode()


# --- The staff's e-mail ----------------------------------------------------------


def fail_first(times: int):
    """Make the mail backend fail `times` times, then deliver."""
    real = EmailBackend.send_messages
    calls = {"n": 0}

    def send_messages(backend, messages):
        calls["n"] += 1
        if calls["n"] <= times:
            raise smtplib.SMTPServerDisconnected("SMTP server went away")
        return real(backend, messages)

    return mock.patch.object(EmailBackend, "send_messages", send_messages)


@pytest.fixture
def enqueued():
    results = []

    def record(sender, task_result, **kwargs):
        results.append(task_result)

    task_enqueued.connect(record)
    yield results
    task_enqueued.disconnect(record)


def test_an_smtp_failure_is_retried(client, consent, enqueued, settings):
    settings.TASK_MAX_ATTEMPTS = 5
    with fail_first(1):
        response = client.post(FORM, form_data(consent))
    assert response.status_code == 302
    assert [r.kwargs.get("attempt", 1) for r in enqueued] == [1, 2]
    assert all(r.task.name == "notify_staff_of_testimonial" for r in enqueued)
    assert len(mail.outbox) == 1


def test_the_patient_gets_the_thank_you_page_even_when_mail_is_down(
    client, consent, enqueued, settings
):
    settings.TASK_MAX_ATTEMPTS = 3
    with fail_first(10):
        response = client.post(FORM, form_data(consent))
    assert response.status_code == 302 and response["Location"] == THANKS
    assert saved().count() == 1
    assert len(enqueued) == 3
    assert enqueued[-1].status.name == "FAILED"
    assert not mail.outbox


def test_a_consent_text_in_another_language_carries_its_lang(client, consent):
    # A consent text without a Swedish version: the Danish one is shown, marked as Danish.
    ConsentText.objects.filter(pk=consent.pk).update(text_sv="")
    html = main_part(client.get(url_in("sv", "testimonials:submit")))
    assert f'<span lang="da">{consent.text_da}</span>' in html
