"""factory_boy factories for the content models."""

import factory
from django.utils import timezone

from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    FAQTopic,
    KeyFigure,
    Publishable,
    Source,
    Treatment,
    TreatmentRecommendation,
)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title_da = factory.Sequence(lambda n: f"Rapport {n}")
    title_en = factory.Sequence(lambda n: f"Report {n}")
    publisher = "Sundhedsstyrelsen"
    year = 2022


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment

    name_da = factory.Sequence(lambda n: f"Behandling {n}")
    name_en = factory.Sequence(lambda n: f"Treatment {n}")
    slug_da = factory.Sequence(lambda n: f"behandling-{n}")
    slug_en = factory.Sequence(lambda n: f"treatment-{n}")
    summary_da = "Kort om behandlingen."
    summary_en = "About the treatment in brief."
    meta_description_da = "Om behandlingen."
    meta_description_en = "About the treatment."
    status = Publishable.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    name_da = factory.Sequence(lambda n: f"Lidelse {n}")
    name_en = factory.Sequence(lambda n: f"Condition {n}")
    slug_da = factory.Sequence(lambda n: f"lidelse-{n}")
    slug_en = factory.Sequence(lambda n: f"condition-{n}")
    summary_da = "Kort om lidelsen."
    summary_en = "About the condition in brief."
    introduction_da = "<p>Indledning.</p>"
    introduction_en = "<p>Introduction.</p>"
    meta_description_da = "Om lidelsen."
    meta_description_en = "About the condition."
    status = Publishable.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConditionSection

    condition = factory.SubFactory(ConditionFactory)
    kind = ConditionSection.Kind.ABOUT
    heading_da = factory.Sequence(lambda n: f"Afsnit {n}")
    heading_en = factory.Sequence(lambda n: f"Section {n}")
    body_da = "<p>Tekst.</p>"
    body_en = "<p>Text.</p>"
    order = factory.Sequence(int)


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentRecommendation

    condition = factory.SubFactory(ConditionFactory)
    treatment = factory.SubFactory(TreatmentFactory)
    phase = TreatmentRecommendation.Phase.CHRONIC


class KeyFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyFigure

    condition = factory.SubFactory(ConditionFactory)
    value_da = "13 %"
    value_en = "13%"
    label_da = "af befolkningen har ondt nu"
    label_en = "of the population are in pain now"


class FAQTopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQTopic

    name_da = factory.Sequence(lambda n: f"Emne {n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQ
        skip_postgeneration_save = True

    question_da = factory.Sequence(lambda n: f"Spørgsmål {n}?")
    question_en = factory.Sequence(lambda n: f"Question {n}?")
    answer_da = "<p>Svar.</p>"
    answer_en = "<p>Answer.</p>"
    order = factory.Sequence(int)

    @factory.post_generation
    def conditions(self, create, extracted, **kwargs):
        if create and extracted:
            self.conditions.set(extracted)

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create and extracted:
            self.sources.set(extracted)
