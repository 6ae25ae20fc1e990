"""Read-only admin for the imaging audit (ImagingAccess) and the doctors' verdicts.

Nobody adds, changes or deletes either here: reviews are written by the review page
(booking/imaging/views.py) and access rows by the file view. Who may read them is
set in clinic/staff_groups.py (doctors both; reception the reviews only).
"""

from django.contrib import admin

from booking.models import ImagingAccess, ImagingReview


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(ImagingAccess)
class ImagingAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "file_label", "booking", "ip_address"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["file_label", "user__username", "booking__reference", "ip_address"]
    list_select_related = ["user", "booking"]
    date_hierarchy = "at"


@admin.register(ImagingReview)
class ImagingReviewAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "booking", "verdict", "doctor"]
    list_filter = ["verdict", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["booking__reference"]
    list_select_related = ["booking", "doctor"]
