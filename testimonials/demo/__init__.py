"""Demo testimonials for the made-up clinic, from made-up patients.

`manage.py load_demo` calls `load_demo_testimonials()` after the medical content,
which they link to. Every name and sentence is invented for the demo; they are in
testimonials.yaml beside this module. They are written in Danish, Norwegian and
English; one Norwegian testimonial also has a Danish translation, so the Danish pages
show the "translated from" label. The
ratings are mostly 4 and 5, and one 3: a critical testimonial is shown too.

Loading is idempotent: a demo testimonial is found by its name shown, and nothing
is saved unless it differs. The consent record (date and consent text) is set
when a testimonial is made and never changed afterwards.
"""

from datetime import UTC, datetime
from pathlib import Path

from clinic import demo_data
from clinic.demo import upsert
from clinic.models import ConsentText
from conditions.demo import GOLD, LOW_BACK_PAIN, NECK_PAIN
from conditions.models import Condition, Treatment
from testimonials.models import Testimonial

DATA = Path(__file__).parent


def _spec(entry: dict) -> dict:
    """One testimonial's fields from its entry in testimonials.yaml."""
    values = {key: value for key, value in entry.items() if key != "words"}
    values["received"] = datetime.fromisoformat(entry["received"]).replace(tzinfo=UTC)
    for code, words in entry["words"].items():
        values |= {f"title_{code}": words["title"].strip(), f"text_{code}": words["text"].strip()}
    return values


TESTIMONIALS = [_spec(entry) for entry in demo_data.read(DATA / "testimonials.yaml")]


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
