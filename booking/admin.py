"""Staff side of booking: the list of requests, a booking's page, and the steps on it.

The list hides bookings the patient has not sent yet (drafts) unless asked for, and
shows the pre-treatment checklist compactly. A booking's page shows every answer;
the time, the blood-thinner plan and the status are changed only through the
steps on pages of their own (confirm, blood-thinner plan, cancel) and the list's
actions (completed, did not come), which go through `booking.services`. Every
opening of a booking's page is logged (BookingView). Reception adds a booking for a
patient who phones.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TabbedTranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from booking import services, tasks
from booking.checklist import DONE, MISSING, NEEDS_STAFF, checklist, is_complete
from booking.models import Anticoagulant, AppointmentType, Booking
from booking.uploads import UploadRejected, save_upload
from clinic.models import ConsentText, Practitioner
from clinic.translation_status import ErrorSummaryMixin, TranslationStatusMixin
from conditions.admin import in_every_language

Status = Booking.Status

SYMBOLS = {DONE: "✓", MISSING: "✗", NEEDS_STAFF: "…"}
# Django's own weekday names: translating "Monday" in the project's catalogue
# would also change how every date is written (capitalised in Danish).
WEEKDAYS = [(day, capfirst(WEEKDAY_NAMES[day])) for day in range(5)]


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def booking_checklist(booking: Booking):
    count = getattr(booking, "upload_count", None)
    return checklist(booking, count)


# --- List filters -------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Like a status filter, but "All" leaves out the drafts nobody has sent yet."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset.exclude(status=Status.DRAFT)
        return queryset.filter(status=self.value())

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["query_string"] == changelist.get_query_string(remove=[self.parameter_name]):
                choice["display"] = _("All sent")
            yield choice


class ChecklistFilter(admin.SimpleListFilter):
    title = _("checklist")
    parameter_name = "checklist"

    def lookups(self, request, model_admin):
        return [("incomplete", _("Incomplete")), ("complete", _("Complete"))]

    def queryset(self, request, queryset):
        if self.value() not in ("incomplete", "complete"):
            return queryset
        complete = [
            booking.pk
            for booking in queryset.select_related("appointment_type")
            if is_complete(booking_checklist(booking))
        ]
        if self.value() == "complete":
            return queryset.filter(pk__in=complete)
        return queryset.exclude(pk__in=complete)


class ImagingNotReviewedFilter(admin.SimpleListFilter):
    title = _("images reviewed")
    parameter_name = "imaging_review"

    def lookups(self, request, model_admin):
        return [("waiting", _("Not yet reviewed"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(imaging_reviewed=False).exclude(
                appointment_type__imaging=AppointmentType.Imaging.NOT_NEEDED
            )
        return queryset


PATIENT = ["name", "email", "phone", "birth_date", "language", "message"]
WHAT = ["appointment_type", "condition", "painful_area"]
WHEN = ["earliest_date", "latest_date", "weekdays", "time_of_day", "time_wishes"]
IMAGING = ["imaging_status", "scan_date", "scan_body_area", "scan_modality"]
BLOOD_THINNERS = ["takes_blood_thinners", "anticoagulants", "other_medicine"]
COMPANION = ["companion_confirmed", "companion_name", "companion_phone"]
# --- Forms --------------------------------------------------------------------------


class BookingForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The days the patient can come; none ticked means any day."),
    )

    class Meta:
        model = Booking
        fields = [*PATIENT, *WHAT, *WHEN, *IMAGING, *BLOOD_THINNERS, *COMPANION]
        widgets = {"anticoagulants": forms.CheckboxSelectMultiple}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ChangeBookingForm(BookingForm):
    """A booking's page: staff may add files, e.g. from a radiology CD."""

    new_files = MultipleFileField(
        label=_("Add files"),
        required=False,
        widget=MultipleFileInput,
        help_text=_(
            "Images or reports the patient brought or the radiology department sent: "
            "DICOM files, a zipped CD, JPEG, PNG or HEIC photos, or PDF reports."
        ),
    )


class PhoneBookingForm(BookingForm):
    """A booking made by reception while the patient is on the phone."""

    consent_by_phone = forms.BooleanField(
        label=_("The patient agreed on the phone"),
        required=False,
        help_text=_(
            "Tick when you have read the consent text to the patient and they agreed. "
            "It is recorded against the current version of the text."
        ),
    )


class ConfirmForm(forms.Form):
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"), queryset=Practitioner.objects.active(), empty_label=None
    )
    starts_at = forms.SplitDateTimeField(
        label=_("Starts"),
        widget=AdminSplitDateTime,
        help_text=_("The date and time the appointment starts."),
    )


class PlanForm(forms.Form):
    last_dose_date = forms.DateField(
        label=_("Last day to take it"), widget=AdminDateWidget, required=True
    )
    restart_date = forms.DateField(
        label=_("Day to start again"), widget=AdminDateWidget, required=True
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text=_("Kept for the staff; the patient's e-mail does not include it."),
        error_messages={"required": _("Write why the booking is cancelled.")},
    )


# --- Bookings -----------------------------------------------------------------------

CHANGE_ONLY = [
    "reference",
    "status",
    "submitted_at",
    "created_at",
    "practitioner",
    "starts_at",
    "ends_at",
    "cancel_reason",
    "checklist_summary",
    "imaging_reviewed",
    "uploads_list",
    "plan_summary",
    "consent_given_at",
    "consent_text",
    "consent_wording",
]


@admin.register(Booking)
class BookingAdmin(ErrorSummaryMixin, SimpleHistoryAdmin):
    form = BookingForm
    change_form_template = "admin/booking/booking/change_form.html"
    list_display = [
        "reference",
        "name",
        "appointment_type",
        "status",
        "starts_at",
        "practitioner",
        "checklist_column",
        "created_at",
    ]
    list_filter = [
        StatusFilter,
        "appointment_type",
        ("starts_at", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
        ChecklistFilter,
        ImagingNotReviewedFilter,
    ]
    search_fields = ["reference", "name", "email", "phone"]
    list_select_related = ["appointment_type", "practitioner"]
    actions = ["mark_completed", "mark_no_show"]
    history_list_display = ["status", "starts_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("appointment_type", "practitioner")
            .annotate(upload_count=Count("uploads"))
        )

    def has_delete_permission(self, request, obj=None):
        # A booking is cancelled, never deleted: its history is the clinic's record.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # --- The form ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = PhoneBookingForm if obj is None else ChangeBookingForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    _("Patient"),
                    {
                        "fields": PATIENT,
                        "description": _(
                            "For a patient who phones. The booking is saved as requested; "
                            "confirm a time on its page afterwards."
                        ),
                    },
                ),
                (_("What"), {"fields": WHAT}),
                (_("When the patient can come"), {"fields": WHEN}),
                (_("X-ray or scan images"), {"fields": IMAGING}),
                (_("Blood-thinning medicine"), {"fields": BLOOD_THINNERS}),
                (_("Someone to drive the patient home"), {"fields": COMPANION}),
                (
                    _("Consent to process health data"),
                    {"fields": ["consent_by_phone"], "description": self.consent_help()},
                ),
            ]
        return [
            (
                None,
                {
                    "fields": [
                        "reference",
                        "status",
                        "practitioner",
                        "starts_at",
                        "ends_at",
                        "cancel_reason",
                    ]
                },
            ),
            (_("Checklist"), {"fields": ["checklist_summary"]}),
            (_("Patient"), {"fields": PATIENT}),
            (_("What"), {"fields": WHAT}),
            (_("When the patient can come"), {"fields": WHEN}),
            (
                _("X-ray or scan images"),
                {"fields": [*IMAGING, "imaging_reviewed", "uploads_list", "new_files"]},
            ),
            (_("Blood-thinning medicine"), {"fields": [*BLOOD_THINNERS, "plan_summary"]}),
            (_("Someone to drive the patient home"), {"fields": COMPANION}),
            (
                _("Consent to process health data"),
                {
                    "fields": ["consent_given_at", "consent_text", "consent_wording"],
                    "description": _("The consent record as it was given. It cannot be changed."),
                },
            ),
            (_("Record"), {"fields": ["created_at", "submitted_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return CHANGE_ONLY if obj is not None else []

    def consent_help(self):
        current = ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA)
        if current is None:
            return _("There is no consent text yet.")
        return format_html("{}: “{}”", _("The current text"), current.text)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.status = Status.REQUESTED
            obj.submitted_at = timezone.now()
            if form.cleaned_data.get("consent_by_phone"):
                obj.consent_text = ConsentText.objects.current(ConsentText.Kind.HEALTH_DATA)
                obj.consent_given_at = timezone.now() if obj.consent_text else None
        super().save_model(request, obj, form, change)
        if change:
            self.save_new_files(request, obj, form.cleaned_data.get("new_files") or [])
        if not change:
            if obj.consent_text:
                obj.consent_text.mark_shown()
            if obj.email:
                # The patient gets the private link, to send images and see the checklist.
                tasks.send_booking_message(booking=obj, kind="received")

    def save_new_files(self, request, booking, files):

        saved = 0
        for uploaded_file in files:
            try:
                save_upload(booking=booking, uploaded_file=uploaded_file, user=request.user)
            except UploadRejected as rejected:
                messages.error(request, rejected.message)
            else:
                saved += 1
        if saved:
            messages.success(
                request,
                ngettext("%(count)d file added.", "%(count)d files added.", saved)
                % {"count": saved},
            )

    # --- Read-only parts of the page ---

    @admin.display(description=_("checklist"))
    def checklist_column(self, obj):
        items = booking_checklist(obj)
        if not items:
            return format_html(
                '<span aria-hidden="true">–</span><span class="visually-hidden">{}</span>',
                _("Nothing to prepare"),
            )
        return format_html_join(
            " ",
            '<span class="checklist-{}" title="{}: {}"><span aria-hidden="true">{}</span>'
            '<span class="visually-hidden">{}: {}.</span></span>',
            (
                (
                    item.state,
                    item.title,
                    item.state_label,
                    SYMBOLS[item.state],
                    item.title,
                    item.state_label,
                )
                for item in items
            ),
        )

    @admin.display(description=_("checklist"))
    def checklist_summary(self, obj):
        items = booking_checklist(obj)
        if not items:
            return _("Nothing to prepare for this appointment type.")
        return format_html(
            "<ul class='booking-checklist'>{}</ul>",
            format_html_join(
                "",
                "<li><span aria-hidden='true'>{}</span> <strong>{}: {}</strong>. {}{}</li>",
                (
                    (
                        SYMBOLS[item.state],
                        item.title,
                        item.state_label,
                        item.detail,
                        format_html(" <em>{}</em>", item.warning) if item.warning else "",
                    )
                    for item in items
                ),
            ),
        )

    @admin.display(description=_("uploaded files"))
    def uploads_list(self, obj):
        uploads = list(obj.uploads.all())
        if not uploads:
            return _("No files.")
        return format_html(
            "<ul class='booking-uploads'>{}</ul>",
            format_html_join(
                "",
                "<li>{} ({}, {} kB, {})</li>",
                (
                    (
                        upload.original_name,
                        upload.get_kind_display(),
                        max(1, round(upload.size / 1024)),
                        timezone.localtime(upload.uploaded_at).strftime("%Y-%m-%d %H:%M"),
                    )
                    for upload in uploads
                ),
            ),
        )

    @admin.display(description=_("blood-thinner plan"))
    def plan_summary(self, obj):
        if not obj.last_dose_date:
            return _("No plan yet.")
        agreed = (
            format_html(
                "{} {} ({})",
                _("Agreed by"),
                obj.plan_agreed_by or "-",
                timezone.localtime(obj.plan_agreed_at).strftime("%Y-%m-%d %H:%M"),
            )
            if obj.plan_agreed
            else _("Not agreed yet: a doctor must agree it.")
        )
        return format_html(
            "{}: {}. {}: {}. {}",
            _("Last day to take it"),
            obj.last_dose_date.isoformat(),
            _("Day to start again"),
            obj.restart_date.isoformat() if obj.restart_date else "-",
            agreed,
        )

    @admin.display(description=_("words agreed to"))
    def consent_wording(self, obj):
        consent = obj.consent_text
        if consent is None:
            return "-"
        return getattr(consent, f"text_{obj.language}", None) or consent.text_da

    # --- Opening a booking is logged ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            booking = self.get_object(request, unquote(object_id))
            if booking is not None:
                services.record_staff_view(
                    booking=booking, user=request.user, ip_address=client_ip(request)
                )
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_change_booking"] = self.has_change_permission(request, obj)
            context["can_confirm"] = obj.status in (Status.REQUESTED, Status.CONFIRMED)
            context["asks_about_blood_thinners"] = obj.appointment_type.asks_about_blood_thinners
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Pages of their own: confirm, plan, cancel ---

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name=f"{app}_{model}_confirm",
            ),
            path(
                "<path:object_id>/blood-thinner-plan/",
                self.admin_site.admin_view(self.plan_view),
                name=f"{app}_{model}_plan",
            ),
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name=f"{app}_{model}_cancel",
            ),
            *super().get_urls(),
        ]

    def _booking_for_change(self, request, object_id) -> Booking:
        booking = self.get_object(request, unquote(object_id))
        if booking is None:
            raise Http404
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        return booking

    def _change_url(self, booking):
        return reverse("admin:booking_booking_change", args=[booking.pk])

    def _render_step(self, request, booking, template, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "original": booking,
            "booking": booking,
            "change_url": self._change_url(booking),
            **context,
        }
        if "form" in context:
            context["media"] = self.media + context["form"].media
        request.current_app = self.admin_site.name
        return TemplateResponse(request, f"admin/booking/booking/{template}", context)

    def _fail(self, form, error: ValidationError):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)

    def confirm_view(self, request, object_id):
        booking = self._booking_for_change(request, object_id)
        initial = {"practitioner": booking.practitioner_id, "starts_at": booking.starts_at}
        form = ConfirmForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.confirm_booking(
                    booking=booking,
                    practitioner=form.cleaned_data["practitioner"],
                    starts_at=form.cleaned_data["starts_at"],
                    user=request.user,
                )
            except ValidationError as error:
                self._fail(form, error)
            else:
                messages.success(
                    request,
                    _("Booking %(reference)s is confirmed for %(when)s with %(practitioner)s.")
                    % {
                        "reference": booking.reference,
                        "when": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
                        "practitioner": booking.practitioner,
                    },
                )
                return HttpResponseRedirect(self._change_url(booking))
        return self._render_step(
            request,
            booking,
            "confirm.html",
            _("Confirm a time for %(reference)s") % {"reference": booking.reference},
            form=form,
            weekday_names=[str(name) for day, name in WEEKDAYS if day in (booking.weekdays or [])],
        )

    def plan_view(self, request, object_id):
        booking = self._booking_for_change(request, object_id)
        can_agree = request.user.has_perm(services.AGREE_PERMISSION)
        suggested_last, suggested_restart = services.suggested_plan(booking)
        initial = {
            "last_dose_date": booking.last_dose_date or suggested_last,
            "restart_date": booking.restart_date or suggested_restart,
        }
        form = PlanForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            agree = "_agree" in request.POST
            if agree and not can_agree:
                raise PermissionDenied
            step = (
                services.agree_anticoagulant_plan if agree else services.prepare_anticoagulant_plan
            )
            try:
                step(booking=booking, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                self._fail(form, error)
            else:
                messages.success(
                    request,
                    _("The blood-thinner plan is agreed.")
                    if agree
                    else _("The blood-thinner plan is saved. A doctor must agree it."),
                )
                return HttpResponseRedirect(self._change_url(booking))
        return self._render_step(
            request,
            booking,
            "plan.html",
            _("Blood-thinner plan for %(reference)s") % {"reference": booking.reference},
            form=form,
            can_agree=can_agree,
            medicines=list(booking.anticoagulants.all()),
            appointment_day=services.appointment_day(booking),
            suggested=suggested_last is not None,
        )

    def cancel_view(self, request, object_id):
        booking = self._booking_for_change(request, object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.cancel_booking(
                    booking=booking, reason=form.cleaned_data["reason"], user=request.user
                )
            except ValidationError as error:
                self._fail(form, error)
            else:
                messages.success(
                    request,
                    _("Booking %(reference)s is cancelled.") % {"reference": booking.reference},
                )
                return HttpResponseRedirect(self._change_url(booking))
        return self._render_step(
            request,
            booking,
            "cancel.html",
            _("Cancel %(reference)s") % {"reference": booking.reference},
            form=form,
        )

    # --- Actions in the list ---

    def _after_appointment(self, request, queryset, step, done_message):
        done = 0
        for booking in queryset:
            try:
                step(booking=booking, user=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                done += 1
        if done:
            messages.success(request, done_message(done))

    @admin.action(description=_("Mark as completed"), permissions=["change"])
    def mark_completed(self, request, queryset):
        self._after_appointment(
            request,
            queryset,
            services.mark_completed,
            lambda n: (
                ngettext(
                    "%(count)d booking marked as completed.",
                    "%(count)d bookings marked as completed.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Mark as “did not come”"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        self._after_appointment(
            request,
            queryset,
            services.mark_no_show,
            lambda n: (
                ngettext(
                    "%(count)d booking marked as “did not come”.",
                    "%(count)d bookings marked as “did not come”.",
                    n,
                )
                % {"count": n}
            ),
        )


# --- What can be booked, and the medicine list -----------------------------------------


@admin.register(AppointmentType)
class AppointmentTypeAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    fieldsets = [
        (None, {"fields": ["name", "description", "instructions"]}),
        (
            _("Booking"),
            {"fields": ["duration_minutes", "requestable_online", "order"]},
        ),
        (
            _("Checklist"),
            {
                "fields": ["imaging", "asks_about_blood_thinners", "companion_required"],
                "description": _("What the patient is asked to prepare for this appointment."),
            },
        ),
    ]
    list_display = [
        "name",
        "duration_minutes",
        "requestable_online",
        "imaging",
        "asks_about_blood_thinners",
        "companion_required",
        "order",
    ]
    list_editable = ["order"]
    search_fields = in_every_language("name")


@admin.register(Anticoagulant)
class AnticoagulantAdmin(admin.ModelAdmin):
    fields = ["brand", "substance", "default_pause_days", "active"]
    list_display = ["brand", "substance", "default_pause_days", "active"]
    list_filter = ["active"]
    search_fields = ["brand", "substance"]

    def has_delete_permission(self, request, obj=None):
        # A medicine that patients have named stays: take it out of the list instead.
        if obj is not None and obj.bookings.exists():
            return False
        return super().has_delete_permission(request, obj)


from booking.imaging import admin as imaging_admin  # noqa: E402, F401  (audit and reviews)
