"""What every public page needs: the clinic's details and the main navigation."""

from django.utils.functional import SimpleLazyObject

from clinic.models import ClinicDetails, Page


def site(request):
    def navigation():
        return list(Page.objects.published().filter(in_navigation=True))

    def special_pages():
        return {page.kind: page for page in Page.objects.published().exclude(kind="other")}

    return {
        "clinic": SimpleLazyObject(ClinicDetails.load),
        "nav_pages": SimpleLazyObject(navigation),
        "special_pages": SimpleLazyObject(special_pages),
    }
