"""The admin site, titled with the clinic's own name."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ClinicAdminSite(admin.AdminSite):
    site_title = _("Clinic administration")
    index_title = _("Website and bookings")

    def each_context(self, request):
        from clinic.models import ClinicDetails

        context = super().each_context(request)
        clinic = ClinicDetails.load()
        context["site_header"] = clinic.name if clinic else _("Clinic administration")
        return context
