"""Files a patient (or staff) uploaded to a booking, kept in private storage."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.bookings import Booking
from booking.storage import private_storage


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

    # Processing (booking/imaging/processing.py): what was found in the file, or why it was refused.
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
    notes = models.JSONField(
        _("processing notes"),
        default=list,
        blank=True,
        help_text=_("The same notes as messages and parameters, translated when shown."),
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

    def note_lines(self) -> list[str]:
        """The processing notes in the active language (older uploads: the stored text)."""
        if self.notes:
            from booking.imaging.notes import Note

            return [str(Note.from_data(item)) for item in self.notes]
        return [line for line in self.processing_note.splitlines() if line.strip()]
