"""Rules of the clinic's own models."""

import pytest
from django.core.exceptions import ValidationError

from clinic.models import ClinicDetails, ConsentText, Page
from tests.factories import ConsentTextFactory, PageFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


def test_there_is_only_ever_one_clinic_record(demo):
    ClinicDetails(
        name="Another",
        phone="12345678",
        email="a@b.dk",
        street_address="x",
        postal_code="1",
        city="y",
    ).save()
    assert ClinicDetails.objects.count() == 1
    assert ClinicDetails.load().name == "Another"


def test_consent_text_versions_count_up_per_kind():
    first = ConsentTextFactory()
    second = ConsentTextFactory()
    other = ConsentTextFactory(kind=ConsentText.Kind.TESTIMONIAL)
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA) == second


def test_a_consent_text_shown_to_a_patient_can_never_be_edited():
    consent = ConsentTextFactory()
    consent.text_da = "Rettet før brug"
    consent.save()  # not shown yet: editing is fine
    consent.mark_shown()
    consent.text_da = "Ændret bagefter"
    with pytest.raises(ValidationError):
        consent.save()
    assert ConsentText.objects.get(pk=consent.pk).text_da == "Rettet før brug"


def test_a_new_version_copies_every_language_and_is_editable():
    consent = ConsentTextFactory(text_de="Ich stimme zu.")
    consent.mark_shown()
    copy = consent.new_version()
    assert copy.version == consent.version + 1
    assert (copy.text_da, copy.text_en, copy.text_de) == (
        "Jeg giver lov.",
        "I agree.",
        "Ich stimme zu.",
    )
    assert not copy.locked


def test_two_pages_cannot_share_an_address_in_one_language():
    PageFactory(slug_da="kontakt")
    page = PageFactory.build(slug_da="kontakt", slug_en="unique")
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "slug_da" in error.value.message_dict


def test_only_one_page_of_each_special_kind():
    PageFactory(kind=Page.Kind.PRIVACY)
    with pytest.raises(ValidationError):
        PageFactory.build(kind=Page.Kind.PRIVACY).full_clean()


def test_a_practitioner_photo_needs_a_description():
    practitioner = PractitionerFactory.build(photo="practitioners/x.jpg", photo_alt="")
    with pytest.raises(ValidationError) as error:
        practitioner.clean()
    assert "photo_alt" in error.value.message_dict


def test_html_in_plain_text_fields_is_refused():
    practitioner = PractitionerFactory.build(bio_da="<b>Fed</b> tekst")
    with pytest.raises(ValidationError) as error:
        practitioner.full_clean()
    assert "bio_da" in error.value.message_dict


def test_rich_text_is_sanitised_whoever_saves_it():
    page = PageFactory(
        body_da='<p onclick="x()">Hej<script>alert(1)</script>'
        '<img src=x onerror="alert(1)"></p><h2>Ok</h2>'
    )
    page.refresh_from_db()
    assert "script" not in page.body_da and "onerror" not in page.body_da
    assert "onclick" not in page.body_da
    assert "<h2>Ok</h2>" in page.body_da


def test_saving_rich_text_in_another_language_does_not_copy_the_danish_text():
    from django.utils import translation

    with translation.override("en"):
        page = PageFactory(body_da="<p>Kun dansk</p>", body_en="")
        page.save()
    page.refresh_from_db()
    assert page.body_en in ("", None)
    assert page.body_da == "<p>Kun dansk</p>"
