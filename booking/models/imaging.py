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
