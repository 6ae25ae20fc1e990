"""Demo testimonials for the made-up clinic, from made-up patients.

`manage.py load_demo` calls `load_demo_testimonials()` after the medical content,
which they link to. Every name and sentence is invented for the demo. They are
written in Danish, Norwegian and English; one Norwegian testimonial also has a
Danish translation, so the Danish pages show the "translated from" label. The
ratings are mostly 4 and 5, and one 3: a critical testimonial is shown too.

Loading is idempotent: a demo testimonial is found by its name shown, and nothing
is saved unless it differs. The consent record (date and consent text) is set
when a testimonial is made and never changed afterwards.
"""

from datetime import UTC, datetime

from clinic.demo import upsert
from clinic.models import ConsentText
from conditions.demo import GOLD, LOW_BACK_PAIN, NECK_PAIN
from conditions.models import Condition, Treatment
from testimonials.models import Testimonial

TESTIMONIALS = [
    {
        "display_name": "Karen",
        "age": 64,
        "language": "da",
        "rating": 5,
        "conditions": [NECK_PAIN],
        "treatment_year": 2024,
        "featured": True,
        "received": datetime(2025, 3, 11, 9, 30, tzinfo=UTC),
        "title_da": "Jeg kan dreje hovedet igen",
        "text_da": (
            "Efter otte år med en stiv og øm nakke havde jeg næsten opgivet. Et par måneder "
            "efter behandlingen kunne jeg bakke bilen ud af indkørslen uden at vende hele "
            "kroppen. Lægen tog sig god tid og lovede ikke mere, end hun kunne holde."
        ),
    },
    {
        "display_name": "Poul",
        "language": "da",
        "rating": 4,
        "conditions": [LOW_BACK_PAIN],
        "treatment_year": 2023,
        "featured": False,
        "received": datetime(2024, 6, 4, 14, 0, tzinfo=UTC),
        "title_da": "Bedre nætter",
        "text_da": (
            "Smerterne i lænden er ikke helt væk, men jeg sover igennem de fleste nætter nu, "
            "og jeg kan gå min daglige tur med hunden. Det var en rolig og venlig oplevelse "
            "på klinikken."
        ),
    },
    {
        "display_name": "H.M.",
        "age": 52,
        "language": "da",
        "rating": 3,
        "conditions": [NECK_PAIN],
        "treatment_year": 2025,
        "featured": False,
        "received": datetime(2026, 2, 19, 11, 15, tzinfo=UTC),
        "title_da": "Noget bedre, men ikke et mirakel",
        "text_da": (
            "Jeg har fået det lidt bedre, især om morgenen, men jeg har stadig dårlige dage. "
            "Personalet var søde og forklarede grundigt, hvad jeg kunne forvente, så jeg "
            "blev ikke skuffet."
        ),
    },
    {
        "display_name": "Ingrid",
        "age": 58,
        "language": "nb",
        "rating": 5,
        "conditions": [NECK_PAIN],
        "treatment_year": 2024,
        "featured": True,
        "received": datetime(2025, 1, 27, 16, 45, tzinfo=UTC),
        "title_nb": "Turen over Skagerrak var verdt det",
        "text_nb": (
            "Jeg hadde hatt vondt i nakken i mange år og prøvd det meste. Reisen til Danmark "
            "var lang, men jeg angrer ikke. I dag kan jeg sitte ved datamaskinen en hel "
            "arbeidsdag uten å måtte legge meg etterpå."
        ),
        # A translation by the clinic: the Danish pages say it is translated from Norwegian.
        "title_da": "Turen over Skagerrak var det værd",
        "text_da": (
            "Jeg havde haft ondt i nakken i mange år og prøvet det meste. Rejsen til Danmark "
            "var lang, men jeg fortryder ikke. I dag kan jeg sidde ved computeren en hel "
            "arbejdsdag uden at skulle lægge mig bagefter."
        ),
    },
    {
        "display_name": "Terje",
        "language": "nb",
        "rating": 4,
        "conditions": [LOW_BACK_PAIN],
        "treatment_year": 2025,
        "featured": False,
        "received": datetime(2026, 4, 8, 8, 20, tzinfo=UTC),
        "title_nb": "Tilbake i skiløypa",
        "text_nb": (
            "Korsryggen har plaget meg hver vinter. Etter behandlingen har jeg klart flere "
            "turer i skiløypa denne sesongen, i rolig tempo. Jeg fikk god informasjon både "
            "før og etter."
        ),
    },
    {
        "display_name": "Sarah",
        "age": 45,
        "language": "en",
        "rating": 5,
        "conditions": [LOW_BACK_PAIN],
        "treatment_year": 2024,
        "featured": True,
        "received": datetime(2025, 9, 2, 13, 10, tzinfo=UTC),
        "title_en": "Clear answers and real relief",
        "text_en": (
            "I live in Denmark, but my Danish is still basic, so I was glad the doctor "
            "explained everything in English. My lower back has been much calmer since the "
            "treatment, and I can lift my youngest again."
        ),
    },
    {
        "display_name": "Michael",
        "language": "en",
        "rating": 4,
        "conditions": [NECK_PAIN],
        "treatment_year": 2023,
        "featured": False,
        "received": datetime(2024, 11, 21, 10, 5, tzinfo=UTC),
        "title_en": "Worth trying after everything else",
        "text_en": (
            "I had tried physiotherapy, massage and painkillers for years. The treatment did "
            "not take away every ache, but my neck is far less stiff and I need fewer "
            "tablets. The follow-up call a few weeks later was a nice touch."
        ),
    },
]


def load_demo_testimonials() -> list[Testimonial]:
    """Create or update the demo testimonials (idempotent)."""
    consent = ConsentText.objects.current(ConsentText.Kind.TESTIMONIAL)
    gold = Treatment.objects.get(slug_da=GOLD)
    conditions = {
        c.slug_da: c for c in Condition.objects.filter(slug_da__in=[NECK_PAIN, LOW_BACK_PAIN])
    }

    testimonials = []
    for order, spec in enumerate(TESTIMONIALS, start=1):
        values = dict(spec)
        linked = [conditions[slug] for slug in values.pop("conditions")]
        received = values.pop("received")
        values |= {
            "treatment_id": gold.pk,
            "status": Testimonial.Status.APPROVED,
            "origin": Testimonial.Origin.STAFF,
            "order": order,
        }
        testimonial = Testimonial.objects.filter(
            is_demo=True, display_name=spec["display_name"]
        ).first()
        if testimonial is None:
            # Consent is recorded against this version: its words can no longer change.
            consent.mark_shown()
            # The consent record is set once; a rerun never rewrites it.
            testimonial = Testimonial(
                is_demo=True,
                consent_given_at=received,
                consent_text=consent,
                created_at=received,
            )
        upsert(testimonial, values)
        if set(testimonial.conditions.all()) != set(linked):
            testimonial.conditions.set(linked)
        testimonials.append(testimonial)
    return testimonials
