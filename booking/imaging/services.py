"""The doctors' imaging review: the queue, the verdict, the audit and the window presets.

Every change goes through a function here, so the views stay thin and the tests can
call the same code. The image files themselves are made by booking/imaging/processing.py
(the processing, which also renders the window presets); this module only reads them and
deletes them when the retention period is over (purge_imaging).
"""

import logging
import os
import posixpath
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from booking import tasks
from booking.checklist import MISSING, Item
from booking.imaging import dicom
from booking.models import (
    AppointmentType,
    Booking,
    ImagingAccess,
    ImagingReview,
    Instance,
    Series,
    Study,
    Upload,
)
from booking.storage import private_storage

logger = logging.getLogger(__name__)

Verdict = ImagingReview.Verdict
Status = Booking.Status

# --- The queue ------------------------------------------------------------------------

QUEUE_STATUSES = (Status.REQUESTED, Status.CONFIRMED)


def awaiting_review():
    """Sent, active bookings whose imaging waits for a doctor, soonest appointment first.

    Waiting means: not reviewed yet, the appointment type uses imaging, and either
    files are present that arrived after the latest review (or there is no review),
    or the radiology department will send them and nobody has reviewed yet.
    """
    bookings = (
        Booking.objects.filter(status__in=QUEUE_STATUSES, imaging_reviewed=False)
        .exclude(appointment_type__imaging=AppointmentType.Imaging.NOT_NEEDED)
        .select_related("appointment_type", "practitioner")
        .annotate(
            upload_count=Count("uploads", distinct=True),
            study_count=Count("studies", distinct=True),
            last_upload=Max("uploads__uploaded_at"),
            last_review=Max("reviews__created_at"),
        )
        .filter(
            Q(upload_count__gt=0, last_review__isnull=True)
            | Q(upload_count__gt=0, last_upload__gt=F("last_review"))
            | Q(imaging_status=Booking.ImagingStatus.RADIOLOGY_WILL_SEND, last_review__isnull=True)
        )
    )
    return sorted(bookings, key=queue_sort_key)


def appointment_day(booking: Booking) -> date | None:
    """The confirmed day, else the first day the patient can come."""
    return booking.appointment_day or booking.earliest_date


def queue_sort_key(booking: Booking):
    if booking.starts_at:
        when = booking.starts_at
    else:
        day = appointment_day(booking)
        when = timezone.make_aware(datetime.combine(day, time.min)) if day else None
    return (when is None, when or booking.created_at, booking.pk)


# --- Ages of studies ------------------------------------------------------------------------


def age_on(study_date: date | None, day: date | None) -> str:
    """'1 year 3 months on the day' (whole months; days only under a month)."""
    if not study_date or not day:
        return ""
    if day < study_date:
        return _("taken after the appointment day")
    months = (day.year - study_date.year) * 12 + (day.month - study_date.month)
    if day.day < study_date.day:
        months -= 1
    years, months = divmod(months, 12)
    parts = []
    if years:
        parts.append(ngettext("%(n)d year", "%(n)d years", years) % {"n": years})
    if months:
        parts.append(ngettext("%(n)d month", "%(n)d months", months) % {"n": months})
    if not parts:
        days = (day - study_date).days
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    return _("%(age)s on the day") % {"age": " ".join(parts)}


# --- Window presets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    code: str
    label: str
    center: float | None  # None: the file's own window (the pre-rendered preview)
    width: float | None


def window_presets() -> list[Preset]:
    """The file's own window first, then the standard CT presets of booking/imaging/dicom.py."""
    return [Preset("default", gettext_lazy("Default"), None, None)] + [
        Preset(p["key"], p["label"], float(p["center"]), float(p["width"]))
        for p in dicom.WINDOW_PRESETS
    ]


def preset_by_code(code: str) -> Preset:
    for preset in window_presets():
        if preset.code == code:
            return preset
    return window_presets()[0]


def presets_apply(modality: str) -> bool:
    """Hounsfield windows mean something for CT only."""
    return (modality or "").upper() == "CT"


class RenderUnavailable(Exception):
    """The windowed copy cannot be made (compressed pixel data, a missing file...)."""


def rendition_path(booking_id: int, preview_name: str, code: str) -> str:
    """Where the worker stores a frame's image in a preset's window (beside no URL).

    Named after the frame's preview, so the worker can store it before the Instance
    row exists; purge_imaging deletes renditions/<booking>/ with the rest.
    """
    stem = posixpath.splitext(posixpath.basename(preview_name))[0]
    return f"renditions/{booking_id}/{stem}-{code}.png"


def rendition_name(instance: Instance, preset: Preset) -> str:
    return rendition_path(instance.series.study.booking_id, instance.preview.name, preset.code)


def store_rendition(name: str, png: bytes) -> str:
    """Write a rendition made by the processing (booking/imaging/processing.py); returns `name`."""
    path = private_storage().path(name)
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    # A unique temporary name, then an atomic rename: a reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), suffix=".tmp", delete=False) as out:
        out.write(png)
    os.replace(out.name, path)
    return name


def rendition(instance: Instance, preset: Preset) -> str:
    """The storage name of the instance's image in `preset`'s window.

    The default preset is the processing's own preview. The others were rendered by
    the processing, in its sandboxed child, when the upload was processed; the web
    process never decodes a patient's file, so a preset that was not rendered
    (compressed pixel data it could not window, files processed before presets were
    stored) raises RenderUnavailable and the viewer shows the default preview.
    """
    if preset.center is None:
        return instance.preview.name
    name = rendition_name(instance, preset)
    if not instance.preview.name or not private_storage().exists(name):
        raise RenderUnavailable(name)
    return name


# --- The verdict -------------------------------------------------------------------------


def latest_review(booking: Booking) -> ImagingReview | None:
    return booking.reviews.order_by("-created_at", "-pk").first()


@transaction.atomic
def record_review(
    *,
    booking,
    doctor,
    verdict,
    note_for_clinic="",
    advice_for_patient="",
    scan_study: Study | None = None,
) -> ImagingReview:
    """Store the doctor's verdict, update the checklist and tell the patient there is news.

    Approved: the imaging item is done. New imaging needed or not suitable: the item
    shows as not done (the patient is asked for images again; the private page shows
    the doctor's advice), and the booking returns to the queue when new files arrive.
    `scan_study` is the study whose date decides if the scan is too old on the day
    (None: the newest study); it must be one of the booking's own.
    """
    if verdict not in Verdict.values:
        raise ValueError(f"Unknown verdict: {verdict!r}")
    if scan_study is not None and scan_study.booking_id != booking.pk:
        raise ValueError("The study that counts must be one of the booking's studies.")
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    review = ImagingReview(
        booking=booking,
        doctor=doctor,
        verdict=verdict,
        note_for_clinic=note_for_clinic or "",
        advice_for_patient=advice_for_patient or "",
    )
    review.full_clean()
    review.save()
    fields = ["imaging_reviewed", "scan_study", "updated_at"]
    booking.imaging_reviewed = verdict == Verdict.APPROVED
    booking.scan_study = scan_study
    if verdict != Verdict.APPROVED:
        booking.imaging_status = Booking.ImagingStatus.NO_SCAN_YET
        fields.append("imaging_status")
    booking.save(update_fields=fields)
    if booking.email:
        # Like the other booking e-mails: queued in the same transaction (no health details).
        tasks.send_booking_message(booking=booking, kind="news")
    return review


def patient_checklist(booking: Booking, items: list[Item]) -> list[Item]:
    """The checklist with the doctor's advice on the imaging item after a "not done" verdict.

    Only while no newer files have arrived (then the item says they were received).
    """
    review = latest_review(booking)
    if review is None or review.verdict == Verdict.APPROVED or booking.imaging_reviewed:
        return items
    last_upload = booking.uploads.aggregate(last=Max("uploaded_at"))["last"]
    if last_upload and last_upload > review.created_at:
        return items
    detail = review.advice_for_patient or _(
        "The doctor has looked at your images and needs new ones. We will contact you."
    )
    return [
        Item(item.code, item.title, MISSING, detail, item.warning)
        if item.code == "imaging"
        else item
        for item in items
    ]


# --- The audit ----------------------------------------------------------------------------


def file_label(*, booking, upload=None, instance=None, what="") -> str:
    """What was seen, in words that stay meaningful after the file is deleted."""
    if instance is not None:
        series = instance.series
        study = series.study
        label = (
            f"{booking.reference} · {study.study_date or '-'} {study.modality} "
            f"{study.description or study.study_uid} · {series.description or series.series_uid}"
            f" · #{instance.instance_number or instance.pk} ({upload.original_name})"
        )
    else:
        label = f"{booking.reference} · {upload.original_name}"
    if what:
        label += f" · {what}"
    return label[:300]


def log_access(*, user, booking, action, file_label, upload=None, instance=None, ip_address=None):
    """One row per preview view (thumbnails included) and per download. One INSERT."""
    return ImagingAccess.objects.create(
        user=user,
        booking=booking,
        upload=upload,
        instance=instance,
        file_label=file_label[:300],
        action=action,
        ip_address=ip_address or None,
    )


# --- Retention ----------------------------------------------------------------------------


def purgeable_bookings(days: int, now=None):
    """Completed or cancelled bookings untouched for more than `days` days with files.

    "Untouched" is the later of the appointment's end and the booking's last change,
    so any later edit postpones the purge (erring on keeping).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    return (
        Booking.objects.filter(status__in=(Status.COMPLETED, Status.CANCELLED))
        .filter(updated_at__lt=cutoff)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__lt=cutoff))
        .filter(Q(uploads__isnull=False) | Q(studies__isnull=False))
        .distinct()
        .order_by("pk")
    )


def booking_file_names(booking: Booking) -> list[str]:
    names = []
    for upload in Upload.objects.filter(booking=booking):
        names += [n for n in (upload.file.name, upload.preview.name) if n]
    for instance in Instance.objects.filter(series__study__booking=booking):
        names += [n for n in (instance.preview.name, instance.thumbnail.name) if n]
    return names


def purge_booking(booking: Booking) -> dict:
    """Delete the booking's files and Upload/Study/Series/Instance rows; keep the audit."""
    storage = private_storage()
    names = booking_file_names(booking)
    counts = {
        "uploads": Upload.objects.filter(booking=booking).count(),
        "studies": Study.objects.filter(booking=booking).count(),
        "series": Series.objects.filter(study__booking=booking).count(),
        "instances": Instance.objects.filter(series__study__booking=booking).count(),
    }
    with transaction.atomic():
        Study.objects.filter(booking=booking).delete()  # series and instances cascade
        Upload.objects.filter(booking=booking).delete()
    deleted = 0
    for name in names:
        try:
            if storage.exists(name):
                storage.delete(name)
                deleted += 1
        except OSError as exc:
            logger.warning("could not delete %s: %s", name, exc)
    renditions = posixpath.join("renditions", str(booking.pk))
    folder = storage.path(renditions)
    if os.path.isdir(folder):
        for entry in os.listdir(folder):
            os.unlink(os.path.join(folder, entry))
            deleted += 1
        os.rmdir(folder)
    counts["files"] = deleted
    return counts


def patient_context(booking: Booking, items: list[Item]) -> dict:
    """For the patient's private page: the checklist after the verdict, and the advice."""
    review = latest_review(booking)
    return {
        "items": patient_checklist(booking, items),
        "imaging_advice": review if review and review.advice_for_patient else None,
    }
