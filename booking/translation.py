"""Which fields of the booking models are translated (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from booking.models import AppointmentType


@register(AppointmentType)
class AppointmentTypeTranslation(TranslationOptions):
    fields = ("name", "description", "instructions")
    required_languages = {"da": ("name",)}
