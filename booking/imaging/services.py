"""The doctors' imaging review: the queue, the verdict, the audit and the window presets.

Every change goes through a function here, so the views stay thin and the tests can
call the same code. The image files themselves are made by booking/imaging/processing.py
(the processing, which also renders the window presets); this module only reads them and
deletes them when the retention period is over (purge_imaging).
"""

import logging
import posixpath
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from booking import tasks
from booking.checklist import MISSING, Item
from booking.imaging import dicom
from booking.models import (
    AppointmentType,
    Booking,
    ImagingAccess,
    ImagingReview,
    Instance,
    Report,
    Series,
    Study,
    Upload,
)
from booking.storage import delete_booking_folders, private_storage, store_bytes

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
#
# Every image carries the windows the processing found for it (Instance.presets, made by
# booking/imaging/dicom.py): the file's own windows, for CT the standard Hounsfield
# presets, and an automatic one; none for colour. The preview shows Instance.default_window;
# each other window was rendered by the processing and stored beside it (a rendition).


@dataclass(frozen=True)
class Preset:
    code: str
    label: str
    center: float | None  # None: a lookup table from the file (only its rendition shows it)
    width: float | None
    function: str = "LINEAR"


def _preset(item: dict) -> Preset:
    return Preset(
        str(item.get("code", "")),
        str(item.get("label", "")),
        item.get("center"),
        item.get("width"),
        str(item.get("function") or "LINEAR"),
    )


def instance_presets(instance: Instance) -> list[Preset]:
    """The windows this image can be shown in, the one its preview shows among them."""
    return [_preset(item) for item in (instance.presets or []) if item.get("code")]


def preset_by_code(code: str) -> Preset:
    """A standard CT preset by its key (soft_tissue, bone, lung, brain, spine)."""
    for item in dicom.WINDOW_PRESETS:
        if item["key"] == code:
            return Preset(code, str(item["label"]), float(item["center"]), float(item["width"]))
    raise KeyError(code)


class RenderUnavailable(Exception):
    """The image has no stored copy in that window (a colour image, an older upload...)."""


def rendition_path(booking_id: int, preview_name: str, code: str) -> str:
    """Where the worker stores a frame's image in a preset's window (beside no URL).

    Named after the frame's preview, so the worker can store it before the Instance
    row exists; purge_imaging deletes renditions/<booking>/ with the rest.
    """
    stem = posixpath.splitext(posixpath.basename(preview_name))[0]
    return f"renditions/{booking_id}/{stem}-{code}.png"


def rendition_name(instance: Instance, preset) -> str:
    code = preset.code if isinstance(preset, Preset) else str(preset)
    return rendition_path(instance.series.study.booking_id, instance.preview.name, code)


def store_rendition(name: str, png: bytes) -> str:
    """Write a rendition made by the processing (booking/imaging/processing.py); returns `name`.

    Its name is derived from the preview's, so a rendition written again replaces
    the one before; a reader never sees half a file (booking.storage.store_bytes).
    """
    return store_bytes(private_storage(), name, png, replace=True)


def shown_code(instance: Instance, code: str) -> str:
    """The window actually shown for `code`: itself when stored, else the preview's."""
    if not code or code == "default" or code == instance.default_window:
        return instance.default_window
    try:
        rendition(instance, code)
    except RenderUnavailable:
        return instance.default_window
    return code


def rendition(instance: Instance, code) -> str:
    """The storage name of the instance's image in the window `code` (a code or a Preset).

    The preview itself for its own window ("default" names it too). The others were
    rendered by the processing, in its sandboxed child; the web process never decodes a
    patient's file, so a window that was not rendered raises RenderUnavailable and the
    viewer shows the preview.
    """
    code = code.code if isinstance(code, Preset) else str(code or "")
    if not code or code == "default" or code == instance.default_window:
        return instance.preview.name
    if code not in {p.code for p in instance_presets(instance)} and instance.presets:
        raise RenderUnavailable(code)
    name = rendition_name(instance, code)
    if not instance.preview.name or not private_storage().exists(name):
        raise RenderUnavailable(name)
    return name


def rendition_names(instance: Instance) -> list[str]:
    """Every stored rendition of this image (for a rerun or the purge)."""
    if not instance.preview.name:
        return []
    return [
        rendition_name(instance, preset.code)
        for preset in instance_presets(instance)
        if preset.code != instance.default_window
    ]


# --- Whose scan it is --------------------------------------------------------------------
#
# The patient ID in the images is shown to doctors but never stored in the database
# (Danish IDs are often CPR numbers, which the product does not collect): the worker keeps
# it in a small file beside the renditions, which the purge deletes with them, and every
# page that shows it writes an ImagingAccess row.


def patient_id_path(study: Study) -> str:
    return f"renditions/{study.booking_id}/study-{study.pk}-patient-id.txt"


def store_patient_id(study: Study, patient_id: str) -> None:
    patient_id = "".join(ch for ch in patient_id if ch.isprintable()).strip()[:64]
    if patient_id:
        store_rendition(patient_id_path(study), patient_id.encode())


def patient_id(study: Study) -> str:
    name = patient_id_path(study)
    storage = private_storage()
    if not storage.exists(name):
        return ""
    with storage.open(name, "rb") as handle:
        return handle.read(200).decode("utf-8", "replace")


def identity_panels(booking: Booking, studies, *, user, ip_address=None) -> None:
    """Set study.match (a Comparison) and study.patient_id on each study; audit the IDs shown."""
    for study in studies:
        study.match = study.compare_with(booking)
        study.patient_id = patient_id(study)
        if study.patient_id:
            log_access(
                user=user,
                booking=booking,
                action=ImagingAccess.Action.IDENTITY,
                file_label=f"{booking.reference} · {_('patient ID of study')} "
                f"{study.study_date or '-'} {study.modality} {study}",
                ip_address=ip_address,
            )


def differing_studies(booking: Booking) -> list[Study]:
    return [study for study in booking.studies.all() if study.differs_from(booking)]


# --- Download all ------------------------------------------------------------------------


def study_originals(study: Study) -> list[tuple[Upload, str]]:
    """The original files of a study: (upload, path inside the zip or "") without repeats."""
    seen = {}
    rows = (
        Instance.objects.filter(series__study=study)
        .select_related("upload")
        .order_by("upload_id", "member")
        .distinct()
    )
    for instance in rows.only("upload", "member"):
        seen.setdefault((instance.upload_id, instance.member), instance.upload)
    for report in study.reports.select_related("upload"):
        seen.setdefault((report.upload_id, report.member), report.upload)
    return [(upload, member) for (_id, member), upload in seen.items()]


def write_study_zip(study: Study, out) -> int:
    """Write the study's original files into the binary file `out` as a zip; returns how many.

    Files inside an uploaded zip are copied entry by entry (never decoded), with the
    same byte limits as the processing (booking/safezip.py); their paths inside the
    CD are kept, so a DICOMDIR-less viewer can still group them.
    """
    import zipfile

    from booking import safezip

    written = 0
    names = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as target:
        by_upload = {}
        for upload, member in study_originals(study):
            by_upload.setdefault(upload.pk, (upload, []))[1].append(member)
        for upload, members in by_upload.values():
            if members == [""]:
                arcname = _unique(names, _safe_path(upload.original_name))
                with upload.file.open("rb") as source, target.open(arcname, "w") as dest:
                    while chunk := source.read(1024 * 1024):
                        dest.write(chunk)
                written += 1
                continue
            with upload.file.open("rb") as stored, zipfile.ZipFile(stored) as archive:
                wanted = set(members)
                for info in archive.infolist():
                    if info.filename not in wanted:
                        continue
                    wanted.discard(info.filename)  # a repeated name is copied once
                    arcname = _unique(names, _safe_path(info.filename))
                    with target.open(arcname, "w", force_zip64=True) as dest:
                        safezip.stream_member(
                            archive, info, dest.write, limit=safezip.max_member_bytes()
                        )
                    written += 1
    return written


def _safe_path(name: str) -> str:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts)[-200:] or "file"


def _unique(names: set, name: str) -> str:
    candidate, n = name, 1
    while candidate in names:
        n += 1
        candidate = f"{name}.{n}"
    names.add(candidate)
    return candidate


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
    identity_checked: bool = False,
) -> ImagingReview:
    """Store the doctor's verdict, update the checklist and tell the patient there is news.

    Approved: the imaging item is done. New imaging needed or not suitable: the item
    shows as not done (the patient is asked for images again; the private page shows
    the doctor's advice), and the booking returns to the queue when new files arrive.
    `scan_study` is the study whose date decides if the scan is too old on the day
    (None: the newest study); it must be one of the booking's own, and not one whose
    patient differs from the booking's. When any study's patient differs, the doctor
    must say they checked it (`identity_checked`).
    """
    if verdict not in Verdict.values:
        raise ValueError(f"Unknown verdict: {verdict!r}")
    if scan_study is not None and scan_study.booking_id != booking.pk:
        raise ValueError("The study that counts must be one of the booking's studies.")
    if scan_study is not None and scan_study.differs_from(booking):
        raise ValueError("A study of another patient never sets the scan's date.")
    if differing_studies(booking) and not identity_checked:
        raise ValueError("A study's patient differs from the booking: confirm it was checked.")
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
        names += [
            n for n in (instance.preview.name, instance.thumbnail.name, instance.raw.name) if n
        ]
        names += [
            rendition_path(booking.pk, instance.preview.name, preset.code)
            for preset in instance_presets(instance)
            if instance.preview.name and preset.code != instance.default_window
        ]
    for study in Study.objects.filter(booking=booking):
        names.append(patient_id_path(study))
    for report in Report.objects.filter(booking=booking):
        names += [n for n in (report.document.name, report.preview.name) if n]
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
        "reports": Report.objects.filter(booking=booking).count(),
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
    # Whatever else the booking's folders hold (a rendition of a window no longer
    # offered, a file whose row was lost when a worker died) goes too.
    deleted += delete_booking_folders(storage, booking.pk)
    counts["files"] = deleted
    return counts


def patient_context(booking: Booking, items: list[Item]) -> dict:
    """For the patient's private page: the checklist after the verdict, and the advice."""
    review = latest_review(booking)
    return {
        "items": patient_checklist(booking, items),
        "imaging_advice": review if review and review.advice_for_patient else None,
    }
