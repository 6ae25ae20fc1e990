"""In a real browser: a Norwegian patient's testimonial goes from the form, through
moderation in the admin, onto the site with the right label, and off it again."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from testimonials.models import Testimonial
from tests.conditions.factories import ConditionFactory
from tests.conftest import screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Endelig kan jeg snu hodet igjen"
TEXT = "Etter behandlingen kan jeg kjøre bil og se meg over skulderen uten smerter."


def url(name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def in_language(code: str, message: str, **params) -> str:
    with translation.override(code):
        return translation.gettext(message) % params


def admin_action(page, testimonial, action: str):
    page.goto("/admin/testimonials/testimonial/")
    page.check(f'input.action-select[value="{testimonial.pk}"]')
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    assert page.locator(".messagelist .success").count() == 1, page.content()


def test_a_norwegian_testimonial_is_submitted_approved_shown_and_withdrawn(visit, demo):
    neck = ConditionFactory(name_da="Nakkesmerter", slug_da="nakkesmerter")
    patient = visit(locale="nb-NO", viewport={"width": 390, "height": 844}).page

    patient.goto(url("testimonials:submit", "nb"))
    patient.fill("#id_title", TITLE)
    patient.fill("#id_text", TEXT)
    patient.check('input[name=rating][value="5"]')
    patient.select_option("#id_condition", str(neck.pk))
    patient.fill("#id_treatment_year", "2024")
    patient.fill("#id_display_name", "Solveig")
    patient.fill("#id_age", "71")
    patient.fill("#id_email", "solveig@example.com")
    patient.check("#id_consent")
    screenshot(patient, "testimonial-form-nb-390")
    with patient.expect_navigation():
        patient.locator("[name=send]").click()
    assert patient.url.endswith(url("testimonials:thanks", "nb"))

    testimonial = Testimonial.objects.get()
    assert (testimonial.status, testimonial.language, testimonial.text_nb) == (
        "submitted",
        "nb",
        TEXT,
    )
    visitor = visit().page
    visitor.goto(url("testimonials:index", "da"))
    assert visitor.get_by_text(TITLE).count() == 0, "not public before approval"

    UserFactory(username="eva", groups=["Editors"])
    staff = visit(locale="da-DK").page
    staff.goto("/admin/login/")
    staff.fill("#id_username", "eva")
    staff.fill("#id_password", "correct-horse-battery")
    with staff.expect_navigation():
        staff.locator("input[type=submit]").click()
    admin_action(staff, testimonial, "approve")

    language_name = in_language("da", dict(settings.LANGUAGES)["nb"])
    written_in = in_language("da", "Written in %(language)s", language=language_name)
    for page_url in (url("testimonials:index", "da"), neck.get_absolute_url()):
        visitor.goto(page_url)
        card = visitor.locator(".testimonial-card", has_text=TITLE)
        assert card.count() == 1, page_url
        assert card.locator('[lang="nb"]', has_text=TEXT).count() == 1
        assert card.locator(".testimonial-language").inner_text() == written_in
    screenshot(visitor, "testimonial-on-condition-page-da")
    visitor.goto(url("testimonials:index", "nb"))
    card = visitor.locator(".testimonial-card", has_text=TITLE)
    assert card.count() == 1 and card.locator(".testimonial-language").count() == 0

    admin_action(staff, testimonial, "withdraw")
    for page_url in (url("testimonials:index", "da"), neck.get_absolute_url()):
        visitor.goto(page_url)
        assert visitor.get_by_text(TITLE).count() == 0, page_url
