"""Which fields of the content models are translated (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

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

DEFAULT = ("da",)


@register(Source)
class SourceTranslation(TranslationOptions):
    fields = ("title",)
    required_languages = DEFAULT


@register(Treatment)
class TreatmentTranslation(TranslationOptions):
    fields = (
        "name",
        "slug",
        "summary",
        "body",
        "how_it_is_done",
        "anaesthesia",
        "aftercare",
        "meta_description",
        "reviewed_on",
        "reviewed_by",
    )
    required_languages = {"da": ("name", "slug")}


@register(Condition)
class ConditionTranslation(TranslationOptions):
    fields = (
        "name",
        "slug",
        "summary",
        "introduction",
        "new_phase_text",
        "chronic_phase_text",
        "conclusion",
        "meta_description",
        "reviewed_on",
        "reviewed_by",
    )
    required_languages = {"da": ("name", "slug")}


@register(ConditionSection)
class ConditionSectionTranslation(TranslationOptions):
    fields = ("heading", "body", "image_alt", "image_caption")
    required_languages = {"da": ("heading",)}


@register(TreatmentRecommendation)
class TreatmentRecommendationTranslation(TranslationOptions):
    fields = ("note",)


@register(KeyFigure)
class KeyFigureTranslation(TranslationOptions):
    fields = ("value", "label")
    required_languages = {"da": ("value", "label")}


@register(Symptom)
class SymptomTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = DEFAULT


@register(RiskFactor)
class RiskFactorTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = DEFAULT


@register(DiagnosisStep)
class DiagnosisStepTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = DEFAULT


@register(FAQTopic)
class FAQTopicTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = DEFAULT


@register(FAQ)
class FAQTranslation(TranslationOptions):
    fields = ("question", "answer")
    required_languages = {"da": ("question", "answer")}
