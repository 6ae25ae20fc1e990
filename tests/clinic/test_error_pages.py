"""Friendly error pages in the visitor's language, with the clinic's phone number."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from django.utils import translation

pytestmark = pytest.mark.django_db


def translated(language: str, text: str) -> str:
    with translation.override(language):
        result = translation.gettext(text)
    assert result != text or language == "en", f"{text!r} is not translated to {language}"
    return result


def broken_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken_view)]
handler500 = "clinic.views.server_error"


def test_unknown_url_gets_the_friendly_404_with_the_phone_number(client, demo):
    response = client.get("/da/findes-ikke/")
    assert response.status_code == 404
    html = response.content.decode()
    assert translated("da", "We could not find that page") in html
    assert demo.phone in html and 'href="tel:+4598765432"' in html


def test_unknown_language_prefix_gets_a_404_in_the_visitors_language(client, demo):
    response = client.get("/xx/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_a_bad_csrf_token_gets_the_friendly_403(demo):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/admin/login/", {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="da"
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert translated("da", "Your form has expired") in html
    assert demo.phone in html


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_gets_the_friendly_500_with_the_phone_number(demo):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert demo.phone in html


def test_pages_work_before_the_clinic_details_are_filled_in(client):
    assert client.get("/da/").status_code == 200
    assert client.get("/en/nope/").status_code == 404
