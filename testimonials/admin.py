"""Moderating patients' testimonials.

Staff approve, reject (with a reason, asked for on a page of its own) or withdraw
testimonials from the list, and put them in order by drag and drop. A
testimonial's consent record is read-only once it exists; staff who type in a
testimonial from a letter give the date of the consent and the consent text. The
patient's e-mail address exists in the admin only for staff with the
`view_testimonial_email` permission: for others it is left out of the list, the
form, the search and the filters.

Testimonials are written in any language and a translation is optional, so the
"missing translation" columns of the content admin (which take Danish as the
original) are not used here, and the overview of missing translations skips them.
"""

from datetime import time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.constants import LOOKUP_SEP
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TabbedTranslationAdmin

from clinic import page_cache
from clinic.admin_sortable import SortableAdminMixin
from clinic.models import ConsentText
from clinic.translation_status import ErrorSummaryMixin
from conditions.admin import in_every_language
from testimonials.models import Testimonial

EMAIL_PERMISSION = "testimonials.view_testimonial_email"
Status = Testimonial.Status

# Shown only when the testimonial exists: the consent record as it was received.
CONSENT_RECORD = ["consent_given_at", "consent_text", "consent_wording", "origin", "created_at"]
ONLY_ON_CHANGE = {"consent_wording", "origin", "created_at"}
ADD_CONSENT_HELP = _(
    "For a testimonial from a letter: the date the patient gave consent (the date on the "
    "letter) and the consent text they agreed to. The consent record cannot be changed "
    "afterwards."
)
CHANGE_CONSENT_HELP = _(
    "The consent record as it was received. It cannot be changed; if the patient takes "
    "back their consent, withdraw the testimonial."
)


# --- Forms ------------------------------------------------------------------------


class ConsentDateField(forms.SplitDateTimeField):
    """The moment consent was given; a letter has a date but no time, so the time may
    be left empty (midnight). Never in the future."""

    def clean(self, value):
        if isinstance(value, list | tuple) and len(value) == 2 and value[0] and not value[1]:
            value = [value[0], time(0, 0)]
        moment = super().clean(value)
        if moment and moment > timezone.now():
            raise ValidationError(_("The date of consent cannot be in the future."))
        return moment


class DateWithOptionalTime(AdminSplitDateTime):
    """The admin's date and time inputs; only the date is required."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        time_input = context["widget"]["subwidgets"][1]
        time_input["attrs"] = {k: v for k, v in time_input["attrs"].items() if k != "required"}
        return context


class ConsentTextChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}: {Truncator(obj.text).chars(90)}"


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text=_("Kept for the staff; the patient's text is not shown on the site."),
        error_messages={"required": _("Write why the testimonials are rejected.")},
    )


# --- Keeping the drag-and-drop order usable -----------------------------------------


def number_in_order() -> None:
    """Give every testimonial a place of its own (1, 2, 3, ...), in the order shown.

    Testimonials sent from the site start at place 0, so several may share it; the
    drag and drop needs a distinct place per row. The order they are shown in does
    not change.
    """
    counts = Testimonial.objects.aggregate(rows=Count("pk"), places=Count("order", distinct=True))
    if counts["rows"] == counts["places"]:
        return
    with transaction.atomic():
        testimonials = list(
            Testimonial.objects.select_for_update()
            .order_by("order", "-created_at", "-pk")
            .only("pk", "order")
        )
        moved = []
        for place, testimonial in enumerate(testimonials, start=1):
            if testimonial.order != place:
                testimonial.order = place
                moved.append(testimonial)
        Testimonial.objects.bulk_update(moved, ["order"])
    page_cache.invalidate()


# --- The admin --------------------------------------------------------------------


@admin.register(Testimonial)
class TestimonialAdmin(SortableAdminMixin, ErrorSummaryMixin, TabbedTranslationAdmin):
    fieldsets = [
        (
            None,
            {
                "fields": ["language", "title", "text"],
                "description": _(
                    "The patient's own words are in the tab of the language they wrote in. "
                    "A translation in another tab is optional; without one, the site shows "
                    "the original with the language it is written in."
                ),
            },
        ),
        (_("Patient"), {"fields": ["display_name", "age", "email"]}),
        (_("Treatment"), {"fields": ["rating", "conditions", "treatment", "treatment_year"]}),
        (
            _("Moderation"),
            {
                "fields": ["status", "rejection_reason", "featured"],
                "description": _(
                    "Reject a testimonial only for privacy, abuse or off-topic text. "
                    "A low rating is never a reason to reject it."
                ),
            },
        ),
        (
            _("Consent to publish"),
            {
                "fields": CONSENT_RECORD,
                "description": ADD_CONSENT_HELP,
            },
        ),
    ]
    list_display = [
        "original_title",
        "display_name",
        "rating",
        "language",
        "status",
        "featured",
        "created_at",
    ]
    list_filter = ["status", "language", "rating", "featured", "origin", "conditions"]
    search_fields = ["display_name", *in_every_language("title", "text")]
    autocomplete_fields = ["conditions", "treatment"]
    actions = ["approve", "reject", "withdraw"]

    # --- The e-mail address: only with the permission ---

    def can_see_email(self, request) -> bool:
        return request.user.has_perm(EMAIL_PERMISSION)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.can_see_email(request):
            columns.insert(columns.index("display_name") + 1, "email")
        return columns

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        return [*fields, "email"] if self.can_see_email(request) else fields

    def lookup_allowed(self, lookup, value, request):
        # A filter in the address (?email__startswith=a) would reveal the address.
        if lookup.split(LOOKUP_SEP)[0] == "email" and not self.can_see_email(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not self.can_see_email(request):
            exclude.append("email")
        return exclude

    def get_fieldsets(self, request, obj=None):
        hidden = set() if obj is not None else set(ONLY_ON_CHANGE)
        if not self.can_see_email(request):
            hidden.add("email")
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = [field for field in options["fields"] if field not in hidden]
            if fields:
                options = {**options, "fields": fields}
                if obj is not None and options.get("description") is ADD_CONSENT_HELP:
                    options["description"] = CHANGE_CONSENT_HELP
                fieldsets.append((name, options))
        return fieldsets

    # --- The consent record: given when added, read-only afterwards ---

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += CONSENT_RECORD
        return readonly

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "consent_given_at":
            return ConsentDateField(
                label=capfirst(db_field.verbose_name),
                help_text=_(
                    "When the patient agreed to publication. For a letter: the date on it "
                    "(the time may be left empty)."
                ),
                widget=DateWithOptionalTime,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consent_text":
            kwargs["queryset"] = ConsentText.objects.filter(kind=ConsentText.Kind.TESTIMONIAL)
            kwargs["form_class"] = ConsentTextChoiceField
            current = ConsentText.objects.current(ConsentText.Kind.TESTIMONIAL)
            if current is not None:
                kwargs["initial"] = current.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("words agreed to"))
    def consent_wording(self, obj):
        consent = obj.consent_text
        return getattr(consent, f"text_{obj.language}", None) or consent.text_da

    def save_model(self, request, obj, form, change):
        if not change:
            # Added by hand, e.g. from a letter; online testimonials come from the form.
            obj.origin = Testimonial.Origin.STAFF
        super().save_model(request, obj, form, change)
        if not change:
            # Consent is now recorded against this version: its words may never change.
            obj.consent_text.mark_shown()

    # --- The list ---

    @admin.display(description=_("title"))
    def original_title(self, obj):
        """The title in the language the patient wrote in, or the start of the text."""
        return obj.original("title") or Truncator(obj.original("text")).chars(60) or "-"

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and self.has_change_permission(request):
            number_in_order()
        return super().changelist_view(request, extra_context)

    def _update_order(self, updated_items, extra_model_filters):
        """Save an order made by drag and drop, and show it on the site at once.

        The browser numbers the rows it moved from the first one's place; in a
        filtered list other testimonials sit between them. So the moved rows take
        the places they held between them, in their new sequence: the testimonials
        not in view keep theirs.
        """
        sequence = [int(pk) for pk, _order in sorted(updated_items, key=lambda item: item[1])]
        with transaction.atomic():
            rows = {
                t.pk: t
                for t in Testimonial.objects.select_for_update().filter(
                    pk__in=sequence, **extra_model_filters
                )
            }
            sequence = [pk for pk in sequence if pk in rows]
            places = sorted(rows[pk].order for pk in sequence)
            for pk, place in zip(sequence, places, strict=True):
                rows[pk].order = place
            # (clinic.admin_sortable renews the page cache after this.)
        return Testimonial.objects.bulk_update(rows.values(), ["order"])

    def translation_status_queryset(self, request):
        """Not in the overview of missing translations: a translation is optional."""
        return Testimonial.objects.none()

    # --- Actions: each testimonial is saved, so the page cache is renewed ---

    def _log(self, request, testimonial, fields):
        names = [str(capfirst(Testimonial._meta.get_field(name).verbose_name)) for name in fields]
        self.log_change(request, testimonial, [{"changed": {"fields": names}}])

    @admin.action(description=_("Approve: show on the site"), permissions=["change"])
    def approve(self, request, queryset):
        approved = 0
        for testimonial in queryset:
            if testimonial.status == Status.APPROVED:
                continue
            if testimonial.status == Status.WITHDRAWN:
                messages.warning(
                    request,
                    _(
                        "“%(testimonial)s” was withdrawn at the patient's request and is not "
                        "approved. If the patient agrees again, change its status on its page."
                    )
                    % {"testimonial": testimonial},
                )
                continue
            testimonial.status = Status.APPROVED
            try:
                testimonial.full_clean()
            except ValidationError as error:
                messages.error(
                    request,
                    _("“%(testimonial)s” is not approved: %(errors)s")
                    % {"testimonial": testimonial, "errors": " ".join(error.messages)},
                )
                continue
            testimonial.save(update_fields=["status", "updated_at"])
            self._log(request, testimonial, ["status"])
            approved += 1
        if approved:
            messages.success(
                request,
                ngettext(
                    "%(count)d testimonial approved: it is on the site now.",
                    "%(count)d testimonials approved: they are on the site now.",
                    approved,
                )
                % {"count": approved},
            )

    @admin.action(description=_("Reject (asks for the reason)"), permissions=["change"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "post" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            rejected = 0
            for testimonial in queryset:
                if testimonial.status == Status.WITHDRAWN:
                    continue  # already off the site, at the patient's request
                testimonial.status = Status.REJECTED
                testimonial.rejection_reason = reason
                testimonial.save(update_fields=["status", "rejection_reason", "updated_at"])
                self._log(request, testimonial, ["status", "rejection_reason"])
                rejected += 1
            messages.success(
                request,
                ngettext(
                    "%(count)d testimonial rejected.",
                    "%(count)d testimonials rejected.",
                    rejected,
                )
                % {"count": rejected},
            )
            return None  # back to the list
        if form.is_bound:
            messages.error(request, _("Nothing was rejected: write the reason first."))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject testimonials"),
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/testimonials/testimonial/reject.html", context)

    @admin.action(
        description=_("Withdraw: remove from the site at once (the patient asked)"),
        permissions=["change"],
    )
    def withdraw(self, request, queryset):
        withdrawn = 0
        for testimonial in queryset:
            if testimonial.status == Status.WITHDRAWN:
                continue
            testimonial.status = Status.WITHDRAWN
            testimonial.save(update_fields=["status", "updated_at"])
            self._log(request, testimonial, ["status"])
            withdrawn += 1
        messages.success(
            request,
            ngettext(
                "%(count)d testimonial withdrawn: it is no longer on the site.",
                "%(count)d testimonials withdrawn: they are no longer on the site.",
                withdrawn,
            )
            % {"count": withdrawn},
        )
