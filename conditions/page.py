"""How a condition's page is put together: the order of its parts, the table of
contents and the numbering of sources. Works on prefetched objects, and reads the
condition's three short lists in one query."""

from dataclasses import dataclass, field

from django.db.models import Value
from django.utils.translation import gettext_lazy as _

from conditions.models import (
    ConditionSection,
    DiagnosisStep,
    RiskFactor,
    Symptom,
    TreatmentRecommendation,
)

Kind = ConditionSection.Kind

# The order of the page, as on the reference page; "treatments" is the block of
# recommendations by phase, placed after "what it is".
PAGE_ORDER = [
    Kind.ABOUT,
    "treatments",
    Kind.PREVALENCE,
    Kind.CAUSES,
    Kind.CHRONIC,
    Kind.DIAGNOSIS,
    Kind.SYMPTOMS,
    Kind.PROGNOSIS,
    Kind.SELF_HELP,
    Kind.OTHER,
]

# Headings for a structured list that has no section of its own kind.
DEFAULT_HEADINGS = {
    Kind.PREVALENCE: _("How common is it?"),
    Kind.CAUSES: _("Causes and risk factors"),
    Kind.DIAGNOSIS: _("How is it diagnosed?"),
    Kind.SYMPTOMS: _("Symptoms"),
}


@dataclass
class Block:
    """One part of the page: a section (or a default heading) with its structured list."""

    kind: str
    anchor: str
    heading: str
    section: ConditionSection | None = None
    figures: list = field(default_factory=list)
    risk_factors: list = field(default_factory=list)
    diagnosis_steps: list = field(default_factory=list)
    symptoms: list = field(default_factory=list)


@dataclass
class Phase:
    code: str
    heading: str
    text: str
    recommendations: list


@dataclass
class ConditionPage:
    blocks: list[Block]
    phases: list[Phase]
    faqs: list
    sources: list  # numbered in order of first mention
    symptoms: list
    risk_factors: list
    treatments: list  # published treatments recommended in any phase, once each
    toc: list[tuple[str, str]]


# The condition's short lists: three tables with the same columns (ConditionListItem).
LIST_MODELS = {"symptoms": Symptom, "risk_factors": RiskFactor, "diagnosis_steps": DiagnosisStep}


def condition_lists(condition) -> dict[str, list]:
    """The condition's symptoms, risk factors and diagnosis steps, in one query.

    One UNION ALL of the three tables, whose columns are the same, instead of a
    query for each; every row becomes an instance of its own model, in its order.
    """
    names = [f.attname for f in Symptom._meta.concrete_fields]
    parts = [
        model.objects.rewrite(False)
        .filter(condition=condition)
        .order_by()
        .annotate(list_name=Value(list_name))
        .values_list(*names, "list_name")
        for list_name, model in LIST_MODELS.items()
    ]
    rows = parts[0].union(*parts[1:], all=True).order_by("order", "id")
    lists: dict[str, list] = {list_name: [] for list_name in LIST_MODELS}
    db = Symptom.objects.db
    for *values, list_name in rows:
        lists[list_name].append(LIST_MODELS[list_name].from_db(db, names, values))
    return lists


def with_source_lists(faqs: list) -> list:
    """Each question gets `source_list`, its (prefetched) sources as a list: the page
    reads them more than once, and each `.sources.all()` makes a new queryset."""
    for faq in faqs:
        faq.source_list = list(faq.sources.all())
    return faqs


def build_condition_page(
    condition, *, include_drafts: bool = False, lists: dict[str, list] | None = None
) -> ConditionPage:
    """The page's parts; `lists` are the short lists when read already (a snapshot's)."""
    sections = list(condition.sections.all())
    figures = list(condition.figures.all())
    lists = lists if lists is not None else condition_lists(condition)
    symptoms = lists["symptoms"]
    risk_factors = lists["risk_factors"]
    steps = lists["diagnosis_steps"]
    faqs = list(condition.faqs.all())
    recommendations = [
        r for r in condition.recommendations.all() if include_drafts or r.treatment.is_public
    ]

    lists = {
        Kind.PREVALENCE: {"figures": figures},
        Kind.CAUSES: {"risk_factors": risk_factors},
        Kind.DIAGNOSIS: {"diagnosis_steps": steps},
        Kind.SYMPTOMS: {"symptoms": symptoms},
    }
    phases = [
        Phase(
            code=phase,
            heading=str(label),
            text=condition.chronic_phase_text if phase == "chronic" else condition.new_phase_text,
            recommendations=[r for r in recommendations if r.phase == phase],
        )
        for phase, label in TreatmentRecommendation.Phase.choices
    ]
    phases = [p for p in phases if p.recommendations or p.text]

    blocks: list[Block] = []
    for kind in PAGE_ORDER:
        if kind == "treatments":
            if phases:
                blocks.append(Block(kind, "treatments", str(_("Treatment"))))
            continue
        of_kind = [s for s in sections if s.kind == kind]
        attached = lists.get(kind, {})
        if not of_kind and any(attached.values()):
            blocks.append(Block(kind, f"part-{kind}", str(DEFAULT_HEADINGS[kind]), **attached))
        for index, section in enumerate(of_kind):
            # The structured list goes with the first section of its kind.
            extra = attached if index == 0 else {}
            blocks.append(Block(kind, section.anchor, section.heading, section, **extra))

    with_source_lists(faqs)
    sources, numbers = [], {}
    mentions = [f.source for f in figures if f.source] + [
        s for faq in faqs for s in faq.source_list
    ]
    for source in mentions:
        if source.pk not in numbers:
            sources.append(source)
            numbers[source.pk] = len(sources)
        source.number = numbers[source.pk]  # for the "[1]" next to each mention

    treatments, seen = [], set()
    for recommendation in recommendations:
        if recommendation.treatment_id not in seen:
            seen.add(recommendation.treatment_id)
            treatments.append(recommendation.treatment)

    toc = [(block.anchor, block.heading) for block in blocks]
    if condition.conclusion:
        toc.append(("summary", str(_("Summary"))))
    if faqs:
        toc.append(("questions", str(_("Questions and answers"))))
    if sources:
        toc.append(("sources", str(_("Sources"))))
    return ConditionPage(
        blocks=blocks,
        phases=phases,
        faqs=faqs,
        sources=sources,
        symptoms=symptoms,
        risk_factors=risk_factors,
        treatments=treatments,
        toc=toc,
    )
