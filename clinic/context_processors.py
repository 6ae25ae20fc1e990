"""What every public page needs: the clinic's details and the main navigation."""

from django.db.models import Q
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from clinic import snapshots
from clinic.models import ClinicDetails, Page, Practitioner, TrustMark


@snapshots.register("site", build_all=lambda: {"site": site_snapshot()})
def site_snapshot(_key: str = "") -> dict:
    """The clinic's record and the pages the menu and the footer link to."""
    return {
        "clinic": ClinicDetails.load(),
        # One query serves both the menu and the footer's links to the special pages.
        "linked_pages": list(
            Page.objects.published().filter(Q(in_navigation=True) | ~Q(kind=Page.Kind.OTHER))
        ),
    }


@snapshots.register("team", build_all=lambda: {"team": team_snapshot()})
def team_snapshot(_key: str = "") -> dict:
    """What the home page adds: the active doctors and the clinic's trust marks."""
    return {
        "practitioners": list(Practitioner.objects.active()),
        "trust_marks": list(TrustMark.objects.order_by("clinic_id", "order", "pk")),
    }


def site_data(request) -> dict:
    """The site snapshot, read once per request however often it is used."""
    if not hasattr(request, "_site_snapshot"):
        request._site_snapshot = snapshots.read("site")
    return request._site_snapshot


def current_clinic(request) -> ClinicDetails | None:
    """The clinic's record, read once per request however often it is used."""
    return site_data(request)["clinic"]


OG_LOCALES = {"da": "da_DK", "en": "en_GB", "nb": "nb_NO", "sv": "sv_SE", "de": "de_DE"}


def site(request):
    linked_pages = SimpleLazyObject(lambda: site_data(request)["linked_pages"])
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
