"""Staff side of booking: the list of requests, a booking's page, and the steps on it.

The list hides bookings the patient has not sent yet (drafts) unless asked for, and
shows the pre-treatment checklist compactly. A booking's page shows every answer;
the time, the blood-thinner plan and the status are changed only through the
steps on pages of their own (confirm, blood-thinner plan, cancel) and the list's
actions (completed, did not come), which go through `booking.services`. Every
opening of a booking's page is logged (BookingView). Reception adds a booking for a
patient who phones.

A booking's page also lists the messages planned for the patient, with "send again"
for one that failed; the messages and the phone calls that replace them have
read-only lists of their own, and the work list (booking/worklist.py) gathers what
needs a person, by role.

Working hours and absences are edited here too; saving them warns about the
confirmed or tentative bookings that no longer fit (outside every working hours, or
inside an absence), so reception can move them.
"""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import (
    Http404,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TabbedTranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from booking import data_rights, outbox, planner, scheduling, services, tasks, worklist
from booking.checklist import DONE, MISSING, NEEDS_STAFF, checklist, is_complete
from booking.models import (
    Absence,
    Anticoagulant,
    AppointmentType,
    Booking,
    PhoneTask,
    PlanLine,
    PlannedMessage,
    WorkingHours,
)
from booking.models.audit import DataRightsRecord
from booking.uploads import UploadRejected, save_upload
from clinic.client import client_address
from clinic.forms import PhoneField, PhoneInput
from clinic.models import ConsentText, Practitioner, validate_plain_text
from clinic.translation_status import ErrorSummaryMixin, TranslationStatusMixin
from conditions.admin import in_every_language

Status = Booking.Status

SYMBOLS = {DONE: "✓", MISSING: "✗", NEEDS_STAFF: "…"}
# Django's own weekday names: translating "Monday" in the project's catalogue
# would also change how every date is written (capitalised in Danish).
WEEKDAYS = [(day, capfirst(WEEKDAY_NAMES[day])) for day in range(5)]


def client_ip(request) -> str | None:
    return client_address(request) or None


def booking_checklist(booking: Booking):
    count = getattr(booking, "upload_count", None)
    return checklist(booking, count)


def lowerfirst(text) -> str:
    return str(text)[:1].lower() + str(text)[1:]


def staff_name(user) -> str:
    """A member of staff as colleagues know them: the full name, else the username."""
    if user is None:
        return "-"
    return user.get_full_name() or user.get_username()


def local_datetime(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


# --- List filters -------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Like a status filter, but "All" leaves out the drafts nobody has sent yet."""

    # The booking's own label, in the middle of "By ...".
    title = lazy(lowerfirst, str)(_("Status"))
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


PATIENT = [
    "name",
    "email",
    "phone",
    "birth_date",
    "language",
    "contact_channel",
    "reminders_off",
    "message",
]
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
        # Phone numbers shown grouped (+45 22 33 44 55), stored in E.164 as before.
        field_classes = {"phone": PhoneField, "companion_phone": PhoneField}
        widgets = {
            "anticoagulants": forms.CheckboxSelectMultiple,
            "phone": PhoneInput(attrs={"class": "vTextField"}),
            "companion_phone": PhoneInput(attrs={"class": "vTextField"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "contact_channel" in self.fields:
            self.fields["contact_channel"].required = False  # e-mail unless chosen

    def clean_contact_channel(self):
        return self.cleaned_data.get("contact_channel") or Booking.Channel.EMAIL


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

    def __init__(
        self, *args, imaging_pending: bool = False, pause_days: int | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.pause_days = pause_days
        if imaging_pending:
            self.fields["despite_imaging"] = forms.BooleanField(
                label=_("Confirm before the doctor has approved the images"),
                required=False,
                help_text=_(
                    "A doctor has not approved this patient's images yet. Tick to confirm "
                    "the time anyway."
                ),
            )
        # The tick is asked for once a time too close was chosen, and kept while shown.
        if self.is_bound and "despite_pause" in self.data:
            self._ask_despite_pause()

    def _ask_despite_pause(self):
        self.fields["despite_pause"] = forms.BooleanField(
            label=_("Confirm although the pause should already have started"),
            required=False,
            help_text=_(
                "The patient takes blood-thinning medicine: the plan needs the last dose "
                "%(days)d days before the appointment, and for this day that is already "
                "past. Tick to confirm this time anyway."
            )
            % {"days": self.pause_days},
        )

    def pause_too_late(self, starts_at) -> bool:
        """Whether the last dose, counted back from the day, lies before today."""
        if self.pause_days is None or starts_at is None:
            return False
        day = timezone.localdate(starts_at)
        return day - timedelta(days=self.pause_days) < timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        if "despite_imaging" in self.fields and not cleaned.get("despite_imaging"):
            self.add_error(
                "despite_imaging",
                _("The images are not approved yet. Tick the box to confirm anyway."),
            )
        if self.pause_too_late(cleaned.get("starts_at")) and not cleaned.get("despite_pause"):
            if "despite_pause" not in self.fields:
                self._ask_despite_pause()
            self.add_error(
                "despite_pause",
                _(
                    "The blood-thinner pause should already have started for this day. "
                    "Choose a later day, or tick the box to confirm anyway."
                ),
            )
        return cleaned


def imaging_pending(booking: Booking) -> bool:
    """Gold implantation and the like: a doctor should approve the images first."""
    required = booking.appointment_type.imaging == AppointmentType.Imaging.REQUIRED
    return required and not booking.imaging_reviewed


class PlanLineForm(forms.Form):
    """One medicine of the plan: from the list or by name, paused with dates or kept."""

    anticoagulant = forms.ModelChoiceField(
        label=_("Medicine"),
        queryset=Anticoagulant.objects.all(),
        required=False,
        empty_label=_("Not in the list"),
    )
    medicine_name = forms.CharField(
        label=_("Other medicine"),
        max_length=200,
        required=False,
        validators=[validate_plain_text],
        help_text=_("Only for a medicine that is not in the list."),
    )
    action = forms.ChoiceField(
        label=_("What to do"), choices=[("", "---------"), *PlanLine.Action.choices]
    )
    last_dose_date = forms.DateField(
        label=_("Last day to take it"), widget=AdminDateWidget, required=False
    )
    restart_date = forms.DateField(
        label=_("Day to start again"), widget=AdminDateWidget, required=False
    )

    def __init__(self, *args, booking: Booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.booking = booking

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        try:
            services.check_plan_line(self.booking, cleaned)
        except ValidationError as error:
            for field, errors in error.error_dict.items():
                self.add_error(field, errors)
        return cleaned


PlanLineFormSet = forms.formset_factory(PlanLineForm, extra=1, can_delete=True)


class PlanForm(forms.Form):
    instructions = forms.CharField(
        label=_("The doctor's instructions"),
        required=False,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
        help_text=_("Shown to the patient with the plan, in the doctor's own words."),
    )

    def __init__(self, *args, warnings: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if warnings:
            self.fields["warnings_checked"] = forms.BooleanField(
                label=_("I have checked the warnings"),
                required=True,
                error_messages={
                    "required": _("Read the warnings above and tick the box, or change the dates.")
                },
            )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text=_("Kept for the staff; the patient's e-mail does not include it."),
        error_messages={"required": _("Write why the booking is cancelled.")},
    )


def line_initial(line: PlanLine) -> dict:
    return {
        "anticoagulant": line.anticoagulant,
        "medicine_name": line.medicine_name,
        "action": line.action,
        "last_dose_date": line.last_dose_date,
        "restart_date": line.restart_date,
    }


def plan_line_text(line: PlanLine) -> str:
    if line.action == PlanLine.Action.CONTINUE:
        return _("%(medicine)s: keep taking it.") % {"medicine": line.name}
    return _("%(medicine)s: last day to take it %(last)s, start again %(restart)s.") % {
        "medicine": line.name,
        "last": line.last_dose_date.isoformat(),
        "restart": line.restart_date.isoformat(),
    }


# A plan's state on the booking: a history row where it changes is a step of the plan.
PLAN_STATE = [
    "plan_prepared_by_id",
    "plan_agreed_by_id",
    "plan_agreed_at",
    "plan_instructions",
    "last_dose_date",
    "restart_date",
]


def plan_prepared_at(booking: Booking):
    """When the plan as it stands was prepared, read from the booking's history.

    The booking keeps who prepared the plan, not when. Every save of the plan is a
    history row: the last row where the plan changed, other than a doctor agreeing
    the plan prepared before, is the preparing (a doctor who agrees a plan nobody
    prepared prepares it then). None when no such row is found.
    """
    if booking.plan_prepared_by_id is None:
        return None
    prepared_at = previous = None
    rows = booking.history.order_by("history_date", "history_id").values(
        "history_date", *PLAN_STATE
    )
    for row in rows:
        state = [row[name] for name in PLAN_STATE]
        preparer = row["plan_prepared_by_id"]
        changed = previous is None or state != [previous[name] for name in PLAN_STATE]
        agreeing = (
            row["plan_agreed_at"] is not None
            and previous is not None
            and previous["plan_prepared_by_id"] == preparer
        )
        if changed and preparer and not agreeing:
            prepared_at = row["history_date"]
        previous = row
    return prepared_at


def plan_record(booking: Booking) -> dict:
    """Who prepared the plan and when, and who agreed it and when, for the pages."""
    if booking.plan_prepared_by_id is None:
        return {"prepared_by": None, "prepared_at": None, "agreed_by": None}
    return {
        "prepared_by": staff_name(booking.plan_prepared_by),
        "prepared_at": plan_prepared_at(booking),
        "agreed_by": staff_name(booking.plan_agreed_by) if booking.plan_agreed else None,
    }


def kept_lines(formset) -> list[dict]:
    """The rows filled in and not removed, as the plan services take them."""
    return [
        {name: form.cleaned_data.get(name) for name in PlanLineForm.base_fields}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


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
    # Five short columns fit a 1280 px screen beside the menu and the filters: the
    # reference with the patient's name, the time with the practitioner.
    list_display = [
        "booking_column",
        "appointment_type",
        "status",
        "time_column",
        "checklist_column",
    ]
    list_display_links = ["booking_column"]
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
            .prefetch_related("studies")  # the checklist's scan age reads them
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
            outbox.replan(obj)  # e.g. the companion confirmed by phone: no reminder
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

    # --- The list's combined columns ---

    @admin.display(description=_("Booking"), ordering="reference")
    def booking_column(self, obj):
        return format_html(
            '<span class="booking-reference">{}</span> <span class="booking-patient">{}</span>',
            obj.reference,
            obj.name or "-",
        )

    @admin.display(description=_("Time"), ordering="starts_at")
    def time_column(self, obj):
        if obj.starts_at is None:
            return "-"
        return format_html(
            '<span class="booking-time">{}</span> <span class="booking-practitioner">{}</span>',
            local_datetime(obj.starts_at),
            obj.practitioner or "",
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
        lines = [plan_line_text(line) for line in obj.plan_lines.select_related("anticoagulant")]
        if not lines and obj.last_dose_date:
            # A plan saved before plans had one line per medicine: only its dates.
            lines = [
                _("Last day to take it %(last)s, start again %(restart)s.")
                % {
                    "last": obj.last_dose_date.isoformat(),
                    "restart": obj.restart_date.isoformat() if obj.restart_date else "-",
                }
            ]
        if not lines:
            return _("No plan yet.")
        record = plan_record(obj)
        prepared = (
            format_html(
                "{} {}{}.",
                _("Prepared by"),
                record["prepared_by"],
                (
                    timezone.localtime(record["prepared_at"]).strftime(" (%Y-%m-%d %H:%M)")
                    if record["prepared_at"]
                    else ""
                ),
            )
            if record["prepared_by"]
            else ""
        )
        if obj.plan_agreed:
            agreed = format_html(
                "{} {} ({}).",
                _("Agreed by"),
                record["agreed_by"] or "-",
                timezone.localtime(obj.plan_agreed_at).strftime("%Y-%m-%d %H:%M"),
            )
        else:
            agreed = _("Not agreed yet: a doctor must agree it.")
        read = (
            format_html(
                "{} {}.",
                _("Read by the patient"),
                timezone.localtime(obj.plan_read_at).strftime("%Y-%m-%d %H:%M"),
            )
            if obj.plan_read_at
            else _("Not read by the patient yet.")
        )
        return format_html(
            "<ul class='booking-plan'>{}</ul><p>{}</p><p>{} {} {}</p>",
            format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
            obj.plan_instructions or "",
            prepared,
            agreed,
            read if obj.plan_agreed else "",
        )

    @admin.display(description=_("words agreed to"))
    def consent_wording(self, obj):
        consent = obj.consent_text
        if consent is None:
            return "-"
        return getattr(consent, f"text_{obj.language}", None) or consent.text_da

    def changelist_view(self, request, extra_context=None):
        """The list says when messages last went out, and warns when they stopped."""
        extra_context = {**message_pass_context(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

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
            context["can_confirm"] = obj.status in services.CONFIRMABLE
            context["asks_about_blood_thinners"] = obj.appointment_type.asks_about_blood_thinners
            # Read-only: what was planned for the patient and what became of it.
            context["planned_messages"] = obj.planned_messages.order_by("due_at", "pk")
            context["resendable"] = services.RESENDABLE
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Pages of their own: confirm, plan, cancel ---

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        pages = [
            ("calendar/", self.calendar_view, "calendar"),
            ("<path:object_id>/confirm/", self.confirm_view, "confirm"),
            ("<path:object_id>/blood-thinner-plan/", self.plan_view, "plan"),
            (
                "<path:object_id>/messages/<int:message_id>/send-again/",
                self.send_again_view,
                "send_again",
            ),
            ("<path:object_id>/cancel/", self.cancel_view, "cancel"),
            ("<path:object_id>/export/", self.export_view, "export"),
            ("<path:object_id>/erase/", self.erase_view, "erase"),
        ]
        return [
            *(
                path(route, self.admin_site.admin_view(view), name=f"{app}_{model}_{name}")
                for route, view, name in pages
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
        if "formset" in context:
            context["media"] += context["formset"].media
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
        # From the calendar's free time: ?practitioner=<pk>&starts_at=<ISO time>.
        if request.GET.get("starts_at"):
            try:
                proposed = datetime.fromisoformat(request.GET["starts_at"])
            except ValueError:
                proposed = None
            if proposed is not None:
                if timezone.is_naive(proposed):
                    proposed = timezone.make_aware(proposed)
                initial = {
                    "practitioner": request.GET.get("practitioner"),
                    "starts_at": timezone.localtime(proposed),
                }
        form = ConfirmForm(
            request.POST or None,
            initial=initial,
            imaging_pending=imaging_pending(booking),
            pause_days=scheduling.blood_thinner_pause_days(booking),
        )
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
        """One row per medicine; warnings must be ticked as read before saving."""
        booking = self._booking_for_change(request, object_id)
        can_agree = request.user.has_perm(services.AGREE_PERMISSION)
        saved_lines = list(booking.plan_lines.select_related("anticoagulant"))
        initial_lines = (
            [line_initial(line) for line in saved_lines]
            if saved_lines
            else services.suggested_lines(booking)
        )
        data = request.POST if request.method == "POST" else None
        formset = PlanLineFormSet(
            data, initial=initial_lines, prefix="lines", form_kwargs={"booking": booking}
        )
        lines = kept_lines(formset) if data is not None and formset.is_valid() else None
        warnings = services.plan_warnings(booking, initial_lines if data is None else lines or [])
        form = PlanForm(
            data,
            initial={"instructions": booking.plan_instructions},
            warnings=warnings if data else (),
        )
        if data is not None and lines is not None and form.is_valid():
            agree = "_agree" in request.POST
            if agree and not can_agree:
                raise PermissionDenied
            step = (
                services.agree_anticoagulant_plan if agree else services.prepare_anticoagulant_plan
            )
            try:
                step(
                    booking=booking,
                    lines=lines,
                    instructions=form.cleaned_data["instructions"],
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
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
            formset=formset,
            warnings=warnings,
            can_agree=can_agree,
            medicines=list(booking.anticoagulants.all()),
            appointment_day=booking.appointment_day,
            can_be_agreed=booking.status == Status.CONFIRMED,
            **plan_record(booking),
        )

    def send_again_view(self, request, object_id, message_id):
        """A button in the booking's table of messages: plan a failed one again, now."""
        booking = self._booking_for_change(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        message = get_object_or_404(booking.planned_messages, pk=message_id)
        try:
            services.send_message_again(message=message, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The message “%(message)s” will be sent again now.")
                % {"message": message.get_kind_display()},
            )
        return HttpResponseRedirect(self._change_url(booking))

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

    # --- The patient's data rights: export, erase (booking/data_rights.py) ---

    def _booking_for_data_rights(self, request, object_id, allowed) -> Booking:
        booking = self.get_object(request, unquote(object_id))
        if booking is None:
            raise Http404
        if not allowed(request.user):
            raise PermissionDenied
        return booking

    def export_view(self, request, object_id):
        """GET: which bookings the export covers; POST: the zip, streamed, and recorded."""
        booking = self._booking_for_data_rights(request, object_id, data_rights.can_export)
        bookings = data_rights.patient_bookings(booking)
        if request.method == "POST":
            if request.POST.get("scope") != "patient":
                bookings = [booking]
            data_rights.record_export(
                booking=booking, bookings=bookings, user=request.user, ip_address=client_ip(request)
            )
            response = StreamingHttpResponse(
                data_rights.export_chunks(bookings), content_type="application/zip"
            )
            response["Content-Disposition"] = content_disposition_header(
                True, data_rights.export_filename(booking)
            )
            response["Cache-Control"] = "no-store"
            return response
        return self._render_step(
            request,
            booking,
            "export.html",
            _("Export the patient's data (%(reference)s)") % {"reference": booking.reference},
            bookings=bookings,
        )

    def erase_view(self, request, object_id):
        """GET: what will be erased and what is kept, and why; POST: erase, and record it."""
        booking = self._booking_for_data_rights(request, object_id, data_rights.can_erase)
        bookings = data_rights.patient_bookings(booking)
        if request.method == "POST":
            shown = set(request.POST.getlist("booking"))
            delete_ids = {int(pk) for pk in request.POST.getlist("delete") if pk.isdigit()}
            bookings = [b for b in bookings if str(b.pk) in shown]
            record = data_rights.erase(
                booking=booking,
                bookings=bookings,
                delete_ids=delete_ids,
                user=request.user,
                ip_address=client_ip(request),
            )
            messages.success(request, _("Erased: %(summary)s") % {"summary": record.summary})
            if record.booking_id is None:
                return HttpResponseRedirect(reverse("admin:booking_booking_changelist"))
            return HttpResponseRedirect(self._change_url(booking))
        return self._render_step(
            request,
            booking,
            "erase.html",
            _("Erase what is not the medical record (%(reference)s)")
            % {"reference": booking.reference},
            bookings=bookings,
            plan=data_rights.erase_plan(bookings),
            record_duty=data_rights.RECORD_DUTY,
        )

    # --- The calendar ---

    def calendar_view(self, request):
        """A practitioner's day or week: bookings, tentative ones, holds, absences, free time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        practitioners = list(Practitioner.objects.active().order_by("order", "pk"))
        wanted = request.GET.get("practitioner", "")
        practitioner = next((p for p in practitioners if str(p.pk) == wanted), None)
        if practitioner is None and practitioners:
            practitioner = practitioners[0]
        view = "day" if request.GET.get("view") == "day" else "week"
        try:
            shown = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            shown = timezone.localdate()
        first_day = shown if view == "day" else shown - timedelta(days=shown.weekday())
        length = 1 if view == "day" else 7
        days = (
            planner.week_plan(practitioner=practitioner, first_day=first_day, days=length)
            if practitioner
            else []
        )
        step = timedelta(days=length)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Calendar"),
            "subtitle": practitioner.name if practitioner else None,
            "opts": self.opts,
            "practitioners": practitioners,
            "practitioner": practitioner,
            "view": view,
            "days": days,
            "shown": shown,
            "previous": first_day - step,
            "next": first_day + step,
            "today": timezone.localdate(),
            "waiting": planner.tentative_waiting(),
            "to_move": planner.bookings_to_move(),
            "in_a_pause": planner.in_a_pause(),
            "can_change": self.has_change_permission(request),
            "can_add": self.has_add_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/booking/booking/calendar.html", context)

    def response_add(self, request, obj, post_url_continue=None):
        """A caller booked into a free time from the calendar: on to confirming that time."""
        if request.GET.get("starts_at") and self.has_change_permission(request, obj):
            query = urlencode(
                {
                    "practitioner": request.GET.get("practitioner", ""),
                    "starts_at": request.GET["starts_at"],
                }
            )
            url = reverse("admin:booking_booking_confirm", args=[obj.pk])
            return HttpResponseRedirect(f"{url}?{query}")
        return super().response_add(request, obj, post_url_continue)

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


# --- Messages, phone calls and the work list ------------------------------------------


def can_handle_bookings(request) -> bool:
    """Messages and phone calls are part of a booking: who may change bookings handles them."""
    return request.user.has_perm(services.CHANGE_PERMISSION)


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """Rows the system writes (messages, phone tasks): staff who see bookings see them,
    and change them only through the actions."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("booking.view_booking")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlannedMessage)
class PlannedMessageAdmin(ReadOnlyRecordAdmin):
    """Read-only: messages are planned by booking/outbox.py, never written by hand."""

    list_display = [
        "booking",
        "kind",
        "channel",
        "due_at",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["booking"]
    search_fields = ["booking__reference", "booking__name"]
    actions = ["send_again"]

    def get_queryset(self, request):
        """Failed and unknown rows on top: those are the ones a person must look at."""
        attention = Case(
            When(status__in=services.RESENDABLE, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        # Annotated before ordering, which ModelAdmin.get_queryset would do first.
        queryset = self.model._default_manager.get_queryset().annotate(needs_attention=attention)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["needs_attention", "-due_at", "-pk"]

    def has_send_again_permission(self, request):
        return can_handle_bookings(request)

    @admin.action(description=_("Send again"), permissions=["send_again"])
    def send_again(self, request, queryset):
        again = 0
        for message in queryset:
            try:
                services.send_message_again(message=message, user=request.user)
            except ValidationError:
                continue
            again += 1
        skipped = queryset.count() - again
        if again:
            messages.success(
                request,
                ngettext(
                    "%(count)d message will be sent again.",
                    "%(count)d messages will be sent again.",
                    again,
                )
                % {"count": again},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d message was neither failed nor unknown: left as it was.",
                    "%(count)d messages were neither failed nor unknown: left as they were.",
                    skipped,
                )
                % {"count": skipped},
            )


class PhoneTaskDoneFilter(admin.SimpleListFilter):
    title = _("done")
    parameter_name = "done"

    def lookups(self, request, model_admin):
        return [("no", _("Still to do")), ("yes", _("Done"))]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(done_at__isnull=self.value() == "no")
        return queryset


@admin.register(PhoneTask)
class PhoneTaskAdmin(ReadOnlyRecordAdmin):
    """Calls to make; a call is marked done with the list's action, recording who made it."""

    list_display = ["booking", "reason", "created_at", "done_at", "done_by"]
    list_filter = [PhoneTaskDoneFilter, "reason"]
    list_select_related = ["booking", "done_by"]
    search_fields = ["booking__reference", "booking__name", "booking__phone"]
    actions = ["mark_done"]
    ordering = ["-created_at"]

    def has_mark_done_permission(self, request):
        return can_handle_bookings(request)

    @admin.action(description=_("Mark the call as done"), permissions=["mark_done"])
    def mark_done(self, request, queryset):
        done = sum(services.mark_phone_task_done(task=task, user=request.user) for task in queryset)
        messages.success(
            request,
            ngettext(
                "%(count)d phone call marked as done.",
                "%(count)d phone calls marked as done.",
                done,
            )
            % {"count": done},
        )


def message_pass_context() -> dict:
    return {"last_pass_at": outbox.last_pass_at(), "pass_is_late": outbox.pass_is_late()}


def worklist_view(request, admin_site):
    """What needs a person, for the user's role (booking/worklist.py)."""
    sections = worklist.worklist(request.user)
    context = {
        **admin_site.each_context(request),
        "title": _("Work list"),
        "subtitle": None,
        "sections": sections,
        **message_pass_context(),
        "can_send_again": can_handle_bookings(request),
        "can_mark_done": can_handle_bookings(request),
    }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/booking/worklist.html", context)


# --- What can be booked, and the medicine list -----------------------------------------


class AppointmentTypeForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        mode = cleaned_data.get("booking_mode")
        # The practitioners are a many-to-many field: only cleaned_data knows them yet.
        chosen = cleaned_data.get("practitioners")
        if (
            "practitioners" in self.fields
            and mode
            and mode != AppointmentType.BookingMode.REQUEST_PERIOD
            and not chosen
        ):
            self.add_error(
                "practitioners",
                _("Choose at least one practitioner, or let patients ask for a period."),
            )
        return cleaned_data


@admin.register(AppointmentType)
class AppointmentTypeAdmin(ErrorSummaryMixin, TranslationStatusMixin, TabbedTranslationAdmin):
    form = AppointmentTypeForm
    fieldsets = [
        (None, {"fields": ["name", "description", "instructions"]}),
        (
            _("Booking"),
            {"fields": ["duration_minutes", "requestable_online", "order"]},
        ),
        (
            _("Scheduling"),
            {
                "fields": [
                    "booking_mode",
                    "practitioners",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "min_notice_hours",
                    "max_weeks_ahead",
                ],
                "description": _(
                    "How patients book this appointment and which times are offered online. "
                    "The practitioners' own hours are set under “Working hours”."
                ),
            },
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
        "booking_mode",
        "requestable_online",
        "imaging",
        "asks_about_blood_thinners",
        "companion_required",
        "order",
    ]
    list_editable = ["order"]
    search_fields = in_every_language("name")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # A clinic has a handful of practitioners: tick boxes read better than a picker.
        if db_field.name == "practitioners":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- Working hours and absences --------------------------------------------------------

# The statuses whose time must stay inside working hours and outside absences.
KEEPS_ITS_TIME = [Status.CONFIRMED, Status.TENTATIVE]


def inside_working_hours(booking: Booking, hours: list[WorkingHours]) -> bool:
    """Whether one of the hours, valid on the booking's local date, holds all of it.

    The rule free times are offered by (booking/slots.py): the appointment itself,
    without its buffers, lies inside one working interval on one local date.
    """
    start = timezone.localtime(booking.starts_at)
    end = timezone.localtime(booking.ends_at or booking.starts_at)
    day = start.date()
    if end.date() != day:
        return False
    return any(
        item.interval().applies_on(day) and item.starts <= start.time() and end.time() <= item.ends
        for item in hours
    )


def bookings_outside_working_hours(*, practitioner_id: int, now=None) -> list[Booking]:
    """The practitioner's confirmed or tentative future bookings no working hours hold."""
    now = now or timezone.now()
    hours = list(WorkingHours.objects.filter(practitioner_id=practitioner_id))
    bookings = Booking.objects.filter(
        practitioner_id=practitioner_id,
        status__in=KEEPS_ITS_TIME,
        starts_at__gte=now,
    ).order_by("starts_at")
    return [booking for booking in bookings if not inside_working_hours(booking, hours)]


def bookings_hit_by(absence: Absence):
    """Confirmed or tentative bookings whose time taken overlaps the absence.

    An absence without a practitioner closes the clinic, so it hits everyone's bookings.
    """
    bookings = Booking.objects.filter(
        status__in=KEEPS_ITS_TIME,
        claim_starts_at__lt=absence.ends_at,
        claim_ends_at__gt=absence.starts_at,
    )
    if absence.practitioner_id is not None:
        bookings = bookings.filter(practitioner_id=absence.practitioner_id)
    return bookings.select_related("practitioner").order_by("claim_starts_at")


def booking_links(bookings) -> str:
    """A list for a message: each booking's reference (a link), patient, time and practitioner."""
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a>, {}, {}, {}</li>',
            (
                (
                    reverse("admin:booking_booking_change", args=[booking.pk]),
                    booking.reference,
                    booking.name or "-",
                    timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
                    booking.practitioner or "-",
                )
                for booking in bookings
            ),
        ),
    )


def warn_about_stranded_bookings(request, practitioner_ids) -> None:
    for practitioner in Practitioner.objects.filter(pk__in=practitioner_ids).order_by("name"):
        stranded = bookings_outside_working_hours(practitioner_id=practitioner.pk)
        if not stranded:
            continue
        messages.warning(
            request,
            format_html(
                "{} {}",
                ngettext(
                    "%(count)d future booking of %(practitioner)s lies outside their "
                    "working hours now. Reception must move it:",
                    "%(count)d future bookings of %(practitioner)s lie outside their "
                    "working hours now. Reception must move them:",
                    len(stranded),
                )
                % {"count": len(stranded), "practitioner": practitioner},
                booking_links(stranded),
            ),
        )


def warn_about_bookings_hit(request, absences) -> None:
    hit = {}
    for absence in absences:
        for booking in bookings_hit_by(absence):
            hit.setdefault(booking.pk, booking)
    if not hit:
        return
    bookings = sorted(hit.values(), key=lambda booking: booking.claim_starts_at)
    messages.warning(
        request,
        format_html(
            "{} {}",
            ngettext(
                "%(count)d booking falls in this time off. Reception must move it:",
                "%(count)d bookings fall in this time off. Reception must move them:",
                len(bookings),
            )
            % {"count": len(bookings)},
            booking_links(bookings),
        ),
    )


@admin.register(WorkingHours)
class WorkingHoursAdmin(ErrorSummaryMixin, admin.ModelAdmin):
    fields = ["practitioner", "weekday", "starts", "ends", "valid_from", "valid_to"]
    list_display = ["practitioner", "weekday", "starts", "ends", "valid_from", "valid_to"]
    list_filter = ["practitioner", "weekday"]
    list_select_related = ["practitioner"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        affected = {obj.practitioner_id}
        if change and "practitioner" in form.changed_data:
            affected.add(form.initial.get("practitioner"))
        warn_about_stranded_bookings(request, affected)

    def delete_model(self, request, obj):
        practitioner_id = obj.practitioner_id
        super().delete_model(request, obj)
        warn_about_stranded_bookings(request, {practitioner_id})

    def delete_queryset(self, request, queryset):
        affected = set(queryset.values_list("practitioner_id", flat=True))
        super().delete_queryset(request, queryset)
        warn_about_stranded_bookings(request, affected)


def offer_time_of(absence: Absence) -> None:
    """An absence was removed: its time is free, so waitlisted patients may want it."""
    if absence.ends_at <= timezone.now():
        return
    people = (
        [absence.practitioner_id]
        if absence.practitioner_id
        else list(Practitioner.objects.active().values_list("pk", flat=True))
    )
    for practitioner_id in people:
        scheduling.offer_freed_time(
            practitioner_id=practitioner_id,
            claim_starts_at=absence.starts_at,
            claim_ends_at=absence.ends_at,
        )


@admin.register(Absence)
class AbsenceAdmin(ErrorSummaryMixin, admin.ModelAdmin):
    change_list_template = "admin/booking/absence/change_list.html"
    fields = ["practitioner", "starts_at", "ends_at", "reason"]
    list_display = ["who", "starts_at", "ends_at", "reason"]
    list_filter = ["practitioner"]
    date_hierarchy = "starts_at"
    ordering = ["starts_at"]
    list_select_related = ["practitioner"]

    @admin.display(description=_("who"), ordering="practitioner__name")
    def who(self, obj):
        return obj.practitioner if obj.practitioner_id else _("The whole clinic")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_about_bookings_hit(request, [obj])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        offer_time_of(obj)

    def delete_queryset(self, request, queryset):
        absences = list(queryset)
        super().delete_queryset(request, queryset)
        for absence in absences:
            offer_time_of(absence)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        return [
            path(
                "public-holidays/",
                self.admin_site.admin_view(self.public_holidays_view),
                name=f"{app}_{model}_public_holidays",
            ),
            *super().get_urls(),
        ]

    def public_holidays_view(self, request):
        """Adds this year's and next year's Danish public holidays as clinic closures."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        year = timezone.localdate().year
        closures = Absence.objects.filter(practitioner=None)
        before = set(closures.values_list("pk", flat=True))
        added = scheduling.add_public_holidays(years=[year, year + 1])
        years = {"first": year, "second": year + 1}
        if added:
            messages.success(
                request,
                ngettext(
                    "%(count)d public holiday of %(first)d and %(second)d added.",
                    "%(count)d public holidays of %(first)d and %(second)d added.",
                    added,
                )
                % {"count": added, **years},
            )
        else:
            messages.success(
                request,
                _("No public holidays added: those of %(first)d and %(second)d are already there.")
                % years,
            )
        warn_about_bookings_hit(request, closures.exclude(pk__in=before))
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_absence_changelist"))


class AnticoagulantForm(forms.ModelForm):
    """The languages as tick boxes, stored as "da,en" (none ticked: every language)."""

    languages = forms.MultipleChoiceField(
        label=capfirst(Anticoagulant._meta.get_field("languages").verbose_name),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=Anticoagulant._meta.get_field("languages").help_text,
    )

    class Meta:
        model = Anticoagulant
        fields = ["brand", "substance", "default_pause_days", "active", "languages"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["languages"] = self.instance.language_codes

    def clean_languages(self) -> str:
        chosen = self.cleaned_data["languages"]
        return ",".join(code for code, _name in settings.LANGUAGES if code in chosen)


class ListedInLanguageFilter(admin.SimpleListFilter):
    """The list a patient gets on the booking form in one language."""

    title = _("listed for patients in")
    parameter_name = "listed_in"

    def lookups(self, request, model_admin):
        return settings.LANGUAGES

    def queryset(self, request, queryset):
        if self.value() in dict(settings.LANGUAGES):
            return queryset.for_language(self.value())
        return queryset


@admin.register(Anticoagulant)
class AnticoagulantAdmin(admin.ModelAdmin):
    form = AnticoagulantForm
    fields = ["brand", "substance", "default_pause_days", "active", "languages"]
    list_display = ["brand", "substance", "default_pause_days", "active", "listed_in"]
    list_filter = ["active", ListedInLanguageFilter]
    search_fields = ["brand", "substance"]

    @admin.display(description=_("listed in"))
    def listed_in(self, obj):
        codes = obj.language_codes
        if not codes or set(codes) == set(dict(settings.LANGUAGES)):
            return _("every language")
        return ", ".join(code.upper() for code in codes)

    def has_delete_permission(self, request, obj=None):
        # A medicine that patients have named stays: take it out of the list instead.
        if obj is not None and obj.bookings.exists():
            return False
        return super().has_delete_permission(request, obj)


from booking.imaging import admin as imaging_admin  # noqa: E402, F401  (audit and reviews)


@admin.register(DataRightsRecord)
class DataRightsRecordAdmin(admin.ModelAdmin):
    """Who exported or erased a patient's data, and when (booking/data_rights.py). Read-only."""

    list_display = ["at", "user", "action", "references", "summary"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["references"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
