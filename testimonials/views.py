"""Public pages for patients' testimonials: the list, the form and the thank-you page."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clinic import snapshots
from clinic.client import client_address
from clinic.models import ConsentText
from clinic.page_cache import cache_public_page
from conditions.models import Condition
from conditions.published import public_conditions
from testimonials.forms import TestimonialForm
from testimonials.services import allow_submission, submit_testimonial, with_shown_conditions

PER_PAGE = 10


def selected_condition(request, conditions: list[Condition]) -> Condition | None:
    value = request.GET.get("condition", "")
    if not value.isdigit():
        return None
    return next((c for c in conditions if c.pk == int(value)), None)


@require_GET
@cache_public_page
def testimonial_index(request):
    conditions = public_conditions()
    condition = selected_condition(request, conditions)
    testimonials = snapshots.read("testimonials")
    if condition:
        testimonials = [t for t in testimonials if condition.pk in t.condition_pks]
    average = sum(t.rating for t in testimonials) / len(testimonials) if testimonials else None
    page = Paginator(testimonials, PER_PAGE).get_page(request.GET.get("page"))
    with_shown_conditions(page.object_list, conditions)
    return render(
        request,
        "testimonials/testimonial_index.html",
        {
            "page_obj": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_ends=1),
            "testimonials": page.object_list,
            "conditions": conditions,
            "selected_condition": condition,
            "count": len(testimonials),
            "average": average,
            "average_stars": round(average) if average else 0,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request):
    """The form. Never page-cached: it carries a CSRF token."""
    consent_text = ConsentText.objects.current(ConsentText.Kind.TESTIMONIAL)
    if consent_text is None:
        return render(request, "testimonials/submit.html", {"form": None})
    rate_limited = False
    if request.method == "POST":
        form = TestimonialForm(request.POST, consent_text=consent_text)
        if form.is_spam:
            # A robot filled in the hidden field: pretend all went well.
            return redirect("testimonials:thanks")
        if form.is_valid():
            if allow_submission(client_address(request)):
                data = form.cleaned_data
                submit_testimonial(
                    title=data["title"],
                    text=data["text"],
                    rating=data["rating"],
                    condition=data["condition"],
                    treatment_year=data["treatment_year"],
                    display_name=data["display_name"],
                    age=data["age"],
                    email=data["email"],
                    consent_text=consent_text,
                    language=translation.get_language(),
                    site_url=f"{request.scheme}://{request.get_host()}",
                )
                return redirect("testimonials:thanks")
            rate_limited = True
    else:
        form = TestimonialForm(consent_text=consent_text)
    # The consent text is in front of the patient now: lock this version.
    consent_text.mark_shown()
    return render(
        request,
        "testimonials/submit.html",
        {"form": form, "rate_limited": rate_limited},
        status=429 if rate_limited else 200,
    )


@require_GET
@cache_public_page
def thanks(request):
    return render(request, "testimonials/thanks.html")
