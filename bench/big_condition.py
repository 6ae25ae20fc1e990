"""A big condition page for the benchmarks, built with the ORM in their throw-away database.

Its texts are about as long as the demo's neck-pain page's (a section's text about 500
characters, an answer about 300), so the page differs from the demo's in the number of
parts, not in the length of each: render time can be set beside the content size.
"""

from dataclasses import dataclass

from django.utils import timezone

from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    KeyFigure,
    Publishable,
    Source,
    Treatment,
    TreatmentRecommendation,
)

SLUG = "stor-testside"

SENTENCE = (
    "Smerterne kan komme og gå, og de fleste får det bedre inden for nogle uger, "
    "men nogle har ondt i længere tid og har brug for en plan. "
)
PARAGRAPH = f"<p>{SENTENCE * 2}</p>"


@dataclass(frozen=True)
class Size:
    """How much a condition page holds."""

    sections: int = 30
    faqs: int = 40
    sources: int = 20
    recommendations: int = 10
    figures: int = 10
    symptoms: int = 10


def published(**fields) -> dict:
    yesterday = timezone.now() - timezone.timedelta(days=1)
    return {"status": Publishable.Status.PUBLISHED, "published_at": yesterday, **fields}


def build_big_condition(size: Size = Size()) -> Condition:
    """A published condition of `size` at /da/lidelser/<SLUG>/; every source is cited."""
    condition = Condition.objects.create(
        **published(
            name_da="Stor testside",
            slug_da=SLUG,
            summary_da=SENTENCE,
            introduction_da=PARAGRAPH,
            new_phase_text_da=PARAGRAPH,
            chronic_phase_text_da=PARAGRAPH,
            conclusion_da=PARAGRAPH,
            meta_description_da="En stor side til målinger.",
        )
    )
    kinds = ConditionSection.Kind.values
    for n in range(size.sections):
        condition.sections.create(
            kind=kinds[n % len(kinds)], heading_da=f"Afsnit {n}", body_da=PARAGRAPH * 2, order=n
        )
    sources = [
        Source.objects.create(title_da=f"Rapport {n}", publisher="Sundhedsstyrelsen", year=2022)
        for n in range(size.sources)
    ]
    for n in range(size.faqs):
        faq = FAQ.objects.create(question_da=f"Spørgsmål {n}?", answer_da=PARAGRAPH, order=n)
        faq.conditions.add(condition)
        # Two sources each, in turn, so that every source is cited.
        faq.sources.set([sources[n % size.sources], sources[(n + 1) % size.sources]])
    phases = TreatmentRecommendation.Phase.values
    for n in range(size.recommendations):
        treatment = Treatment.objects.create(
            **published(name_da=f"Behandling {n}", slug_da=f"stor-behandling-{n}", order=n)
        )
        TreatmentRecommendation.objects.create(
            condition=condition, treatment=treatment, phase=phases[n % len(phases)], order=n
        )
    for n in range(size.figures):
        KeyFigure.objects.create(
            condition=condition,
            value_da=f"{n + 10} %",
            label_da="af befolkningen har ondt nu",
            source=sources[n % size.sources],
            order=n,
        )
    for n in range(size.symptoms):
        condition.symptoms.create(text_da=f"Symptom {n}", order=n)
    return condition
