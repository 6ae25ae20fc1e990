"""Appointment types, bookings, the pre-treatment checklist and patients' uploads.

A booking starts as a draft while the patient goes through the request flow
(uploads are kept on the draft as they arrive), becomes "requested" when sent,
and "confirmed" when staff give it a practitioner and a time.
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from booking.uploads import private_storage
from clinic.models import ConsentText, Practitioner, validate_plain_text
from conditions.models import Condition

# A scan older than this on the appointment day usually has to be redone.
SCAN_MAX_AGE = timedelta(days=2 * 365)
DRAFT_LIFETIME = timedelta(days=7)


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
    def has_checklist(self) -> bool:
        return (
            self.imaging != self.Imaging.NOT_NEEDED
            or self.asks_about_blood_thinners
            or self.companion_required
        )


class Anticoagulant(models.Model):
    """A blood-thinning medicine, with the pause a doctor usually agrees."""

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

    class Meta:
        ordering = ["brand"]
        verbose_name = _("blood-thinning medicine")
        verbose_name_plural = _("blood-thinning medicines")

    def __str__(self):
        return f"{self.brand} ({self.substance})"


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
        now = now or timezone.now()
        return self.drafts().filter(created_at__lt=now - DRAFT_LIFETIME)

    def confirmed(self):
        return self.filter(status=Booking.Status.CONFIRMED)


class Booking(models.Model):
    """A patient's appointment request, its checklist and, once confirmed, its time."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not sent yet")
        REQUESTED = "requested", _("Requested")
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
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
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
        indexes = [models.Index(fields=["practitioner", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
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


class Upload(models.Model):
    """A file a patient (or staff) uploaded to a booking, kept in private storage."""

    class Kind(models.TextChoices):
        DICOM = "dicom", _("DICOM image")
        ZIP = "zip", _("Zipped CD")
        JPEG = "jpeg", _("JPEG photo")
        PNG = "png", _("PNG image")
        HEIC = "heic", _("HEIC photo")
        PDF = "pdf", _("PDF report")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="uploads")
    file = models.FileField(_("file"), max_length=300, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by staff member"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    # Processing (booking/imaging.py): what was found in the file, or why it was refused.
    class Processing(models.TextChoices):
        PENDING = "pending", _("Waiting to be processed")
        DONE = "done", _("Processed")
        PARTLY = "partly", _("Processed, some files refused")
        REFUSED = "refused", _("Refused")

    processing = models.CharField(
        _("processing"), max_length=10, choices=Processing.choices, default=Processing.PENDING
    )
    processing_note = models.TextField(
        _("processing note"),
        blank=True,
        help_text=_("Why a file (or a file inside a zip) could not be used, for staff."),
    )
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # A preview of a photo or the first page of a PDF (DICOM previews are per image).
    preview = models.FileField(_("preview"), max_length=300, blank=True, storage=private_storage)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")

    def __str__(self):
        return self.original_name


class BookingView(models.Model):
    """Each opening of a booking's page by staff: who, when."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-viewed_at"]
        verbose_name = _("booking opened by staff")
        verbose_name_plural = _("bookings opened by staff")

    def __str__(self):
        return f"{self.booking} · {self.user} · {self.viewed_at:%Y-%m-%d %H:%M}"


class Study(models.Model):
    """A DICOM study found in a booking's uploads (a CD holds one or more)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="studies")
    study_uid = models.CharField(_("study UID"), max_length=64)
    study_date = models.DateField(_("study date"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=16, blank=True)
    body_part = models.CharField(_("body part"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["-study_date", "pk"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        constraints = [
            models.UniqueConstraint(fields=["booking", "study_uid"], name="one_study_per_uid")
        ]

    def __str__(self):
        return self.description or self.study_uid


class Series(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="series")
    series_uid = models.CharField(_("series UID"), max_length=64)
    number = models.IntegerField(_("series number"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=16, blank=True)
    body_part = models.CharField(_("body part"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    image_count = models.PositiveIntegerField(_("number of images"), default=0)

    class Meta:
        ordering = ["number", "pk"]
        verbose_name = _("series")
        verbose_name_plural = _("series")
        constraints = [
            models.UniqueConstraint(fields=["study", "series_uid"], name="one_series_per_uid")
        ]

    def __str__(self):
        return self.description or self.series_uid


class Instance(models.Model):
    """One DICOM image (one frame of a multi-frame file) with its preview."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="instances")
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="instances")
    member = models.CharField(
        _("path in the zip"), max_length=500, blank=True, help_text=_("Empty for a plain file.")
    )
    sop_uid = models.CharField(_("SOP instance UID"), max_length=64, blank=True)
    instance_number = models.IntegerField(_("instance number"), null=True, blank=True)
    frame = models.PositiveIntegerField(_("frame"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    columns = models.PositiveIntegerField(_("columns"), default=0)
    # Default window from the file (or a percentile stretch), for the viewer's presets.
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    preview = models.FileField(_("preview"), max_length=300, storage=private_storage)
    thumbnail = models.FileField(
        _("thumbnail"), max_length=300, blank=True, storage=private_storage
    )

    class Meta:
        ordering = ["instance_number", "frame", "pk"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self):
        return f"{self.series} #{self.instance_number or self.pk}"


class ImagingReview(models.Model):
    """A doctor's verdict on a booking's imaging."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", _("Approved")
        NEW_IMAGING = "new_imaging", _("New imaging needed")
        NOT_SUITABLE = "not_suitable", _("Not suitable")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reviews")
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("doctor"),
    )
    verdict = models.CharField(_("verdict"), max_length=15, choices=Verdict.choices)
    note_for_clinic = models.TextField(
        _("note for the clinic"), blank=True, validators=[validate_plain_text]
    )
    advice_for_patient = models.TextField(
        _("advice for the patient"),
        blank=True,
        validators=[validate_plain_text],
        help_text=_("Shown on the patient's private page, e.g. which new scan to ask the GP for."),
    )
    created_at = models.DateTimeField(_("reviewed"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("imaging review")
        verbose_name_plural = _("imaging reviews")
        permissions = [("review_imaging", _("Can review imaging and see images (doctors)"))]

    def __str__(self):
        return f"{self.booking} · {self.get_verdict_display()}"


class ImagingAccess(models.Model):
    """Every preview view and download of a patient's file: who, when, from where, what."""

    class Action(models.TextChoices):
        PREVIEW = "preview", _("Viewed a preview")
        DOWNLOAD = "download", _("Downloaded the original")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    booking = models.ForeignKey(
        Booking,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("booking"),
    )
    upload = models.ForeignKey(
        Upload,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("file"),
    )
    instance = models.ForeignKey(
        Instance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )
    file_label = models.CharField(
        _("file"), max_length=300, help_text=_("Kept when the file itself is deleted.")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("image access")
        verbose_name_plural = _("image accesses")

    def __str__(self):
        return f"{self.user} · {self.get_action_display()} · {self.file_label}"
