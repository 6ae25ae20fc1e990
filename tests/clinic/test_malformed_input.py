"""NUL bytes and invalid UTF-8 get the friendly 400 page, never a 500 (run on both databases)."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from booking.models import Booking
from clinic.middleware import is_malformed
from clinic.models import ClinicDetails
from tests.booking.factories import AppointmentTypeFactory
from tests.conditions.factories import ConditionFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Testklinikken", phone="+45 70 20 30 40", email="clinic@example.com"
    )


@pytest.fixture
def browser_client():
    """Raises nothing: a 500 must show as a status, as a visitor would see it."""
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


def en(name, **kwargs):
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def post(client, url, data, encoding):
    if encoding == "urlencoded":
        return client.post(url, urlencode(data, doseq=True), content_type=FORM)
    return client.post(url, data)  # the test client's default: multipart/form-data


def assert_friendly_400(response, language="en"):
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override(language):
        heading = translation.gettext("We could not read that request")
    assert heading in html
    assert 'href="tel:' in html  # the clinic's phone number, as on the other error pages
    assert html.count("<h1") == 1


@pytest.mark.parametrize(
    "query",
    ["condition=%00", "condition=neck%00pain", "%00=1", "condition=%ff", "page=%c3%28"],
    ids=["nul", "nul-inside", "nul-in-name", "invalid-utf8", "bad-continuation"],
)
@pytest.mark.parametrize(
    "name", ["home", "conditions:condition_index", "testimonials:index", "booking:what"]
)
def test_a_malformed_query_string_gets_the_friendly_400(browser_client, clinic, name, query):
    assert_friendly_400(browser_client.get(f"{en(name)}?{query}"))


def test_the_400_page_speaks_the_language_of_the_address(browser_client, clinic):
    assert_friendly_400(browser_client.get("/da/?condition=%00"), language="da")


def test_a_nul_in_the_address_itself_gets_the_400(browser_client, clinic):
    # The private page looks its token up in the database: PostgreSQL refuses NUL.
    assert_friendly_400(browser_client.get(en("booking:what") + "ab%00cd/"))


@pytest.mark.parametrize(
    "query",
    ["condition=neck-pain", "condition=n%C3%A6sten", "q=a+b%26c", "condition=", "%E2%9C%93=1"],
)
def test_ordinary_queries_pass(browser_client, clinic, query):
    ConditionFactory(slug_en="neck-pain")
    assert browser_client.get(f"{en('booking:what')}?{query}").status_code == 200


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_nul_in_a_booking_form_field_gets_the_400_and_stores_nothing(
    browser_client, clinic, encoding
):
    kind = AppointmentTypeFactory()
    data = {"appointment_type": str(kind.pk), "painful_area": "Neck\x00"}
    response = post(browser_client, en("booking:what"), data, encoding)
    assert response.request["CONTENT_TYPE"].split(";")[0] in (FORM, "multipart/form-data")
    assert_friendly_400(response)
    assert not Booking.objects.exists()
    # The same form without the NUL goes through.
    data["painful_area"] = "Neck"
    assert post(browser_client, en("booking:what"), data, encoding).status_code == 302
    assert Booking.objects.get().painful_area == "Neck"


def test_invalid_utf8_in_a_form_body_gets_the_400(browser_client, clinic):
    kind = AppointmentTypeFactory()
    body = f"appointment_type={kind.pk}&painful_area=Neck%ff"
    response = browser_client.post(en("booking:what"), body, content_type=FORM)
    assert_friendly_400(response)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@pytest.mark.parametrize(
    "data",
    [
        {"username": "eva\x00", "password": "x"},
        {"username": "eva", "password": "x\x00"},
    ],
    ids=["username", "password"],
)
def test_a_nul_at_the_admin_login_gets_the_400(browser_client, clinic, data, encoding):
    assert_friendly_400(post(browser_client, "/admin/login/", data, encoding))


def test_the_admin_search_with_a_nul_gets_the_400(client, clinic):
    from tests.factories import UserFactory

    client.force_login(UserFactory(groups=["Editors"]))
    # The admin has no language prefix: the page is in the site's default language.
    assert_friendly_400(client.get("/admin/conditions/condition/?q=%00"), settings.LANGUAGE_CODE)
    assert client.get("/admin/conditions/condition/?q=neck").status_code == 200


def test_a_forged_session_cookie_with_a_nul_starts_a_fresh_session(browser_client, clinic):
    # The cookie parser turns the octal escape in a quoted value into a NUL.
    cookie = 'sessionid="abcdefgh\\000ijklmnop"'
    assert browser_client.get(en("booking:what"), HTTP_COOKIE=cookie).status_code == 200


def test_is_malformed():
    assert not is_malformed("a=1&b=%C3%A6+%E2%9C%93")
    assert not is_malformed(b"")
    assert is_malformed("a=%00")
    assert is_malformed(b"a=\x00")
    assert is_malformed("a=%ff")
    assert is_malformed("a=%C3")  # a cut-off character
    assert is_malformed("a=%ED%A0%80")  # a lone surrogate is not UTF-8


def test_a_refused_host_header_still_gets_a_400_not_a_500(browser_client, clinic, settings):
    # The friendly page cannot be built for an unknown host; a plain 400 is still a 400.
    settings.ALLOWED_HOSTS = ["clinic.example"]
    response = browser_client.get("/en/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
