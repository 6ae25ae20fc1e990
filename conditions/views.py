"""Public pages for conditions, treatments and questions."""

from itertools import groupby
from urllib.parse import urlencode

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from booking.before_treatment import (
    published_appointment_type,
    steps_before_treatment,
    steps_heading,
)
from clinic import snapshots
from clinic.context_processors import current_clinic
from clinic.i18n import alternates_for_object, fallback_order, get_by_translated_slug
from clinic.page_cache import cache_public_page
from conditions import seo
from conditions.models import FAQ, Condition, Treatment
from conditions.page import build_condition_page, with_source_lists
from conditions.published import condition_queryset, published_condition
from testimonials.services import condition_testimonials


def wants_preview(request, model) -> bool:
    """Staff who may edit the content can see drafts with ?preview=1."""
    return bool(request.GET.get("preview")) and request.user.has_perm(
        f"{model._meta.app_label}.change_{model._meta.model_name}"
    )


def get_page_object(request, queryset, slug):
    preview = wants_preview(request, queryset.model)
    obj = get_by_translated_slug(queryset if preview else queryset.published(), slug)
    if obj is None:
        raise Http404
    return obj, preview


def base_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def booking_url(condition=None) -> str:
    """The booking's first step, with the condition chosen when the patient came from its page."""
    url = reverse("booking:what")
    return f"{url}?{urlencode({'condition': condition.slug})}" if condition else url


def preparation(request, url: str) -> dict:
    """The steps before treatment, from the appointment type the public pages describe."""
    clinic = current_clinic(request)
    has_phone = bool(clinic and clinic.phone)
    steps = steps_before_treatment(
        published_appointment_type(),
        booking_url=url,
        phone_uri=clinic.phone_uri if has_phone else "",
        phone_display=clinic.phone_display if has_phone else "",
    )
    return {"steps": steps, "steps_heading": steps_heading(steps) if steps else ""}


def with_steps(toc: list[tuple[str, str]], heading: str) -> list[tuple[str, str]]:
    """The table of contents with the steps in their place on the page: before the sources."""
    if not heading:
        return toc
    at = next((n for n, (anchor, _heading) in enumerate(toc) if anchor == "sources"), len(toc))
    return [*toc[:at], ("before-treatment", heading), *toc[at:]]


@require_GET
@cache_public_page
def condition_index(request):
    conditions = Condition.objects.published()
    return render(request, "conditions/condition_index.html", {"conditions": conditions})


@require_GET
@cache_public_page
def condition_detail(request, slug):
    if wants_preview(request, Condition):
        # Staff previewing a draft read the database, not the published snapshot.
        language = translation.get_language()
        queryset = condition_queryset(fallback_order(language))
        condition, preview = get_page_object(request, queryset, slug)
        page = build_condition_page(condition, include_drafts=True)
        testimonials = condition_testimonials(condition)
    else:
        published = published_condition(slug)
        if published is None:
            raise Http404
        condition, preview = published.condition, False
        page = build_condition_page(condition, lists=published.lists)
        testimonials = published.testimonials
    url = request.build_absolute_uri(request.path)
    jsonld = seo.condition_page(condition, page, base_url(request), url, current_clinic(request))
    booking = booking_url(condition)
    before = preparation(request, booking)
    return render(
        request,
        "conditions/condition_detail.html",
        {
            "condition": condition,
            "page": page,
            "preview": preview,
            "alternate_urls": alternates_for_object(condition),
            "jsonld": jsonld,
            "og_type": "article",
            "testimonials": testimonials,
            "booking_url": booking,
            "toc": with_steps(page.toc, before["steps_heading"]),
            **before,
        },
    )


@require_GET
@cache_public_page
def treatment_index(request):
    treatments = Treatment.objects.published()
    return render(request, "conditions/treatment_index.html", {"treatments": treatments})


@require_GET
@cache_public_page
def treatment_detail(request, slug):
    queryset = Treatment.objects.with_review().prefetch_related(
        Prefetch("faqs", queryset=FAQ.objects.published().prefetch_related("sources")),
        Prefetch("conditions", queryset=Condition.objects.published().distinct()),
    )
    treatment, preview = get_page_object(request, queryset, slug)
    faqs = with_source_lists(list(treatment.faqs.all()))
    url = request.build_absolute_uri(request.path)
    jsonld = seo.treatment_page(treatment, base_url(request), url, faqs, current_clinic(request))
    return render(
        request,
        "conditions/treatment_detail.html",
        {
            "treatment": treatment,
            "faqs": faqs,
            "conditions": treatment.conditions.all(),
            "booking_url": booking_url(),
            # Only a treatment the clinic gives has the clinic's own steps before it.
            **(preparation(request, booking_url()) if treatment.offered_by_clinic else {}),
            "preview": preview,
            "alternate_urls": alternates_for_object(treatment),
            "jsonld": jsonld,
            "og_type": "article",
        },
    )


@require_GET
@cache_public_page
def faq_index(request):
    faqs = with_source_lists(snapshots.read(f"faqs:{translation.get_language()}"))
    topics = [(topic, list(items)) for topic, items in groupby(faqs, key=lambda faq: faq.topic)]
    url = request.build_absolute_uri(request.path)
    return render(
        request,
        "conditions/faq_index.html",
        {"topics": topics, "jsonld": [seo.faq_page(faqs, url)] if faqs else None},
    )
