"""Demo medical content for the made-up clinic: conditions, treatments, FAQs and a source.

`manage.py load_demo` calls `load_demo_content()` after `clinic.demo.load_demo()`, so a
first run shows real-looking pages on neck pain and low back pain. The words live in the
data files beside this module (see `clinic.demo_data`): `structure.yaml` for what no
language changes, and one file per language for each part: `neck-pain.da.yaml`,
`treatments.nb.yaml`, `faq.de.yaml` ... The facts follow a public page on chronic neck
pain, but every sentence is written anew, in plain language, natively in each language.
Figures without a named source are shown without one; the one named source is cited as
published, without an invented link.

Loading is idempotent: records are found by a stable key (Danish slug, question or
title), child rows by their condition and order, and nothing is saved unless it differs.
"""

from datetime import UTC, datetime, time
from pathlib import Path

from clinic import demo_data
from clinic.demo import PRACTITIONER, attach_file, upsert
from clinic.fields import RichTextField
from clinic.i18n import site_languages
from clinic.models import Practitioner
from conditions.models import (
    FAQ,
    Condition,
    ConditionSection,
    DiagnosisStep,
    FAQTopic,
    KeyFigure,
    Publishable,
    RiskFactor,
    Source,
    Symptom,
    Treatment,
    TreatmentRecommendation,
)

DATA = Path(__file__).parent

# Stable keys (the Danish slugs), used by the other demo loaders and the tests.
GOLD = "guldimplantation"
NECK_PAIN = "nakkesmerter"
LOW_BACK_PAIN = "laendesmerter"

# Keys of a condition's data that hold its child rows rather than its own fields.
CHILD_ROWS = (
    "sections",
    "figures",
    "risk_factors",
    "diagnosis_steps",
    "symptoms",
    "recommendations",
    "recommendation_notes",
)


def _prepared(model, values: dict) -> dict:
    """Clean rich text the way the field does on save, so a rerun compares equal."""
    prepared = dict(values)
    for name, value in values.items():
        if value and isinstance(model._meta.get_field(name), RichTextField):
            prepared[name] = model._meta.get_field(name).sanitize(value)
    return prepared


def _save(model, instance, values: dict):
    return upsert(instance or model(), _prepared(model, values))


def _sync_rows(model, condition: Condition, rows: list[dict]) -> list:
    """Make the condition's rows of `model` match `rows`, numbered 1, 2, 3 ... by order."""
    kept = {}
    for row in model.objects.filter(condition=condition).order_by("order", "pk"):
        if 1 <= row.order <= len(rows) and row.order not in kept:
            kept[row.order] = row
        else:
            row.delete()
    return [
        upsert(kept.get(order) or model(condition=condition, order=order), _prepared(model, values))
        for order, values in enumerate(rows, start=1)
    ]


def _review(values: dict, reviewer: Practitioner) -> dict:
    """The fields recording the medical review of each language version.

    A language file's `reviewed_on` stands for the version in that language, reviewed by
    the demo's doctor; a language whose file has none stays unreviewed (and says so).
    """
    review = {}
    for code in site_languages():
        reviewed_on = values.pop(f"reviewed_on_{code}", None)
        review[f"reviewed_on_{code}"] = reviewed_on
        review[f"reviewed_by_{code}_id"] = reviewer.pk if reviewed_on else None
    return review


def _load_condition(spec: dict, treatments: dict, sources: dict, common: dict) -> Condition:
    children = {key: spec.pop(key, []) for key in CHILD_ROWS}
    review = _review(spec, common["reviewer"])
    for key in ("key", "file"):
        spec.pop(key, None)
    condition = _save(
        Condition,
        Condition.objects.filter(slug_da=spec["slug_da"]).first(),
        spec | common["status"] | review,
    )
    images = [section.pop("image", None) for section in children["sections"]]
    sections = _sync_rows(ConditionSection, condition, children["sections"])
    for section, image in zip(sections, images, strict=True):
        if image:
            attach_file(section, "image", DATA / image)
    _sync_rows(
        KeyFigure,
        condition,
        [
            {key: value for key, value in figure.items() if key != "source"}
            | {"source_id": sources[figure["source"]].pk if figure.get("source") else None}
            for figure in children["figures"]
        ],
    )
    _sync_rows(RiskFactor, condition, demo_data.rows(children["risk_factors"], "text"))
    _sync_rows(DiagnosisStep, condition, demo_data.rows(children["diagnosis_steps"], "text"))
    _sync_rows(Symptom, condition, demo_data.rows(children["symptoms"], "text"))
    _sync_rows(
        TreatmentRecommendation,
        condition,
        [
            {
                "treatment_id": treatments[recommendation["treatment"]].pk,
                "phase": recommendation["phase"],
            }
            | {key.replace("text_", "note_"): text for key, text in note.items()}
            for recommendation, note in zip(
                children["recommendations"],
                demo_data.rows(children["recommendation_notes"], "text"),
                strict=True,
            )
        ],
    )
    return condition


def load_demo_content() -> None:
    """Create or update the demo conditions, treatments, source and FAQs (idempotent)."""
    structure = demo_data.read(DATA / "structure.yaml")
    common = {
        "reviewer": Practitioner.objects.get(name=PRACTITIONER["name"]),
        "status": {
            "status": Publishable.Status.PUBLISHED,
            "published_at": datetime.combine(structure["published_at"], time(), tzinfo=UTC),
        },
    }

    sources = {}
    texts = demo_data.merged(demo_data.per_language(DATA, "sources"))
    for spec in structure["sources"]:
        values = {key: value for key, value in spec.items() if key != "key"} | texts[spec["key"]]
        existing = Source.objects.filter(title_da=values["title_da"]).first()
        sources[spec["key"]] = _save(Source, existing, values)

    treatments = {}
    texts = demo_data.merged(demo_data.per_language(DATA, "treatments"))
    reviewed = {key: value for key, value in texts.items() if key.startswith("reviewed_on_")}
    for order, spec in enumerate(structure["treatments"], start=1):
        values = (
            {"order": order, "offered_by_clinic": spec.get("offered_by_clinic", False)}
            | texts["treatments"][spec["key"]]
            | reviewed
        )
        values |= common["status"] | _review(values, common["reviewer"])
        existing = Treatment.objects.filter(slug_da=values["slug_da"]).first()
        treatments[spec["key"]] = _save(Treatment, existing, values)

    conditions = {}
    for spec in structure["conditions"]:
        values = demo_data.merged(demo_data.per_language(DATA, spec["file"]), spec)
        conditions[spec["key"]] = _load_condition(values, treatments, sources, common)

    texts = demo_data.merged(demo_data.per_language(DATA, "faq"))
    topics = {}
    for order, key in enumerate(structure["faq_topics"], start=1):
        values = texts["topics"][key] | {"order": order}
        existing = FAQTopic.objects.filter(name_da=values["name_da"]).first()
        topics[key] = _save(FAQTopic, existing, values)

    for order, spec in enumerate(structure["faqs"], start=1):
        values = texts["questions"][spec["key"]] | {
            "topic_id": topics[spec["topic"]].pk,
            "order": order,
            "published": True,
        }
        faq = _save(FAQ, FAQ.objects.filter(question_da=values["question_da"]).first(), values)
        faq.conditions.set([conditions[key] for key in spec.get("conditions", [])])
        faq.treatments.set([treatments[key] for key in spec.get("treatments", [])])
        faq.sources.set([sources[key] for key in spec.get("sources", [])])
