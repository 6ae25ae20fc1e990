"""What every public page needs: the clinic's details and the main navigation."""

from django.db.models import Q
from django.utils.functional import SimpleLazyObject

from clinic.models import ClinicDetails, Page


def site(request):
    # One query serves both the menu and the footer's links to the special pages.
    linked_pages = SimpleLazyObject(
        lambda: list(
            Page.objects.published().filter(Q(in_navigation=True) | ~Q(kind=Page.Kind.OTHER))
        )
    )
    return {
        "clinic": SimpleLazyObject(ClinicDetails.load),
        "nav_pages": SimpleLazyObject(lambda: [p for p in linked_pages if p.in_navigation]),
        "special_pages": SimpleLazyObject(
            lambda: {p.kind: p for p in linked_pages if p.kind != Page.Kind.OTHER}
        ),
    }
