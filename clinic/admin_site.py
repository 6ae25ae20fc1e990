"""The admin site, titled with the clinic's own name."""

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _


class ClinicAdminSite(admin.AdminSite):
    site_title = _("Clinic administration")
    index_title = _("Website and bookings")
    # The index links to the overview of missing translations.
    index_template = "admin/clinic_index.html"

    def each_context(self, request):
        from clinic.models import ClinicDetails

        context = super().each_context(request)
        clinic = ClinicDetails.load()
        context["site_header"] = clinic.name if clinic else _("Clinic administration")
        return context

    def get_urls(self):
        from booking.admin import worklist_view
        from clinic.translation_status import translation_status_view

        urls = [
            path(
                "booking/worklist/",
                self.admin_view(worklist_view),
                {"admin_site": self},
                name="booking_worklist",
            ),
            path(
                "translations/",
                self.admin_view(translation_status_view),
                {"admin_site": self},
                name="translation_status",
            ),
        ]
        return urls + super().get_urls()
