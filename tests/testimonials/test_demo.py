"""The demo testimonials: made up, in three languages, linked to the demo content, idempotent."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import ConsentText
from testimonials.demo import TESTIMONIALS, load_demo_testimonials
from testimonials.models import Testimonial

pytestmark = pytest.mark.django_db

# The reference site's testimonials must not be copied: neither their names nor words.
REFERENCE_NAMES = ["Anders", "JF", "J.F.", "Betina"]


def snapshot():
    return [
        (t.pk, t.updated_at, t.order, t.status, t.consent_text_id, t.consent_given_at)
        for t in Testimonial.objects.order_by("pk")
    ] + [tuple(t.conditions.values_list("pk", flat=True)) for t in Testimonial.objects.all()]


def test_load_demo_makes_the_demo_testimonials_and_a_rerun_changes_nothing():
    call_command("load_demo")
    first = snapshot()
    consent_versions = ConsentText.objects.filter(kind=ConsentText.Kind.TESTIMONIAL).count()

    call_command("load_demo")

    assert snapshot() == first, "a second run changes nothing"
    assert Testimonial.objects.count() == len(TESTIMONIALS)
    assert 6 <= len(TESTIMONIALS) <= 8
    assert ConsentText.objects.filter(kind=ConsentText.Kind.TESTIMONIAL).count() == (
        consent_versions
    )


def test_the_demo_testimonials_are_approved_demo_content_with_a_consent_record():
    call_command("load_demo")
    consent = ConsentText.objects.current(ConsentText.Kind.TESTIMONIAL)
    assert consent.locked, "consent was given against it: the text can no longer change"
    for testimonial in Testimonial.objects.all():
        testimonial.full_clean()
        assert testimonial.is_demo
        assert testimonial.status == Testimonial.Status.APPROVED
        assert testimonial.origin == Testimonial.Origin.STAFF
        assert testimonial.consent_text == consent
        assert testimonial.consent_given_at < timezone.now()
        assert testimonial.treatment.slug_da == "guldimplantation"
        assert testimonial.treatment_year <= timezone.localdate().year
        assert {c.slug_da for c in testimonial.conditions.all()} <= {
            "nakkesmerter",
            "laendesmerter",
        }
        assert testimonial.conditions.exists()
    assert Testimonial.objects.approved().count() == len(TESTIMONIALS)
    assert 1 <= Testimonial.objects.featured().count() < len(TESTIMONIALS)
    assert {c.slug_da for t in Testimonial.objects.all() for c in t.conditions.all()} == {
        "nakkesmerter",
        "laendesmerter",
    }
    assert len({t.order for t in Testimonial.objects.all()}) == len(TESTIMONIALS)


def test_the_demo_is_written_in_danish_norwegian_and_english_with_mostly_high_ratings():
    call_command("load_demo")
    testimonials = list(Testimonial.objects.all())
    assert {t.language for t in testimonials} == {"da", "nb", "en"}
    for testimonial in testimonials:
        assert testimonial.original("text"), "the text is in the language written in"
        assert testimonial.original("title")
    ratings = [t.rating for t in testimonials]
    assert 3 in ratings
    assert all(r >= 3 for r in ratings)
    assert sum(r >= 4 for r in ratings) > len(ratings) / 2


def test_a_norwegian_demo_testimonial_is_translated_into_danish():
    call_command("load_demo")
    translated = [t for t in Testimonial.objects.filter(language="nb") if t.text_da]
    assert len(translated) == 1
    shown = translated[0].shown_in("da")
    assert shown.translated
    assert shown.text == translated[0].text_da
    assert shown.original_language == "nb"
    # Elsewhere the original is shown.
    assert translated[0].shown_in("sv").text == translated[0].text_nb


def test_the_demo_testimonials_are_not_the_reference_sites():
    for spec in TESTIMONIALS:
        words = " ".join(str(value) for value in spec.values())
        first_name = spec["display_name"].split(",")[0].strip()
        assert first_name not in REFERENCE_NAMES
        for name in REFERENCE_NAMES:
            assert name not in words.split()


def test_a_demo_testimonial_changed_by_hand_is_put_back_but_its_consent_record_kept():
    call_command("load_demo")
    testimonial = Testimonial.objects.get(display_name=TESTIMONIALS[0]["display_name"])
    consent = testimonial.consent_text
    testimonial.rating = 1
    testimonial.save()
    newer = consent.new_version()  # a newer consent text does not rewrite the record

    load_demo_testimonials()

    testimonial.refresh_from_db()
    assert testimonial.rating == TESTIMONIALS[0]["rating"]
    assert testimonial.consent_text == consent
    assert Testimonial.objects.count() == len(TESTIMONIALS)
    newer.refresh_from_db()
    assert not newer.locked, "no consent was recorded against the newer version"
