"""What every public page needs: the clinic's details and the main navigation."""

from django.db.models import Q
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from clinic.models import ClinicDetails, Page


def current_clinic(request) -> ClinicDetails | None:
    """The clinic's record, read once per request however often it is used."""
    if not hasattr(request, "_clinic"):
        request._clinic = ClinicDetails.load()
    return request._clinic


OG_LOCALES = {"da": "da_DK", "en": "en_GB", "nb": "nb_NO", "sv": "sv_SE", "de": "de_DE"}


def site(request):
    # One query serves both the menu and the footer's links to the special pages.
    linked_pages = SimpleLazyObject(
        lambda: list(
            Page.objects.published().filter(Q(in_navigation=True) | ~Q(kind=Page.Kind.OTHER))
        )
    )
    match = getattr(request, "resolver_match", None)
    return {
        "clinic": SimpleLazyObject(lambda: current_clinic(request)),
        # Inside the booking flow (its steps, the thanks page, the patient's private page)
        # the header's booking button would only lead back to the start.
        "in_booking_flow": bool(match and match.namespace == "booking"),
        "canonical_url": request.build_absolute_uri(request.path),
        "og_locale": OG_LOCALES.get(get_language(), "da_DK"),
        "nav_pages": SimpleLazyObject(lambda: [p for p in linked_pages if p.in_navigation]),
        "special_pages": SimpleLazyObject(
            lambda: {p.kind: p for p in linked_pages if p.kind != Page.Kind.OTHER}
        ),
    }
