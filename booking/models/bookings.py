"""Appointment types, blood-thinning medicines and bookings with their checklist.

A booking starts as a draft while the patient goes through the request flow
(uploads are kept on the draft as they arrive), becomes "requested" when sent,
and "confirmed" when staff give it a practitioner and a time.
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.i18n import site_languages
from clinic.models import ConsentText, Practitioner, validate_plain_text
from conditions.models import Condition

# A scan more than this many calendar years old on the appointment day usually has
# to be redone (booking/checklist.py: scan_too_old).
SCAN_MAX_AGE_YEARS = 2


class AppointmentType(models.Model):
    """What is booked; decides which checklist items apply."""

    class Imaging(models.TextChoices):
        REQUIRED = "required", _("Required")
        OPTIONAL = "optional", _("Optional")
        NOT_NEEDED = "not_needed", _("Not needed")

    name = models.CharField(_("name"), max_length=120, validators=[validate_plain_text])
    description = models.TextField(
        _("description"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("Shown to patients when they choose what to book."),
    )
    instructions = models.TextField(
        _("instructions for the patient"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("What the patient should know or do before this appointment."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=30, help_text=_("How long the practitioner is busy.")
    )
    requestable_online = models.BooleanField(_("can be requested online"), default=True)
    imaging = models.CharField(
        _("X-ray or scan images"),
        max_length=12,
        choices=Imaging.choices,
        default=Imaging.NOT_NEEDED,
    )
    asks_about_blood_thinners = models.BooleanField(
        _("ask about blood thinners"),
        default=False,
        help_text=_("Tick for treatments where blood-thinning medicine must be paused."),
    )
    companion_required = models.BooleanField(
        _("companion required"),
        default=False,
        help_text=_("Tick when the patient must bring someone who can drive them home."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    # Scheduling (booking/scheduling.py)
    class BookingMode(models.TextChoices):
        REQUEST_PERIOD = "period", _("The patient asks for a period; staff find a time")
        PICK_TENTATIVE = "tentative", _("The patient picks a time that staff confirm")
        PICK_CONFIRMED = "instant", _("The patient picks a time, confirmed at once")

    booking_mode = models.CharField(
        _("how patients book it"),
        max_length=10,
        choices=BookingMode.choices,
        default=BookingMode.REQUEST_PERIOD,
        help_text=_(
            "Picking a time needs practitioners with working hours. A patient can always "
            "ask for a period instead."
        ),
    )
    practitioners = models.ManyToManyField(
        Practitioner,
        blank=True,
        related_name="appointment_types",
        verbose_name=_("practitioners who perform it"),
        help_text=_(
            "Free times are offered for these practitioners. When several are chosen, the "
            "patient gets the first one free at the time they pick."
        ),
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("free time before (minutes)"),
        default=0,
        help_text=_("Kept free before the appointment, e.g. to prepare the room."),
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        _("free time after (minutes)"),
        default=0,
        help_text=_("Kept free after the appointment, e.g. for notes or cleaning."),
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"),
        default=24,
        help_text=_("The earliest time offered online is at least this many hours ahead."),
    )
    max_weeks_ahead = models.PositiveSmallIntegerField(
        _("booked at most (weeks ahead)"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(104)],
        help_text=_("Times are offered online up to this many weeks ahead."),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")

    def __str__(self):
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def patient_picks_time(self) -> bool:
        return self.booking_mode != self.BookingMode.REQUEST_PERIOD

    @property
    def has_checklist(self) -> bool:
        return (
            self.imaging != self.Imaging.NOT_NEEDED
            or self.asks_about_blood_thinners
            or self.companion_required
        )


def language_codes(value: str) -> list[str]:
    """The language codes in a stored list such as "da,en" (empty: none)."""
    return [code for code in value.split(",") if code]


def validate_language_codes(value: str) -> None:
    unknown = [code for code in language_codes(value) if code not in site_languages()]
    if unknown:
        raise ValidationError(
            _("Unknown language code: %(codes)s."), params={"codes": ", ".join(unknown)}
        )


class AnticoagulantQuerySet(models.QuerySet):
    def for_language(self, code: str):
        """The medicines the booking form in language `code` lists: those naming it, or none."""
        return self.filter(
            models.Q(languages="")
            | models.Q(languages=code)
            | models.Q(languages__startswith=f"{code},")
            | models.Q(languages__endswith=f",{code}")
            | models.Q(languages__contains=f",{code},")
        )


class Anticoagulant(models.Model):
    """A blood-thinning medicine, with the pause a doctor usually agrees.

    Brand names are never translated: each country's brand is its own entry with its
    own usual pause (Marcumar, used in Germany, is not Marevan), and `languages` says
    which languages' booking forms list it.
    """

    brand = models.CharField(_("brand name"), max_length=80, help_text=_("E.g. Eliquis."))
    substance = models.CharField(
        _("active substance"), max_length=80, help_text=_("E.g. apixaban.")
    )
    default_pause_days = models.PositiveSmallIntegerField(
        _("usual pause (days)"),
        help_text=_(
            "Days without the medicine before treatment that a doctor usually agrees. "
            "Only a suggestion: the doctor sets the plan for each patient."
        ),
    )
    active = models.BooleanField(_("offered in the list"), default=True)
    languages = models.CharField(
        _("listed in the languages"),
        max_length=50,
        blank=True,
        default="",
        validators=[validate_language_codes],
        help_text=_(
            "The booking forms that list the medicine: tick the languages of the patients who "
            "know it by this name (each country has its own brands; the English pages are for "
            "patients in Denmark). None ticked: listed in every language."
        ),
    )

    objects = AnticoagulantQuerySet.as_manager()

    class Meta:
        ordering = ["brand"]
        verbose_name = _("blood-thinning medicine")
        verbose_name_plural = _("blood-thinning medicines")

    def __str__(self):
        return f"{self.brand} ({self.substance})"

    @property
    def language_codes(self) -> list[str]:
        return language_codes(self.languages)


def new_reference() -> str:
    """A short reference a patient can read out on the phone, e.g. 'K7QF-3M2P'."""
    alphabet = "ACDEFHJKMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I/L, 5/S, 8/B)
    chars = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


class BookingQuerySet(models.QuerySet):
    def drafts(self):
        return self.filter(status=Booking.Status.DRAFT)

    def sent(self):
        return self.exclude(status=Booking.Status.DRAFT)

    def stale_drafts(self, now=None):
        """Drafts nobody has touched for DRAFT_IDLE_HOURS: no answer saved, no file added."""
        cutoff = (now or timezone.now()) - timedelta(hours=settings.DRAFT_IDLE_HOURS)
        return self.drafts().filter(updated_at__lt=cutoff).exclude(uploads__uploaded_at__gte=cutoff)

    def confirmed(self):
        return self.filter(status=Booking.Status.CONFIRMED)

    def tentative(self):
        return self.filter(status=Booking.Status.TENTATIVE)

    def claiming(self, now=None):
        """Bookings that take a practitioner's time: confirmed, tentative, and live holds."""
        now = now or timezone.now()
        return self.filter(claim_starts_at__isnull=False).exclude(
            status=Booking.Status.DRAFT, hold_expires_at__lte=now
        )


class Booking(models.Model):
    """A patient's appointment request, its checklist and, once confirmed, its time."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not sent yet")
        REQUESTED = "requested", _("Requested")
        TENTATIVE = "tentative", _("Time picked, to be confirmed")
        CONFIRMED = "confirmed", _("Confirmed")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Did not come")

    class TimeOfDay(models.TextChoices):
        ANY = "any", _("Any time")
        MORNING = "morning", _("Morning")
        AFTERNOON = "afternoon", _("Afternoon")

    class ImagingStatus(models.TextChoices):
        UPLOADED = "uploaded", _("I upload the images now")
        RADIOLOGY_WILL_SEND = "radiology", _("The radiology department will send them")
        NO_SCAN_YET = "no_scan", _("I do not have a scan yet")

    class Modality(models.TextChoices):
        XRAY = "xray", _("X-ray")
        CT = "ct", _("CT scan")
        MR = "mr", _("MR scan")
        OTHER = "other", _("Other or don't know")

    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        DONT_KNOW = "dont_know", _("I don't know")

    # Identity and access
    reference = models.CharField(
        _("reference"), max_length=9, unique=True, default=new_reference, editable=False
    )
    access_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # "Status", not the lowercase "status": that one is the label of the published
    # content's status, translated as "publication status".
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )

    # What
    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("appointment type"),
    )
    condition = models.ForeignKey(
        Condition,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("condition"),
    )
    painful_area = models.CharField(
        _("where it hurts"), max_length=200, blank=True, validators=[validate_plain_text]
    )

    # When the patient can come
    earliest_date = models.DateField(_("earliest date"), null=True, blank=True)
    latest_date = models.DateField(_("latest date"), null=True, blank=True)
    weekdays = models.JSONField(
        _("weekdays"), default=list, blank=True, help_text=_("0 is Monday, 4 is Friday.")
    )
    time_of_day = models.CharField(
        _("time of day"), max_length=10, choices=TimeOfDay.choices, default=TimeOfDay.ANY
    )
    time_wishes = models.CharField(
        _("other wishes about the time"),
        max_length=300,
        blank=True,
        validators=[validate_plain_text],
    )

    # The patient (no CPR number online: the clinic takes it at the visit)
    name = models.CharField(_("name"), max_length=120, blank=True, validators=[validate_plain_text])
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=30, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="da"
    )
    message = models.TextField(
        _("message"), max_length=3000, blank=True, validators=[validate_plain_text]
    )

    # Consent to process health data
    consent_given_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_text = models.ForeignKey(
        ConsentText,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent text"),
    )

    # Checklist: imaging
    imaging_status = models.CharField(
        _("images"), max_length=10, choices=ImagingStatus.choices, blank=True
    )
    scan_date = models.DateField(_("date of the scan"), null=True, blank=True)
    scan_body_area = models.CharField(
        _("area scanned"), max_length=120, blank=True, validators=[validate_plain_text]
    )
    scan_modality = models.CharField(
        _("kind of scan"), max_length=10, choices=Modality.choices, blank=True
    )
    imaging_reviewed = models.BooleanField(_("images reviewed by a doctor"), default=False)

    # Checklist: blood thinners
    takes_blood_thinners = models.CharField(
        _("takes blood-thinning medicine"), max_length=10, choices=Answer.choices, blank=True
    )
    anticoagulants = models.ManyToManyField(
        Anticoagulant, blank=True, related_name="bookings", verbose_name=_("medicines")
    )
    other_medicine = models.CharField(
        _("other medicine"),
        max_length=200,
        blank=True,
        validators=[validate_plain_text],
        help_text=_("A blood thinner that is not in the list, in the patient's words."),
    )
    last_dose_date = models.DateField(_("last day to take it"), null=True, blank=True)
    restart_date = models.DateField(_("day to start again"), null=True, blank=True)
    plan_prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan prepared by"),
    )
    plan_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan agreed by (doctor)"),
    )
    plan_agreed_at = models.DateTimeField(_("plan agreed"), null=True, blank=True)
    plan_instructions = models.TextField(
        _("the doctor's instructions"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("Shown to the patient with the plan, in the doctor's own words."),
    )
    plan_read_at = models.DateTimeField(
        _("plan read by the patient"),
        null=True,
        blank=True,
        help_text=_("When the patient confirmed on the private page that they have read the plan."),
    )

    # Which scan's age counts (a doctor's choice); else the newest study, else scan_date.
    scan_study = models.ForeignKey(
        "booking.Study",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scan that counts"),
        help_text=_("The study whose date decides if the scan is too old on the day."),
    )

    # How the patient wants to hear from the clinic
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("Text message (SMS)")
        BOTH = "both", _("E-mail and text message")

    contact_channel = models.CharField(
        _("messages by"),
        max_length=5,
        choices=Channel.choices,
        default=Channel.EMAIL,
        help_text=_("How the patient wants messages about the booking."),
    )
    reminders_off = models.BooleanField(
        _("no reminders"),
        default=False,
        help_text=_(
            "The patient asked for no reminders. Messages about the plan and about a new "
            "time are still sent."
        ),
    )

    # Checklist: companion
    companion_confirmed = models.BooleanField(_("companion confirmed"), default=False)
    companion_name = models.CharField(
        _("companion's name"), max_length=120, blank=True, validators=[validate_plain_text]
    )
    companion_phone = models.CharField(_("companion's phone"), max_length=30, blank=True)

    # The confirmed time
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("practitioner"),
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    # The practitioner's time this booking takes, buffers included. Set for a held,
    # tentative or confirmed time, cleared when the time is given up; PostgreSQL
    # forbids two overlapping claims of one practitioner (migration 0006).
    claim_starts_at = models.DateTimeField(_("time taken from"), null=True, blank=True)
    claim_ends_at = models.DateTimeField(_("time taken until"), null=True, blank=True)
    hold_expires_at = models.DateTimeField(
        _("held until"),
        null=True,
        blank=True,
        help_text=_("A time picked by a patient who has not sent the request yet."),
    )
    # The .ics SEQUENCE: raised at every change of time, so calendars update the event.
    time_sequence = models.PositiveIntegerField(default=0, editable=False)
    # The waitlist: the patient would take an earlier time if one frees up.
    wants_earlier = models.BooleanField(
        _("wants an earlier time"),
        default=False,
        help_text=_("The patient is told by e-mail when an earlier time frees up."),
    )
    wants_earlier_since = models.DateTimeField(_("on the waitlist since"), null=True, blank=True)
    earlier_offered_at = models.DateTimeField(
        _("last told about an earlier time"), null=True, blank=True
    )

    cancel_reason = models.TextField(
        _("reason for cancelling"), blank=True, validators=[validate_plain_text]
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["access_key"])
    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        permissions = [
            ("agree_anticoagulant_plan", _("Can agree a blood-thinner plan (doctors)")),
        ]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"]),
            models.Index(fields=["practitioner", "claim_starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(claim_starts_at__isnull=True)
                | models.Q(
                    claim_ends_at__gt=models.F("claim_starts_at"), practitioner__isnull=False
                ),
                name="booking_claim_has_practitioner_and_end",
            ),
        ]

    def __str__(self):
        return self.reference

    def clean(self):
        super().clean()
        if self.earliest_date and self.latest_date and self.latest_date < self.earliest_date:
            raise ValidationError(
                {"latest_date": _("The latest date must be on or after the earliest date.")}
            )

    @property
    def plan_agreed(self) -> bool:
        return self.plan_agreed_at is not None

    @property
    def appointment_day(self):
        """The local day of the appointment, or None before a time is set."""
        return timezone.localdate(self.starts_at) if self.starts_at else None
