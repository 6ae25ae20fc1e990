"""Text messages: the backends, phone numbers, and the patient's choice of channel."""

import json
import re
import socket

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from booking import sms
from booking.forms import AboutYouForm
from booking.models import Booking
from clinic.models import ConsentText
from tests.booking.conftest import GATEWAY, TOKEN
from tests.booking.factories import AppointmentTypeFactory

NUMBER = "+4520123456"
TEXT = "Husk din tid i morgen kl. 9.00."


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def assert_safe_to_log(error: sms.SmsError):
    message = str(error.value)
    for secret in (TOKEN, NUMBER, "20123456", TEXT):
        assert secret not in message


# The gateway backend


def test_the_gateway_gets_the_message_as_json_with_the_bearer_token(gateway):
    sms.send_sms(to="20 12 34 56", text=TEXT)
    [request] = gateway.received
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"to": NUMBER, "from": "Egebaek", "text": TEXT}


@pytest.mark.parametrize("status", [200, 202, 204, 299])
def test_any_2xx_answer_means_accepted(gateway, status):
    gateway.status = status
    sms.send_sms(to=NUMBER, text=TEXT)
    assert len(gateway.received) == 1


@pytest.mark.parametrize("status", [300, 302, 307, 400, 401, 429, 500, 503])
def test_any_other_answer_raises_without_leaking_secrets(gateway, status):
    gateway.status = status
    with pytest.raises(sms.SmsError, match=f"HTTP {status}") as error:
        sms.send_sms(to=NUMBER, text=TEXT)
    assert_safe_to_log(error)
    assert len(gateway.received) == 1, "a redirect is not followed"


def test_a_refused_connection_raises(gateway):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = closed.getsockname()[1]
        refused = f"http://127.0.0.1:{port}/v1/messages"
        with (
            override_settings(SMS_GATEWAY_URL=refused),
            pytest.raises(sms.SmsError, match="could not be reached") as error,
        ):
            sms.send_sms(to=NUMBER, text=TEXT)
    assert_safe_to_log(error)


def test_a_gateway_slower_than_the_timeout_raises(gateway):
    gateway.slow = True
    with (
        override_settings(SMS_TIMEOUT=0.3),
        pytest.raises(sms.SmsError, match="did not answer within 0.3 s") as error,
    ):
        sms.send_sms(to=NUMBER, text=TEXT)
    assert_safe_to_log(error)
    assert len(gateway.received) == 1


@override_settings(SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL="", SMS_GATEWAY_TOKEN=TOKEN)
def test_without_a_gateway_url_sending_raises_instead_of_crashing():
    with pytest.raises(sms.SmsError, match="^no gateway configured$"):
        sms.send_sms(to=NUMBER, text=TEXT)


@override_settings(SMS_BACKEND=GATEWAY, SMS_GATEWAY_URL="file:///etc/passwd")
def test_a_gateway_url_that_is_not_http_is_refused():
    with pytest.raises(sms.SmsError, match="must start with https:// or http://"):
        sms.send_sms(to=NUMBER, text=TEXT)


def test_a_token_that_breaks_the_header_is_not_quoted_in_the_error(gateway):
    with override_settings(SMS_GATEWAY_TOKEN=TOKEN + "\n"), pytest.raises(sms.SmsError) as error:
        sms.send_sms(to=NUMBER, text=TEXT)
    assert_safe_to_log(error)
    assert gateway.received == []


# send_sms, the console and the locmem backends


def test_the_locmem_backend_keeps_the_message_with_the_number_in_e164():
    sms.send_sms(to="0045 20 12 34 56", text=TEXT)
    assert sms.outbox == [{"to": NUMBER, "text": TEXT, "sender": "Clinic"}]


def test_a_number_that_cannot_get_texts_is_refused_before_any_backend():
    with pytest.raises(sms.SmsError) as error:
        sms.send_sms(to="+46 8 123 456 78", text=TEXT)
    assert sms.outbox == []
    assert "468" not in str(error.value)


@override_settings(SMS_BACKEND="booking.sms.ConsoleBackend", SMS_SENDER="Egebaek")
def test_the_console_backend_prints_the_message(capsys):
    sms.send_sms(to="+46 70 123 45 67", text=TEXT)
    out = capsys.readouterr().out
    assert "Egebaek" in out and "+46701234567" in out and TEXT in out
    assert sms.outbox == []


# Phone numbers


@pytest.mark.parametrize(
    ("typed", "default_country", "expected"),
    [
        ("20 12 34 56", "+45", "+4520123456"),
        ("20123456", "+45", "+4520123456"),
        ("+45 20123456", "+45", "+4520123456"),
        ("0045 20 12 34 56", "+45", "+4520123456"),
        ("+45 20-12-34-56", "+45", "+4520123456"),
        ("+46 70 123 45 67", "+45", "+46701234567"),
        ("0046 70 123 45 67", "+45", "+46701234567"),
        ("070-123 45 67", "+46", "+46701234567"),
        ("+47 412 34 567", "+45", "+4741234567"),
        ("+49 151 23456789", "+45", "+4915123456789"),
    ],
)
def test_numbers_as_patients_type_them_become_e164(typed, default_country, expected):
    assert sms.normalise_phone(typed, default_country=default_country) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "not a number",
        "2012345",  # one digit short of a Danish number
        "201234567",  # one digit too many
        "12 34 56 78",  # Danish numbers starting with 1 are not given to subscribers
        "+46 8 123 456 78",  # a Stockholm landline
        "+49 30 1234567",  # a Berlin landline
        "80 20 30 40",  # Danish freephone
        "070-123 45 67",  # a Swedish mobile without +46 is not Danish
    ],
)
def test_numbers_that_cannot_receive_texts_are_refused(typed):
    assert sms.normalise_phone(typed) is None


# The patient's choice at booking


def about(**overrides):
    data = {
        "name": "Karen Jensen",
        "email": "karen@example.com",
        "phone": "20 12 34 56",
        "birth_date": "1958-04-30",
        "language": "da",
        "contact_channel": "email",
    }
    return data | overrides


LANDLINE = "+46 8 123 456 78"
NOT_MOBILE = "We can only send text messages to a mobile number."


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["sms", "both"])
def test_texts_need_a_mobile_number(channel):
    translation.activate("en")
    form = AboutYouForm(about(contact_channel=channel, phone=LANDLINE), instance=Booking())
    assert not form.is_valid()
    assert list(form.errors) == ["phone"]
    assert form.errors["phone"][0].startswith(NOT_MOBILE)


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["sms", "both"])
def test_texts_with_a_mobile_number_are_accepted(channel):
    form = AboutYouForm(about(contact_channel=channel), instance=Booking())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_channel"] == channel
    assert form.cleaned_data["phone"] == NUMBER


@pytest.mark.django_db
def test_a_landline_is_fine_when_the_patient_wants_e_mail():
    form = AboutYouForm(about(phone=LANDLINE), instance=Booking())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "+46812345678"


@pytest.mark.django_db
def test_an_invalid_phone_gets_one_message_not_two():
    form = AboutYouForm(about(contact_channel="sms", phone="12 34"), instance=Booking())
    assert not form.is_valid()
    assert len(form.errors["phone"]) == 1
    assert NOT_MOBILE not in form.errors["phone"][0]


@pytest.mark.django_db
def test_an_unknown_channel_is_refused():
    form = AboutYouForm(about(contact_channel="fax"), instance=Booking())
    assert not form.is_valid()
    assert "contact_channel" in form.errors


@pytest.mark.django_db
def test_no_answer_means_e_mail():
    data = about()
    del data["contact_channel"]
    form = AboutYouForm(data, instance=Booking())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_channel"] == Booking.Channel.EMAIL


def url(name: str) -> str:
    with translation.override("en"):
        return reverse(f"booking:{name}")


@pytest.fixture
def at_about_step(client):
    client.post(url("what"), {"appointment_type": AppointmentTypeFactory().pk})
    client.post(
        url("when"), {"earliest_date": "2099-01-05", "time_of_day": "morning", "weekdays": []}
    )
    return client


@pytest.mark.django_db
def test_the_choice_is_a_fieldset_with_e_mail_ticked_at_first(at_about_step):
    html = at_about_step.get(url("about")).content.decode()
    fieldset = re.search(
        r'<fieldset[^>]*>((?!</fieldset>).)*name="contact_channel".*?</fieldset>', html, re.S
    )
    assert fieldset, "the radio buttons are grouped in a fieldset"
    group = fieldset.group(0)
    assert re.search(r"<legend[^>]*>\s*How should we send you messages", group)
    labels = re.findall(r'<label for="id_contact_channel_\d"[^>]*>\s*(.*?)\s*</label>', group)
    assert labels == ["E-mail", "Text message (SMS)", "Both"]
    assert re.search(r'value="email"[^>]*checked', group)
    assert not re.search(r'value="sms"[^>]*checked', group)


@pytest.mark.django_db
def test_the_chosen_channel_is_stored_on_the_booking(at_about_step):
    response = at_about_step.post(url("about"), about(contact_channel="both"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.contact_channel == "both"
    assert booking.phone == NUMBER


@pytest.mark.django_db
def test_a_landline_for_texts_is_explained_and_every_answer_kept(at_about_step):
    response = at_about_step.post(url("about"), about(contact_channel="sms", phone=LANDLINE))
    assert response.status_code == 200
    html = response.content.decode()
    assert NOT_MOBILE in html
    assert 'href="#id_phone"' in html, "the error summary links to the phone field"
    assert f'value="{LANDLINE}"' in html and 'value="Karen Jensen"' in html
    assert re.search(r'value="sms"[^>]*checked', html)
    assert Booking.objects.get().contact_channel == Booking.Channel.EMAIL


# The consent text names the gateway


@pytest.mark.django_db
def test_the_demo_consent_names_the_sms_gateway_as_a_processor_in_every_language():
    call_command("load_demo")
    consent = ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA)
    assert "SMS gateway that is a data processor" in consent.text_en
    assert "databehandler" in consent.text_da and "telefonnummer" in consent.text_da
    for code in ("nb", "sv", "de"):
        assert "SMS" in getattr(consent, f"text_{code}").upper()


@pytest.mark.django_db
def test_a_consent_text_patients_saw_gets_a_new_version_not_an_edit():
    old = ConsentText.objects.create(kind=ConsentText.Kind.HEALTH_DATA, text_en="I agree.")
    old.mark_shown()
    call_command("load_demo")
    call_command("load_demo")
    versions = ConsentText.objects.filter(kind=ConsentText.Kind.HEALTH_DATA)
    assert versions.count() == 2, "one new version, and a rerun adds none"
    old.refresh_from_db()
    assert old.text_en == "I agree."
    assert "SMS gateway" in ConsentText.objects.current(old.kind).text_en


@pytest.mark.django_db
def test_a_consent_text_nobody_saw_is_brought_up_to_date_in_place():
    old = ConsentText.objects.create(kind=ConsentText.Kind.HEALTH_DATA, text_en="I agree.")
    call_command("load_demo")
    assert ConsentText.objects.filter(kind=ConsentText.Kind.HEALTH_DATA).get().pk == old.pk
    old.refresh_from_db()
    assert "SMS gateway" in old.text_en
