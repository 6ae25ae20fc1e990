"""Receiving a testimonial from the public form."""

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from modeltranslation.utils import build_localized_fieldname

from clinic import ratelimit, snapshots
from clinic.models import ConsentText
from conditions.models import Condition
from testimonials.models import Testimonial
from testimonials.tasks import notify_staff_of_testimonial


def submit_testimonial(
    *,
    title: str,
    text: str,
    rating: int,
    display_name: str,
    email: str,
    consent_text: ConsentText,
    language: str,
    condition: Condition | None = None,
    treatment_year: int | None = None,
    age: int | None = None,
    site_url: str = "",
) -> Testimonial:
    """Save a patient's testimonial for review and tell the staff about it.

    The testimonial is stored in `language`'s fields as the original, with the
    consent text the patient agreed to and the moment they did. It stays hidden
    until a member of staff approves it. `site_url` ("https://host") makes the
    link in the staff's e-mail absolute.
    """
    testimonial = Testimonial(
        language=language,
        rating=rating,
        display_name=display_name,
        age=age,
        treatment_year=treatment_year,
        email=email,
        status=Testimonial.Status.SUBMITTED,
        origin=Testimonial.Origin.ONLINE,
        consent_given_at=timezone.now(),
        consent_text=consent_text,
    )
    setattr(testimonial, build_localized_fieldname("title", language), title)
    setattr(testimonial, build_localized_fieldname("text", language), text)
    testimonial.full_clean()
    testimonial.save()
    if condition is not None:
        testimonial.conditions.add(condition)
    notify_staff_of_testimonial.enqueue(testimonial.pk, site_url=site_url)
    return testimonial


def allow_submission(address: str) -> bool:
    """Count one submission from `address`; False when it is over the period's limit.

    Counted before saving, in the shared cache (clinic/ratelimit.py), so it holds
    across the web server's processes and simultaneous posts.
    """
    return ratelimit.allow(
        "testimonials",
        address,
        limit=settings.TESTIMONIAL_RATE_LIMIT,
        seconds=settings.TESTIMONIAL_RATE_LIMIT_SECONDS,
    )


# Never in a snapshot: what identifies the patient beyond the name they chose to show.
PRIVATE_FIELDS = ("email", "consent_given_at", "consent_text", "rejection_reason")


@snapshots.register("testimonials", build_all=lambda: {"testimonials": approved_snapshot()})
def approved_snapshot(_key: str = "") -> list[Testimonial]:
    """Every approved testimonial in the public order, with its treatment and
    `condition_pks`: the keys of all its conditions (which are public is decided when
    a page is asked for). One query, a row per condition; the patient's private fields
    are left out."""
    rows = (
        Testimonial.objects.approved()
        .select_related("treatment")
        .defer(*PRIVATE_FIELDS)
        .annotate(condition_pk=F("conditions__pk"))
        .order_by("order", "-created_at", "-pk")
    )
    testimonials: dict[int, Testimonial] = {}
    for row in rows:
        testimonial = testimonials.setdefault(row.pk, row)
        if testimonial is row:
            testimonial.condition_pks = set()
        if row.condition_pk is not None:
            testimonial.condition_pks.add(row.condition_pk)
    return list(testimonials.values())


def with_shown_conditions(testimonials, conditions: list[Condition]) -> list[Testimonial]:
    """Each testimonial (of the snapshot) gets `shown_conditions`: its conditions among
    `conditions` (the public ones, in the page language's order)."""
    for testimonial in testimonials:
        testimonial.shown_conditions = [c for c in conditions if c.pk in testimonial.condition_pks]
    return testimonials


def featured_testimonials(conditions: list[Condition], limit: int = 3) -> list[Testimonial]:
    """The newest featured testimonials for the home page, from the snapshot.

    Each gets `shown_conditions`: its conditions among `conditions` (the published
    ones the page has already loaded).
    """
    featured = [t for t in snapshots.read("testimonials") if t.featured][:limit]
    return with_shown_conditions(featured, conditions)


def condition_testimonials(condition: Condition, limit: int = 3) -> list[Testimonial]:
    """The newest approved testimonials about one condition, in one query."""
    return list(
        Testimonial.objects.approved()
        .filter(conditions=condition)
        .select_related("treatment")
        .defer(*PRIVATE_FIELDS)[:limit]
    )
