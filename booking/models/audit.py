"""Records of who opened a booking and who viewed or downloaded a patient's file."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.bookings import Booking
from booking.models.imaging import Instance
from booking.models.uploads import Upload


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


class ImagingAccess(models.Model):
    """Every preview view and download of a patient's file: who, when, from where, what."""

    class Action(models.TextChoices):
        PREVIEW = "preview", _("Viewed a preview")
        DOWNLOAD = "download", _("Downloaded the original")
        IDENTITY = "identity", _("Saw the patient ID in the images")

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


class DataRightsRecord(models.Model):
    """Each export of a patient's data and each erasure of what is not the medical record.

    Holds the booking references and counts only, never the patient's details, so
    the record of an erasure does not keep what was erased.
    """

    class Action(models.TextChoices):
        EXPORT = "export", _("Exported the patient's data")
        ERASE = "erase", _("Erased what is not the medical record")

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
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
        help_text=_("The booking the export or erasure was started from, while it exists."),
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    references = models.TextField(
        _("bookings"), help_text=_("The references of every booking it covered.")
    )
    summary = models.TextField(_("what was done"), blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("patient data export or erasure")
        verbose_name_plural = _("patient data exports and erasures")
        permissions = [
            (
                "erase_patient_data",
                _("Can erase what is not the medical record (drafts, requests, messages)"),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_action_display()} · {self.references}"
