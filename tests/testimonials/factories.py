"""factory_boy factories for testimonials."""

import factory
from django.utils import timezone

from clinic.models import ConsentText
from testimonials.models import Testimonial


def current_testimonial_consent() -> ConsentText:
    kind = ConsentText.Kind.TESTIMONIAL
    return ConsentText.objects.current(kind) or ConsentText.objects.create(
        kind=kind, text_da="Jeg giver lov til at vise min udtalelse.", text_en="I agree."
    )


class TestimonialFactory(factory.django.DjangoModelFactory):
    """A testimonial written in Danish, awaiting review; `approved=True` publishes it."""

    __test__ = False  # not a test class, despite its name

    class Meta:
        model = Testimonial
        skip_postgeneration_save = True

    class Params:
        approved = factory.Trait(status=Testimonial.Status.APPROVED)

    language = "da"
    title_da = factory.Sequence(lambda n: f"Udtalelse {n}")
    text_da = factory.Sequence(lambda n: f"Behandlingen hjalp mig. ({n})")
    display_name = factory.Sequence(lambda n: f"Patient {n}")
    rating = 5
    status = Testimonial.Status.SUBMITTED
    origin = Testimonial.Origin.ONLINE
    consent_given_at = factory.LazyFunction(timezone.now)
    consent_text = factory.LazyFunction(current_testimonial_consent)

    @factory.post_generation
    def conditions(self, create, extracted, **kwargs):
        if create and extracted:
            self.conditions.set(extracted)
