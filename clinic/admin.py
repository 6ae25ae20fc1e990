"""Admin for the clinic's details, practitioners, pages and consent texts."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin, TranslationStackedInline

from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark
from clinic.translation_status import ErrorSummaryMixin, TranslationStatusMixin


class TrustMarkInline(TranslationStackedInline):
    model = TrustMark
    extra = 0


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(ErrorSummaryMixin, TabbedTranslationAdmin):
    """One record: the list page goes straight to it."""

    inlines = [TrustMarkInline]
    fieldsets = [
        (None, {"fields": ["name", "tagline", "introduction"]}),
        (
            _("Contact"),
            {
                "fields": [
                    "phone",
                    "email",
                    "street_address",
                    "postal_code",
                    "city",
                    "country",
                    "opening_hours",
                    "cvr_number",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClinicDetails.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        clinic = ClinicDetails.load()
        if clinic is None:
            return redirect(reverse("admin:clinic_clinicdetails_add"))
        return redirect(reverse("admin:clinic_clinicdetails_change", args=[clinic.pk]))


class PractitionerForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("languages spoken"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The languages patients can speak with this practitioner."),
    )

    class Meta:
        model = Practitioner
        fields = "__all__"  # noqa: DJ007 - every translated field, like the admin's own form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = [(code, name) for code, name in settings.LANGUAGES]


@admin.register(Practitioner)
class PractitionerAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    form = PractitionerForm
    list_display = ["name", "title", "treating_since", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(Page)
class PageAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    list_display = ["title", "kind", "published", "in_navigation", "order", "updated_at"]
    list_filter = ["kind", "published"]
    list_editable = ["published", "in_navigation", "order"]
    search_fields = ["title"]
    view_on_site = True


@admin.register(ConsentText)
class ConsentTextAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    list_display = ["__str__", "kind", "version", "created_at", "first_shown_at"]
    list_filter = ["kind"]
    readonly_fields = ["version", "created_at", "first_shown_at"]
    actions = ["make_new_version"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.locked:
            # Consent was given against these exact words: they can no longer change.
            return [f.name for f in obj._meta.fields if f.name != "id"]
        return self.readonly_fields

    def translation_status_queryset(self, request):
        """The overview of missing translations checks only the version in use."""
        latest = (
            ConsentText.objects.filter(kind=OuterRef("kind")).order_by("-version").values("pk")[:1]
        )
        return self.get_queryset(request).filter(pk=Subquery(latest))

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.locked:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Make a new version to edit"), permissions=["add"])
    def make_new_version(self, request, queryset):
        for consent in queryset:
            copy = consent.new_version()
            messages.success(
                request,
                _("Made %(consent)s. Edit it; patients see it from now on.") % {"consent": copy},
            )
