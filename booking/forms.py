"""The forms of the patient's appointment request, one per step, and of the private page.

Each step's form edits the draft Booking (a ModelForm), so the answers are kept in
the database as soon as a step is valid. The error summary follows the project's
pattern (testimonials/forms.py): one line per error, linking to the field.
"""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking import sms
from booking.models import Anticoagulant, AppointmentType, Booking
from clinic.forms import PhoneInput
from clinic.i18n import in_own_language
from clinic.models import ConsentText, normalise_phone, validate_plain_text
from conditions.models import Condition


class DangerSubmit(Submit):
    """A red button for what cannot be undone (crispy's Submit is always btn-primary)."""

    field_classes = "btn btn-danger"


MAX_AGE_YEARS = 120
# Django's own weekday names: translating "Monday" in the project's catalogue
# would also change how every date is written (capitalised in Danish).
WEEKDAYS = [(day, capfirst(WEEKDAY_NAMES[day])) for day in range(5)]
DO_NOT_STOP = _("Do not stop any medicine until we have agreed a plan with you.")


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StepForm(forms.ModelForm):
    """Shared by every step: the crispy helper, and the error summary at the top."""

    submit_label = _("Next")
    summary_names: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(id of the input, short field name, message) for each error, in the form's order."""
        summary = []
        for field in self:
            name = self.summary_names.get(field.name, field.label)
            target = f"{field.auto_id}_0" if field.use_fieldset else field.auto_id
            summary += [(target, name, error) for error in field.errors]
        return summary


class AppointmentTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.description:
            return format_html(
                '<span class="choice-title">{}</span> <span class="choice-help">{}</span>',
                obj.name,
                obj.description,
            )
        return format_html('<span class="choice-title">{}</span>', obj.name)


class WhatForm(StepForm):
    appointment_type = AppointmentTypeChoiceField(
        label=_("What would you like to book?"),
        queryset=AppointmentType.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Please choose what you would like to book."),
            "invalid_choice": _("Please choose what you would like to book."),
        },
    )
    condition = forms.ModelChoiceField(
        label=_("What kind of pain do you have?"),
        queryset=Condition.objects.none(),
        required=False,
        empty_label=_("Choose (optional)"),
        help_text=_("Optional. Choose the condition that comes closest, if any."),
    )

    class Meta:
        model = Booking
        fields = ["appointment_type", "condition", "painful_area"]
        labels = {"painful_area": _("Where does it hurt?")}
        help_texts = {"painful_area": _("Optional. For example: neck, lower back, left knee.")}

    def __init__(self, *args, shown: dict[str, list] | None = None, **kwargs):
        """`shown`: the appointment types and conditions to show, when read already (the
        published snapshots); the querysets still validate the answer."""
        super().__init__(*args, **kwargs)
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(
            requestable_online=True
        )
        self.fields["condition"].queryset = Condition.objects.published()
        for name in ("appointment_type", "condition"):
            # Read once: the page iterates the choices more than once, and a model choice
            # iterator queries again each time (list() would count them first, another
            # query).
            field = self.fields[name]
            if shown is None:
                field.widget.choices = list(iter(field.choices))
            else:
                iterator = field.iterator(field)
                empty = [("", field.empty_label)] if field.empty_label is not None else []
                field.widget.choices = empty + [iterator.choice(obj) for obj in shown[name]]
        self.helper.layout = Layout("appointment_type", "condition", "painful_area")


class WhenForm(StepForm):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Which weekdays suit you?"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked if any weekday suits you."),
    )

    class Meta:
        model = Booking
        fields = ["earliest_date", "latest_date", "weekdays", "time_of_day", "time_wishes"]
        labels = {
            "earliest_date": _("Earliest date"),
            "latest_date": _("Latest date"),
            "time_of_day": _("Time of day"),
            "time_wishes": _("Anything else about the time?"),
        }
        help_texts = {
            "earliest_date": _("The first day you could come."),
            "latest_date": _("Optional. The last day that would suit you."),
            "time_wishes": _("Optional. For example: not on 14 May, or only after 10 o'clock."),
        }
        widgets = {
            "earliest_date": DateInput(),
            "latest_date": DateInput(),
            "time_of_day": forms.RadioSelect,
        }
        error_messages = {
            "earliest_date": {
                "required": _("Please write the first day you could come."),
                "invalid": _("Please write a date, for example 2026-03-24."),
            },
            "latest_date": {"invalid": _("Please write a date, for example 2026-05-24.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["earliest_date"].required = True
        self.fields["time_of_day"].choices = Booking.TimeOfDay.choices
        today = timezone.localdate().isoformat()
        self.fields["earliest_date"].widget.attrs["min"] = today
        self.fields["latest_date"].widget.attrs["min"] = today
        self.helper.layout = Layout(
            "earliest_date", "latest_date", "weekdays", "time_of_day", "time_wishes"
        )

    def clean_earliest_date(self):
        day = self.cleaned_data["earliest_date"]
        if day and day < timezone.localdate():
            raise forms.ValidationError(_("The earliest date cannot be in the past."))
        return day

    def clean(self):
        cleaned = super().clean()
        earliest, latest = cleaned.get("earliest_date"), cleaned.get("latest_date")
        if earliest and latest and latest < earliest:
            self.add_error(
                "latest_date", _("The latest date must be on or after the earliest date.")
            )
        return cleaned

    def _post_clean(self):
        # The model's clean() repeats the date-order check; one message is enough.
        if "latest_date" in self.errors:
            self.instance.latest_date = None
        super()._post_clean()


class AboutYouForm(StepForm):
    language = forms.ChoiceField(
        label=_("Which language should we write to you in?"),
        choices=settings.LANGUAGES,
    )
    contact_channel = forms.ChoiceField(
        label=_("How should we send you messages about your appointment?"),
        # Shorter than the model's labels: here the question gives the context.
        choices=[
            (Booking.Channel.EMAIL, _("E-mail")),
            (Booking.Channel.SMS, _("Text message (SMS)")),
            (Booking.Channel.BOTH, _("Both")),
        ],
        initial=Booking.Channel.EMAIL,
        # E-mail is ticked already; a form posted without the question means e-mail.
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Text messages go to the phone number above."),
        error_messages={"invalid_choice": _("Please choose how we should send you messages.")},
    )

    class Meta:
        model = Booking
        fields = ["name", "email", "phone", "contact_channel", "birth_date", "language"]
        labels = {
            "name": _("Your full name"),
            "email": _("Your e-mail address"),
            "phone": _("Your phone number"),
            "birth_date": _("Your date of birth"),
        }
        help_texts = {
            "email": _("We send the confirmation and your personal link here."),
            "phone": _("A Danish number, or a foreign one starting with + and the country code."),
            "birth_date": _("Please do not write your CPR number: we ask for it at the visit."),
        }
        widgets = {
            "birth_date": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        error_messages = {
            "name": {"required": _("Please write your name.")},
            "email": {
                "required": _("Please write your e-mail address."),
                "invalid": _("Please write a valid e-mail address, for example name@example.com."),
            },
            "phone": {"required": _("Please write your phone number.")},
            "birth_date": {
                "required": _("Please write your date of birth."),
                "invalid": _("Please write a date, for example 1960-04-30."),
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "email", "phone", "birth_date"):
            self.fields[name].required = True
        if not self.instance.name and not self.is_bound:
            # A new draft: write in the language of the page the patient is reading.
            self.initial["language"] = get_language()
        today = timezone.localdate()
        self.fields["birth_date"].widget.attrs.update(
            max=today.isoformat(), min=years_before(today, MAX_AGE_YEARS).isoformat()
        )
        self.helper.layout = Layout(
            "name", "email", "phone", "contact_channel", "birth_date", "language"
        )

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean_contact_channel(self):
        return self.cleaned_data["contact_channel"] or Booking.Channel.EMAIL

    def clean(self):
        cleaned = super().clean()
        wants_sms = cleaned.get("contact_channel") in (Booking.Channel.SMS, Booking.Channel.BOTH)
        phone = cleaned.get("phone")
        # A phone that failed its own check already has a message; do not add a second.
        if wants_sms and phone and sms.normalise_phone(phone) is None:
            self.add_error(
                "phone",
                forms.ValidationError(
                    _(
                        "We can only send text messages to a mobile number. Please write "
                        "a mobile number, or choose e-mail."
                    ),
                    code="not_mobile",
                ),
            )
        return cleaned

    def clean_birth_date(self):
        day = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if day < years_before(today, MAX_AGE_YEARS):
            raise forms.ValidationError(
                _("Please check the year: the date is more than 120 years ago.")
            )
        return day


class AnticoagulantChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


CHECKLIST_LABELS = {
    "imaging_status": _("Your X-ray or scan images"),
    "scan_date": _("When was the scan made?"),
    "scan_body_area": _("Which part of the body was scanned?"),
    "scan_modality": _("Kind of scan"),
    "takes_blood_thinners": _("Do you take blood-thinning medicine?"),
    "other_medicine": _("Other blood-thinning medicine"),
    "companion_confirmed": _("An adult will come with me and drive me home after the treatment."),
    "companion_name": _("Their name"),
    "companion_phone": _("Their phone number"),
}
# The answers that make a follow-up question apply (asked on the step's second screen).
HAS_A_SCAN = (Booking.ImagingStatus.UPLOADED, Booking.ImagingStatus.RADIOLOGY_WILL_SEND)
TAKES_SOME = (Booking.Answer.YES, Booking.Answer.DONT_KNOW)


def scan_questions_apply(booking: Booking) -> bool:
    """The questions about the scan, for a patient who has one (or whose files arrived)."""
    return booking.imaging_status in HAS_A_SCAN


def medicine_question_applies(booking: Booking) -> bool:
    kind = booking.appointment_type
    return kind.asks_about_blood_thinners and booking.takes_blood_thinners in TAKES_SOME


def companion_details_apply(booking: Booking) -> bool:
    return booking.appointment_type.companion_required and booking.companion_confirmed


class ImagingForm(StepForm):
    """The images step's question, below the upload box: how the clinic gets the images.

    With `has_uploads` (files have arrived on the draft) no answer is needed: the images
    are being sent here, whatever was ticked.
    """

    class Meta:
        model = Booking
        fields = ["imaging_status"]
        labels = CHECKLIST_LABELS
        widgets = {"imaging_status": forms.RadioSelect}
        error_messages = {"imaging_status": {"required": _("Please tell us about your images.")}}

    def __init__(self, *args, has_uploads: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_uploads = has_uploads
        field = self.fields["imaging_status"]
        kind = self.instance.appointment_type
        field.required = kind.imaging == AppointmentType.Imaging.REQUIRED and not has_uploads
        field.choices = Booking.ImagingStatus.choices
        self.helper.layout = Layout("imaging_status")

    def clean_imaging_status(self):
        value = self.cleaned_data.get("imaging_status", "")
        return value or (Booking.ImagingStatus.UPLOADED if self.has_uploads else value)


class ScanForm(StepForm):
    """The images step's second screen, for a patient who has a scan: about that scan."""

    class Meta:
        model = Booking
        fields = ["scan_date", "scan_body_area", "scan_modality"]
        labels = CHECKLIST_LABELS
        help_texts = {
            "scan_date": _("Approximately is fine. A scan under 2 years old can usually be used."),
            "scan_body_area": _("For example: neck, lower back, right hip."),
        }
        widgets = {"scan_date": DateInput(), "scan_modality": forms.RadioSelect}
        error_messages = {
            "scan_date": {"invalid": _("Please write a date, for example 2025-10-01.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scan_modality"].choices = Booking.Modality.choices
        self.fields["scan_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.helper.layout = Layout("scan_date", "scan_body_area", "scan_modality")

    def clean_scan_date(self):
        day = self.cleaned_data.get("scan_date")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("The date of the scan cannot be in the future."))
        return day


class ChecklistForm(StepForm):
    """The questions before the treatment that apply to the type, each a short yes or no.

    What depends on an answer (which medicine, the companion's name) is asked on the
    step's second screen, only when it applies: ChecklistDetailsForm.
    """

    summary_names = {"companion_confirmed": _("Companion")}

    class Meta:
        model = Booking
        fields = ["takes_blood_thinners", "companion_confirmed"]
        labels = CHECKLIST_LABELS
        help_texts = {
            "companion_confirmed": _(
                "The local anaesthetic can make you drowsy, so you should not drive yourself. "
                "You can also confirm this later."
            ),
        }
        widgets = {"takes_blood_thinners": forms.RadioSelect}
        error_messages = {
            "takes_blood_thinners": {
                "required": _("Please tell us if you take blood-thinning medicine.")
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.instance.appointment_type
        parts = []
        if kind.asks_about_blood_thinners:
            self.fields["takes_blood_thinners"].required = True
            self.fields["takes_blood_thinners"].choices = Booking.Answer.choices
            parts.append(
                Fieldset(
                    _("Blood-thinning medicine"),
                    HTML(format_html('<p class="alert alert-warning">{}</p>', DO_NOT_STOP)),
                    "takes_blood_thinners",
                    css_class="checklist-fieldset",
                )
            )
        else:
            del self.fields["takes_blood_thinners"]
        if kind.companion_required:
            parts.append(
                Fieldset(
                    _("Someone to drive you home"),
                    "companion_confirmed",
                    css_class="checklist-fieldset",
                )
            )
        else:
            del self.fields["companion_confirmed"]
        self.helper.layout = Layout(*parts)

    def no_longer_applies(self) -> dict:
        """Follow-up answers the new answers make void, emptied (for update_draft)."""
        cleaned, void = self.cleaned_data, {}
        if "takes_blood_thinners" in cleaned and cleaned["takes_blood_thinners"] not in TAKES_SOME:
            void |= {"anticoagulants": [], "other_medicine": ""}
        if "companion_confirmed" in cleaned and not cleaned["companion_confirmed"]:
            void |= {"companion_name": "", "companion_phone": ""}
        return void


class ChecklistDetailsForm(StepForm):
    """The checklist step's second screen: which medicine, and who drives the patient home.

    Each part only when the first screen's answer makes it apply.
    """

    anticoagulants = AnticoagulantChoiceField(
        label=_("Which medicine?"),
        queryset=Anticoagulant.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick all you take. If yours is not in the list, write it below."),
    )

    class Meta:
        model = Booking
        fields = ["anticoagulants", "other_medicine", "companion_name", "companion_phone"]
        labels = CHECKLIST_LABELS
        widgets = {"companion_phone": PhoneInput}  # shown grouped: +45 22 33 44 55
        help_texts = {
            "other_medicine": _("Optional. In your own words."),
            "companion_name": _("Optional."),
            "companion_phone": _("Optional."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parts = []
        if medicine_question_applies(self.instance):
            # Each country's brands: the list for the language of the form (not translated).
            medicines = Anticoagulant.objects.filter(active=True).for_language(get_language())
            self.fields["anticoagulants"].queryset = medicines
            parts.append(
                Fieldset(
                    _("Blood-thinning medicine"),
                    "anticoagulants",
                    "other_medicine",
                    css_class="checklist-fieldset",
                )
            )
        else:
            del self.fields["anticoagulants"], self.fields["other_medicine"]
        if companion_details_apply(self.instance):
            self.fields["companion_phone"].widget.attrs.update(autocomplete="off")
            parts.append(
                Fieldset(
                    _("Someone to drive you home"),
                    "companion_name",
                    "companion_phone",
                    css_class="checklist-fieldset",
                )
            )
        else:
            del self.fields["companion_name"], self.fields["companion_phone"]
        self.helper.layout = Layout(*parts)

    def clean_companion_phone(self):
        value = self.cleaned_data.get("companion_phone", "")
        return normalise_phone(value) if value else value


class ReviewForm(forms.Form):
    """The last step: consent to processing health data, then send."""

    consent = forms.BooleanField(
        error_messages={
            "required": _(
                "Please tick the box to allow us to process your health information. "
                "We cannot handle your request without it."
            ),
        },
    )
    consent_version = forms.IntegerField(widget=forms.HiddenInput)
    summary_names = {"consent": _("Consent")}

    def __init__(self, *args, consent_text: ConsentText, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        self.fields["consent"].label = self._consent_label()
        self.fields["consent_version"].initial = consent_text.pk
        self.consent_changed = bool(
            self.is_bound and self.data.get("consent_version") != str(consent_text.pk)
        )
        if self.consent_changed:
            # The consent text changed since the page was shown: ask again.
            self.data = self.data.copy()
            self.data["consent_version"] = str(consent_text.pk)
            self.data.pop("consent", None)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout("consent", "consent_version")

    def _consent_label(self):
        return in_own_language(self.consent_text, "text")

    def clean(self):
        cleaned = super().clean()
        if self.consent_changed:
            self.errors.pop("consent", None)
            self.add_error(
                "consent",
                _("The consent text has changed. Please read it and tick the box again."),
            )
        return cleaned

    error_summary = StepForm.error_summary


class NewLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("The address you gave when you asked for the appointment."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Please write your e-mail address."),
            "invalid": _("Please write a valid e-mail address, for example name@example.com."),
        },
    )
    summary_names: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "email", Submit("send", _("Send me a new link"), css_class="btn-lg")
        )

    error_summary = StepForm.error_summary


class CompanionForm(forms.ModelForm):
    summary_names = {"companion_confirmed": _("Companion")}

    class Meta:
        model = Booking
        fields = ["companion_confirmed", "companion_name", "companion_phone"]
        labels = CHECKLIST_LABELS
        help_texts = {"companion_name": _("Optional."), "companion_phone": _("Optional.")}
        widgets = {"companion_phone": PhoneInput}  # shown grouped: +45 22 33 44 55
        error_messages = {
            "companion_confirmed": {
                "required": _("Please tick the box to confirm that someone will come with you.")
            }
        }

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["companion_confirmed"].required = True
        self.fields["companion_phone"].widget.attrs.update(inputmode="tel")
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "companion_confirmed",
            "companion_name",
            "companion_phone",
            Submit("confirm_companion", _("Confirm"), css_class="btn-lg"),
        )

    def clean_companion_phone(self):
        value = self.cleaned_data.get("companion_phone", "")
        return normalise_phone(value) if value else value

    error_summary = StepForm.error_summary


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you cancel?"),
        max_length=1000,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "A few words help us. For example: I feel better, or the time does not suit me."
        ),
        error_messages={"required": _("Please write a few words about why you cancel.")},
    )
    summary_names: dict = {}

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "reason",
            Div(
                DangerSubmit("cancel", _("Cancel my appointment"), css_class="btn-lg"),
                css_class="form-actions",
            ),
        )

    error_summary = StepForm.error_summary


class PickTimeForm(forms.Form):
    """The "When" step for types where the patient picks one of the free times.

    The radios are drawn by templates/booking/includes/time_picker.html, grouped by
    day; the view checks that the value is one of the times offered right now.
    """

    time = forms.CharField(
        label=_("Time"),
        error_messages={"required": _("Please choose one of the times.")},
    )

    def error_summary(self) -> list[tuple[str, str, str]]:
        return [("time-picker", str(_("Time")), error) for error in self["time"].errors]
