"""What processing found in the uploads (studies, series, images) and doctors' verdicts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.bookings import Booking
from booking.models.uploads import Upload
from booking.storage import private_storage
from clinic.models import validate_plain_text


class Study(models.Model):
    """A DICOM study found in a booking's uploads (a CD holds one or more)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="studies")
    study_uid = models.CharField(_("study UID"), max_length=64)
    study_date = models.DateField(_("study date"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=16, blank=True)
    body_part = models.CharField(_("body part"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Whose scan it is, as the images say (booking/imaging/identity.py compares it with the
    # booking). The patient ID is never kept here: Danish IDs are often CPR numbers.
    patient_name = models.CharField(
        _("name in the images"),
        max_length=200,
        blank=True,
        help_text=_(
            "Formatted from the DICOM patient name, decoded with the file's character set."
        ),
    )
    patient_birth_date = models.DateField(_("birth date in the images"), null=True, blank=True)
    patient_sex = models.CharField(_("sex in the images"), max_length=1, blank=True)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    charset_note = models.CharField(
        _("character set note"),
        max_length=200,
        blank=True,
        help_text=_("Set when the file stated no usable character set and a fallback was used."),
    )

    class Meta:
        ordering = ["-study_date", "pk"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        constraints = [
            models.UniqueConstraint(fields=["booking", "study_uid"], name="one_study_per_uid")
        ]

    def __str__(self):
        if self.description:
            return self.description
        return " ".join(part for part in (self.modality, str(_("study"))) if part)

    def identity(self):
        """What the images say about whose scan it is (booking/imaging/identity.py)."""
        from booking.imaging.identity import PatientIdentity, format_pn, split_pn

        family, given, pn = split_pn(self.patient_name)
        return PatientIdentity(
            name=format_pn(pn),
            family=family,
            given=given,
            birth_date=self.patient_birth_date,
            sex=self.patient_sex,
            institution=self.institution,
            study_date=self.study_date,
            study_description=self.description,
            charset_note=self.charset_note,
            pn=pn,
        )

    def compare_with(self, booking):
        """Is it the booking's patient? A Comparison: matches, differs or unknown."""
        from booking.imaging import identity

        return identity.compare(self.identity(), name=booking.name, birth_date=booking.birth_date)

    def differs_from(self, booking) -> bool:
        from booking.imaging import identity

        return self.compare_with(booking).state == identity.DIFFERS


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
        """The description, else "Series 3 (CT)": never the UID."""
        if self.description:
            return self.description
        if self.number is not None:
            label = _("Series %(number)d") % {"number": self.number}
        else:
            label = str(_("Series"))
        return f"{label} ({self.modality})" if self.modality else label


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
    # Where the image lies along the series' slice normal (mm), for anatomical order.
    slice_position = models.FloatField(_("position along the slice normal"), null=True, blank=True)
    acquisition = models.CharField(_("acquisition time"), max_length=32, blank=True)
    # The window the preview shows (booking/imaging/dicom.py), and every window the viewer
    # offers for this image: [{"code", "label", "center", "width", "function"}, ...].
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    default_window = models.CharField(_("window shown"), max_length=20, blank=True)
    presets = models.JSONField(_("windows"), default=list, blank=True)
    preview = models.FileField(_("preview"), max_length=300, storage=private_storage)
    thumbnail = models.FileField(
        _("thumbnail"), max_length=300, blank=True, storage=private_storage
    )
    # The modality values at preview size, 16 bits packed in a PNG's red and green, for the
    # viewer's free window/level in the browser: value = raw_offset + (R * 256 + G) * raw_scale.
    raw = models.FileField(
        _("values for the window"), max_length=300, blank=True, storage=private_storage
    )
    raw_offset = models.FloatField(default=0.0)
    raw_scale = models.FloatField(default=1.0)
    invert = models.BooleanField(_("shown inverted (MONOCHROME1)"), default=False)

    class Meta:
        ordering = ["instance_number", "frame", "pk"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self):
        return f"{self.series} #{self.instance_number or self.pk}"


class Report(models.Model):
    """A radiology report found in an upload: a structured report (SR) or a PDF.

    An SR is kept as readable lines; a PDF (an encapsulated-PDF DICOM or a PDF inside a
    zip) is kept as the document, with a preview of its first page when it could be made.
    """

    class Kind(models.TextChoices):
        SR = "sr", _("Structured report")
        PDF = "pdf", _("PDF report")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reports")
    study = models.ForeignKey(
        Study,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("study"),
    )
    upload = models.ForeignKey(
        Upload, on_delete=models.CASCADE, related_name="reports", verbose_name=_("file")
    )
    member = models.CharField(
        _("path in the zip"), max_length=500, blank=True, help_text=_("Empty for a plain file.")
    )
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    report_date = models.DateField(_("report date"), null=True, blank=True)
    lines = models.JSONField(
        _("text"),
        default=list,
        blank=True,
        help_text=_("A structured report's content: headings, text, codes and measurements."),
    )
    truncated = models.BooleanField(_("cut short"), default=False)
    document = models.FileField(_("document"), max_length=300, blank=True, storage=private_storage)
    preview = models.FileField(_("preview"), max_length=300, blank=True, storage=private_storage)
    note = models.JSONField(_("processing note"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self):
        return self.title or self.member or str(self.get_kind_display())


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
