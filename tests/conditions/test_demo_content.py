"""`manage.py load_demo` also loads the demo medical content, safely and more than once."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from clinic.demo import PRACTITIONER
from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    DiagnosisStep,
    FAQTopic,
    KeyFigure,
    RiskFactor,
    Source,
    Symptom,
    Treatment,
    TreatmentRecommendation,
)

pytestmark = pytest.mark.django_db

CONTENT_MODELS = [
    Source,
    Treatment,
    Condition,
    ConditionSection,
    TreatmentRecommendation,
    KeyFigure,
    Symptom,
    RiskFactor,
    DiagnosisStep,
    FAQTopic,
    FAQ,
    FAQ.conditions.through,
    FAQ.treatments.through,
    FAQ.sources.through,
]


def counts():
    return [model.objects.count() for model in CONTENT_MODELS]


def neck_pain():
    return Condition.objects.get(slug_da="nakkesmerter")


def test_second_run_creates_and_changes_nothing():
    call_command("load_demo")
    first = counts()
    stamps = {
        "neck pain": neck_pain().updated_at,
        "low back pain": Condition.objects.get(slug_da="laendesmerter").updated_at,
        "treatments": list(Treatment.objects.order_by("pk").values_list("updated_at", flat=True)),
    }
    rows = [list(model.objects.order_by("pk").values()) for model in CONTENT_MODELS]

    call_command("load_demo")

    assert counts() == first
    assert all(first), "every kind of content has at least one row"
    assert neck_pain().updated_at == stamps["neck pain"], "a second run changes nothing"
    assert Condition.objects.get(slug_da="laendesmerter").updated_at == stamps["low back pain"]
    assert (
        list(Treatment.objects.order_by("pk").values_list("updated_at", flat=True))
        == stamps["treatments"]
    )
    assert [list(model.objects.order_by("pk").values()) for model in CONTENT_MODELS] == rows


def test_neck_pain_page_is_complete_and_reviewed():
    call_command("load_demo")
    condition = neck_pain()

    assert condition.is_public
    assert (condition.name_da, condition.name_en) == ("Nakkesmerter", "Neck pain")
    assert (condition.slug_da, condition.slug_en) == ("nakkesmerter", "neck-pain")
    for field in ("summary", "introduction", "new_phase_text", "chronic_phase_text", "conclusion"):
        assert getattr(condition, f"{field}_da"), field
        assert getattr(condition, f"{field}_en"), field
    assert condition.reviewed_by.name == PRACTITIONER["name"]
    assert condition.reviewed_on is not None

    kinds = set(condition.sections.values_list("kind", flat=True))
    assert kinds >= set(ConditionSection.Kind.values) - {ConditionSection.Kind.OTHER}
    for section in condition.sections.all():
        assert section.heading_en and section.body_da and section.body_en

    figures = {figure.value_da: figure for figure in condition.figures.all()}
    assert {"13 %", "50 %"} <= figures.keys()
    assert all(figure.source is None for figure in figures.values()), "no invented sources"

    phases = set(condition.recommendations.values_list("phase", flat=True))
    assert phases == {"new", "chronic"}
    gold = Treatment.objects.get(slug_da="guldimplantation")
    assert condition.recommendations.filter(treatment=gold, phase="chronic").exists()
    assert gold.offered_by_clinic and gold.is_public

    assert condition.symptoms.count() == 6
    assert condition.risk_factors.count() >= 7
    assert condition.diagnosis_steps.count() == 4
    assert condition.faqs.exists()


def test_named_source_is_cited_where_it_is_used():
    call_command("load_demo")
    source = Source.objects.get(title_da="Sygdomsbyrden i Danmark")
    assert (source.publisher, source.year, source.url) == ("Sundhedsstyrelsen", 2022, "")

    faq = FAQ.objects.get(question_da="Hvordan behandles kroniske rygsmerter?")
    assert list(faq.sources.all()) == [source]
    assert faq.conditions.filter(slug_da="laendesmerter").exists()

    back = Condition.objects.get(slug_da="laendesmerter")
    assert back.is_public
    assert back.figures.get(value_da="1,7 mio.").source == source


def test_every_faq_belongs_to_a_condition_or_treatment():
    call_command("load_demo")
    assert FAQ.objects.count() >= 15
    for faq in FAQ.objects.all():
        assert faq.question_en and faq.answer_en, faq
        assert faq.topic is not None, faq
        assert faq.conditions.exists() or faq.treatments.exists(), faq


def all_texts():
    """Every text value of the content app's records, in every language."""
    for model in apps.get_app_config("conditions").get_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        for values in model.objects.values_list(*fields):
            yield from (value for value in values if value)


def test_no_trace_of_the_reference_clinic():
    call_command("load_demo")
    texts = list(all_texts())
    assert texts
    for text in texts:
        lowered = text.lower()
        for banned in ("guldklinikken", "gold implant clinic", "kjerkegaard"):
            assert banned not in lowered, text
        assert "23 39 49 77" not in text and "23394977" not in text.replace(" ", ""), text


def test_rich_text_uses_no_page_level_headings():
    call_command("load_demo")
    for text in all_texts():
        assert "<h2" not in text and "<h1" not in text, text
