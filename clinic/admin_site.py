"""The admin site, titled with the clinic's own name.

Staff who must use two factors (clinic/two_factor.py) reach it only with a
verified session: the login asks for the password, then for a code (or sends
them to enrolment), and a password-only session is sent back to that step.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from clinic import two_factor
from clinic.security import start_staff_session


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

    def has_permission(self, request):
        return super().has_permission(request) and not two_factor.second_factor_missing(request)

    def login(self, request, extra_context=None):
        """The password step; then the second factor, then `next` (or the index)."""
        if request.method == "GET" and self._owes_second_factor(request):
            next_url = two_factor.safe_next_url(request)
            return HttpResponseRedirect(two_factor.next_step_url(request, next_url))
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            # The password was right (Django has cycled the session's key): the
            # session now ends with the browser or when idle, and a refused or
            # missing ?next= leads to the admin's index, never to a 404.
            start_staff_session(request)
            next_url = two_factor.safe_next_url(request)
            return HttpResponseRedirect(two_factor.next_step_url(request, next_url))
        return response

    @staticmethod
    def _owes_second_factor(request) -> bool:
        user = request.user
        return (
            user.is_authenticated
            and user.is_active
            and user.is_staff
            and two_factor.second_factor_missing(request)
        )

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
            # Reachable with the password alone: the second step of the login.
            path(
                "two-factor/code/",
                two_factor.verify_view,
                {"admin_site": self},
                name="two_factor_verify",
            ),
            path(
                "two-factor/set-up/",
                two_factor.enrol_view,
                {"admin_site": self},
                name="two_factor_enrol",
            ),
            path(
                "two-factor/backup-codes/",
                two_factor.backup_codes_view,
                {"admin_site": self},
                name="two_factor_backup_codes",
            ),
        ]
        return urls + super().get_urls()
