"""Which fields of the clinic's models are translated (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark


@register(ClinicDetails)
class ClinicDetailsTranslation(TranslationOptions):
    fields = ("tagline", "introduction", "opening_hours", "country")


@register(TrustMark)
class TrustMarkTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Practitioner)
class PractitionerTranslation(TranslationOptions):
    fields = ("title", "photo_alt", "bio")


@register(Page)
class PageTranslation(TranslationOptions):
    fields = ("title", "slug", "meta_description", "body")
    required_languages = ("da",)


@register(ConsentText)
class ConsentTextTranslation(TranslationOptions):
    fields = ("text",)
    required_languages = ("da",)
