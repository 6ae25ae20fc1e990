"""The published conditions as public pages read them: from snapshots (clinic/snapshots.py)
made right after every content change, one per language.

Per language, because the database orders by translated columns (a condition's name, a
source's title): a snapshot holds exactly what the page's queries return in its language.
What is public at this moment (a condition published from tomorrow, a treatment's
publish time) is decided when the page is asked for, not when the snapshot is made.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone, translation

from clinic import snapshots
from clinic.i18n import fallback_order, site_languages
from conditions.models import FAQ, Condition, KeyFigure, TreatmentRecommendation
from conditions.page import condition_lists
from testimonials.services import condition_testimonials


def condition_queryset(languages=None):
    """Conditions with everything their page shows, prefetched.

    With the reviewing doctors of `languages` (all the site's by default).
    """
    languages = languages or site_languages()
    return Condition.objects.select_related(
        *(f"reviewed_by_{code}" for code in languages)
    ).prefetch_related(
        "sections",
        Prefetch(
            "recommendations",
            queryset=TreatmentRecommendation.objects.select_related("treatment"),
        ),
        Prefetch("figures", queryset=KeyFigure.objects.select_related("source")),
        Prefetch("faqs", queryset=FAQ.objects.published().prefetch_related("sources")),
    )


@dataclass
class PublishedCondition:
    """What a condition's public page reads: the condition with its prefetched parts,
    its three short lists and the testimonials shown on it."""

    condition: Condition
    lists: dict[str, list]
    testimonials: list


def _published_queryset():
    """Published conditions, also those published from a later moment, in the active
    language's order."""
    return Condition.objects.filter(status=Condition.Status.PUBLISHED)


def public_conditions(language: str | None = None) -> list[Condition]:
    """`Condition.objects.published()` in `language`'s order, from the snapshot."""
    now = timezone.now()
    language = language or translation.get_language()
    return [c for c in snapshots.read(f"conditions:{language}") if c.published_at <= now]


def published_condition(slug: str, language: str | None = None) -> PublishedCondition | None:
    """The public condition at `slug` in `language`, from the snapshots; None if none.

    As `get_by_translated_slug`: the slug is the page language's, or the one it falls
    back to, and the first in the language's order wins.
    """
    language = language or translation.get_language()
    order = fallback_order(language)
    for condition in public_conditions(language):
        slugs = (getattr(condition, f"slug_{code}") for code in order)
        if next((s for s in slugs if s), "") == slug:
            return snapshots.read(f"condition:{condition.pk}:{language}")
    return None


def _in_language(language: str):
    if language not in site_languages():
        raise KeyError(language)
    return translation.override(language)


def _faq_list() -> list[FAQ]:
    return list(
        FAQ.objects.published()
        .select_related("topic")
        .prefetch_related("sources")
        .order_by("topic__order", "topic_id", "order", "pk")
    )


@snapshots.register("faqs")
def faqs_snapshot(language: str) -> list[FAQ]:
    """The questions and answers page's questions, by topic, with their sources."""
    with _in_language(language):
        return _faq_list()


@snapshots.register("conditions", build_all=lambda: all_snapshots())
def conditions_snapshot(language: str) -> list[Condition]:
    with _in_language(language):
        return list(_published_queryset())


@snapshots.register("condition")
def condition_snapshot(key: str) -> PublishedCondition | None:
    pk, _colon, language = key.partition(":")
    with _in_language(language):
        condition = condition_queryset().filter(pk=int(pk)).first()
        return None if condition is None else _published(condition)


def _published(condition: Condition) -> PublishedCondition:
    return PublishedCondition(
        condition, condition_lists(condition), condition_testimonials(condition)
    )


def all_snapshots() -> dict:
    """The site language's list of conditions and of questions, and every published
    condition's page in it, in few queries: one set of page queries for all the
    conditions together.

    Only the site language's (settings.LANGUAGE_CODE, which most visitors read): an
    editor's save waits for these, and each language would add as much again. The other
    languages' snapshots are made by their first visitor after a change.
    """
    language = settings.LANGUAGE_CODE
    made = {}
    with translation.override(language):
        made[f"conditions:{language}"] = conditions_snapshot(language)
        made[f"faqs:{language}"] = faqs_snapshot(language)
        for condition in condition_queryset().filter(status=Condition.Status.PUBLISHED):
            made[f"condition:{condition.pk}:{language}"] = _published(condition)
    return made
