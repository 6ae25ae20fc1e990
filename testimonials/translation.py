"""A testimonial's title and text, in the language it was written in and in translations."""

from modeltranslation.translator import TranslationOptions, register

from testimonials.models import Testimonial


@register(Testimonial)
class TestimonialTranslation(TranslationOptions):
    fields = ("title", "text")
    # The patient writes in any of the languages; the model checks that the
    # original language's text is there.
    required_languages = ()
