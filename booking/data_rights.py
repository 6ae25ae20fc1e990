"""A patient's data rights: export everything held about them, erase what is not the record.

A patient is recognised by the e-mail address on their bookings (case-insensitive):
the export and the erasure cover every booking with the same address, drafts
included. A booking without an address stands alone.

**Export** (`export_chunks`): a zip streamed as it is written (stream-zip), with one
folder per booking holding its answers as JSON (every field, its label and what the
admin shows), its history, the messages planned and sent (kind, channel, times,
status; their words are not stored), who opened it and who viewed its images, the
doctors' reviews, the blood-thinner plan, phone calls, earlier exports and erasures,
and every uploaded file under its original name.

**Erasure** (`erase_plan`, `erase`): the clinic must keep the medical record (Danish
journalføringspligt, 10 years), so only what is not part of it goes:
- drafts, and requests that never led to an appointment: sent but never confirmed
  (requested, a time picked but not confirmed, or cancelled before a time was
  confirmed) and with no clinical work on them (no imaging review, no blood-thinner
  plan). Such a booking is deleted with its files and its history;
- message rows of bookings that have ended. An open booking keeps its rows: a row
  that was sent is what stops the same message being planned and sent again;
- the waitlist (wanting an earlier time), in the booking and in its history.
Everything else is kept, and the page says why.

Both are recorded (DataRightsRecord), with references and counts only.
"""

import json
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stream_zip import ZIP_AUTO, stream_zip

from booking.imaging.services import booking_file_names
from booking.models import (
    Booking,
    BookingView,
    ImagingAccess,
    ImagingReview,
    PhoneTask,
    PlanLine,
    PlannedMessage,
    Study,
    Upload,
)
from booking.models.audit import DataRightsRecord
from booking.storage import booking_folders, delete_folder, private_storage

Status = Booking.Status

# The zip holds the patient's images, which only doctors may see (Reception sees the
# verdict, never the images), so exporting needs both permissions.
EXPORT_PERMISSIONS = ("booking.view_booking", "booking.review_imaging")
ERASE_PERMISSION = "booking.erase_patient_data"

# Statuses that mean an appointment was agreed: the booking is part of the record.
APPOINTMENT_STATUSES = (Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)
ENDED_STATUSES = (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW)
# The secret in the patient's private link: a key, not data about the patient.
NOT_EXPORTED_FIELDS = {"access_key"}
WAITLIST_FIELDS = {"wants_earlier": False, "wants_earlier_since": None, "earlier_offered_at": None}

RECORD_DUTY = gettext_lazy(
    "The clinic must keep the patient's medical record for at least 10 years after the "
    "last entry (the Danish duty to keep records, journalføringspligt). A booking that led "
    "to an appointment, or on which a doctor reviewed images or made a blood-thinner plan, "
    "is part of that record and cannot be erased here, even when the patient asks. What is "
    "not part of the record is erased: drafts, requests that never led to an appointment, "
    "the messages sent about bookings that have ended, and the waitlist."
)

CHUNK_SIZE = 64 * 1024
FILE_MODE = stat.S_IFREG | 0o600


def can_export(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(EXPORT_PERMISSIONS)


def can_erase(user) -> bool:
    """Superusers, and anyone given the erase permission by hand (no group has it)."""
    return user.is_active and user.is_staff and user.has_perm(ERASE_PERMISSION)


def patient_bookings(booking: Booking) -> list[Booking]:
    """This booking and every other with the same e-mail address, oldest first."""
    if not booking.email:
        return [booking]
    return list(
        Booking.objects.filter(Q(pk=booking.pk) | Q(email__iexact=booking.email))
        .select_related("appointment_type", "practitioner", "condition")
        .order_by("created_at", "pk")
    )


# --- Export ---------------------------------------------------------------------------


def plain(value):
    """A value as JSON can hold it: local times, dates as ISO text, objects as text."""
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _field_entry(obj: models.Model, model_field) -> dict:
    entry = {"label": str(model_field.verbose_name)}
    if model_field.many_to_many:
        entry["value"] = [str(item) for item in getattr(obj, model_field.name).all()]
        return entry
    if model_field.is_relation:
        related = getattr(obj, model_field.name)
        entry["value"] = str(related) if related is not None else None
        return entry
    value = getattr(obj, model_field.attname)
    entry["value"] = plain(value)
    if model_field.choices and value not in (None, ""):
        entry["shown_as"] = str(getattr(obj, f"get_{model_field.name}_display")())
    return entry


def record_fields(obj: models.Model, skip: Iterable[str] = ()) -> dict:
    """Every concrete and many-to-many field of a row: {name: {label, value[, shown_as]}}."""
    skip = set(skip)
    fields = {}
    for model_field in [*obj._meta.concrete_fields, *obj._meta.many_to_many]:
        if model_field.name in skip:
            continue
        fields[model_field.name] = _field_entry(obj, model_field)
    return fields


def booking_data(booking: Booking) -> dict:
    return {
        "reference": booking.reference,
        "exported_at": plain(timezone.now()),
        "fields": record_fields(booking, skip=NOT_EXPORTED_FIELDS),
    }


def booking_history(booking: Booking) -> list[dict]:
    """Every saved version, oldest first: who, when, and what changed from the one before."""
    labels = {}
    for model_field in Booking._meta.concrete_fields:
        labels[model_field.name] = labels[model_field.attname] = str(model_field.verbose_name)
    versions = list(booking.history.order_by("history_date", "history_id"))
    entries, previous = [], None
    for version in versions:
        entry = {
            "when": plain(version.history_date),
            "by": str(version.history_user) if version.history_user_id else None,
            "what": {"+": "created", "~": "changed", "-": "deleted"}.get(
                version.history_type, version.history_type
            ),
            "reason": version.history_change_reason or None,
        }
        if previous is None:
            entry["values"] = {
                name: {"label": labels.get(name, name), "value": plain(getattr(version, name))}
                for name in (f.attname for f in version.instance_type._meta.concrete_fields)
                if hasattr(version, name) and name not in NOT_EXPORTED_FIELDS
            }
        else:
            delta = version.diff_against(previous)
            entry["changes"] = [
                {
                    "field": change.field,
                    "label": labels.get(change.field, change.field),
                    "from": plain(change.old),
                    "to": plain(change.new),
                }
                for change in delta.changes
                if change.field not in NOT_EXPORTED_FIELDS
            ]
        entries.append(entry)
        previous = version
    return entries


def _rows(queryset, fields: Iterable[str]) -> list[dict]:
    fields = list(fields)
    return [
        {name: _field_entry(row, row._meta.get_field(name)) for name in fields} for row in queryset
    ]


MESSAGE_FIELDS = ("kind", "channel", "about_date", "due_at", "status", "attempts", "sent_at",
                  "created_at")  # fmt: skip


def booking_sections(booking: Booking) -> dict[str, object]:
    """Each JSON file of a booking's folder in the export, by file name."""
    return {
        "booking.json": booking_data(booking),
        "history.json": booking_history(booking),
        "messages.json": _rows(
            PlannedMessage.objects.filter(booking=booking).order_by("due_at", "pk"),
            MESSAGE_FIELDS,
        ),
        "staff-views.json": {
            "opened_by_staff": _rows(
                BookingView.objects.filter(booking=booking)
                .select_related("user")
                .order_by("viewed_at", "pk"),
                ("user", "viewed_at", "ip_address"),
            ),
            "images_viewed_or_downloaded": _rows(
                ImagingAccess.objects.filter(booking=booking)
                .select_related("user")
                .order_by("at", "pk"),
                ("user", "action", "file_label", "at", "ip_address"),
            ),
        },
        "imaging-reviews.json": _rows(
            ImagingReview.objects.filter(booking=booking)
            .select_related("doctor")
            .order_by("created_at", "pk"),
            ("doctor", "verdict", "note_for_clinic", "advice_for_patient", "created_at"),
        ),
        "studies.json": _rows(
            Study.objects.filter(booking=booking).order_by("study_date", "pk"),
            ("study_uid", "study_date", "modality", "body_part", "description"),
        ),
        "blood-thinner-plan.json": _rows(
            PlanLine.objects.filter(booking=booking).select_related("anticoagulant"),
            [f.name for f in PlanLine._meta.concrete_fields if f.name not in ("id", "booking")],
        ),
        "phone-calls.json": _rows(
            PhoneTask.objects.filter(booking=booking).select_related("done_by"),
            ("reason", "created_at", "done_at", "done_by"),
        ),
        "exports-and-erasures.json": _rows(
            DataRightsRecord.objects.filter(booking=booking).select_related("user"),
            ("user", "action", "references", "summary", "at"),
        ),
    }


def safe_name(name: str) -> str:
    """A file name from the patient, safe as one zip entry name (no folders, no controls)."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in name)
    name = re.sub(r"[\\/:]+", "_", name).strip(" .")
    name = re.sub(r"\.{2,}", ".", name)
    return name[:200] or "file"


def _file_chunks(name: str) -> Iterator[bytes]:
    with private_storage().open(name, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _json_member(path: str, data, modified: datetime):
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return path, modified, FILE_MODE, ZIP_AUTO(len(body)), (body,)


def _members(bookings: list[Booking]):
    now = timezone.localtime()
    for booking in bookings:
        folder = booking.reference
        uploads = list(Upload.objects.filter(booking=booking).order_by("uploaded_at", "pk"))
        storage = private_storage()
        listing = []
        present = []
        for number, upload in enumerate(uploads, start=1):
            entry_name = f"{folder}/files/{number:03d} {safe_name(upload.original_name)}"
            exists = bool(upload.file) and storage.exists(upload.file.name)
            listing.append(
                {
                    "original_name": upload.original_name,
                    "in_this_zip": entry_name if exists else None,
                    "note": None if exists else "The file itself is no longer stored.",
                    **{
                        name: _field_entry(upload, Upload._meta.get_field(name))
                        for name in (
                            "kind",
                            "size",
                            "uploaded_at",
                            "uploaded_by",
                            "processing",
                            "processing_note",
                        )  # fmt: skip
                    },
                }
            )
            if exists:
                present.append((entry_name, upload))
        for name, data in booking_sections(booking).items():
            yield _json_member(f"{folder}/{name}", data, now)
        yield _json_member(f"{folder}/files.json", listing, now)
        for entry_name, upload in present:
            yield (
                entry_name,
                timezone.localtime(upload.uploaded_at),
                FILE_MODE,
                # Images are mostly compressed already: fast compression is enough.
                ZIP_AUTO(upload.file.size, level=1),
                _file_chunks(upload.file.name),
            )


def export_chunks(bookings: list[Booking]) -> Iterator[bytes]:
    """The zip of these bookings, as bytes produced while it is sent."""
    return stream_zip(_members(bookings))


def export_filename(booking: Booking) -> str:
    return f"patient-data-{booking.reference}-{timezone.localdate():%Y-%m-%d}.zip"


def record_export(
    *, booking: Booking, bookings: list[Booking], user, ip_address
) -> DataRightsRecord:
    files = Upload.objects.filter(booking__in=bookings).count()
    return DataRightsRecord.objects.create(
        user=user,
        booking=booking,
        action=DataRightsRecord.Action.EXPORT,
        references=", ".join(b.reference for b in bookings),
        summary=f"{len(bookings)} booking(s), {files} uploaded file(s)",
        ip_address=ip_address or None,
    )


# --- Erasure ---------------------------------------------------------------------------


def record_reason(booking: Booking) -> str | None:
    """Why this booking is part of the medical record, or None when it is not."""
    if booking.status == Status.DRAFT:
        return None
    if (
        booking.status in APPOINTMENT_STATUSES
        or Booking.history.filter(id=booking.pk, status__in=APPOINTMENT_STATUSES).exists()
    ):
        return _("It led to an appointment.")
    if ImagingReview.objects.filter(booking=booking).exists():
        return _("A doctor reviewed its images.")
    if (
        booking.plan_prepared_by_id
        or booking.plan_agreed_at
        or PlanLine.objects.filter(booking=booking).exists()
    ):
        return _("A blood-thinner plan was made for it.")
    return None


def erasable_reason(booking: Booking) -> str:
    if booking.status == Status.DRAFT:
        return _("A draft the patient never sent.")
    return _("A request that never led to an appointment.")


@dataclass
class ErasePlan:
    """What an erasure removes and what it keeps, booking by booking."""

    delete: list[tuple[Booking, str]] = field(default_factory=list)
    keep: list[tuple[Booking, str]] = field(default_factory=list)
    # Kept bookings whose message rows go (ended) or stay (still open), with counts.
    messages: list[tuple[Booking, int]] = field(default_factory=list)
    messages_kept: list[tuple[Booking, int]] = field(default_factory=list)
    waitlist: list[Booking] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.delete or self.messages or self.waitlist)


def on_waitlist(booking: Booking) -> bool:
    return bool(booking.wants_earlier or booking.wants_earlier_since or booking.earlier_offered_at)


def erase_plan(bookings: list[Booking]) -> ErasePlan:
    plan = ErasePlan()
    for booking in bookings:
        reason = record_reason(booking)
        if reason is None:
            plan.delete.append((booking, erasable_reason(booking)))
            continue
        plan.keep.append((booking, reason))
        count = PlannedMessage.objects.filter(booking=booking).count()
        if count:
            ended = booking.status in ENDED_STATUSES
            (plan.messages if ended else plan.messages_kept).append((booking, count))
        if (
            on_waitlist(booking)
            or Booking.history.filter(
                Q(wants_earlier=True)
                | Q(wants_earlier_since__isnull=False)
                | Q(earlier_offered_at__isnull=False),
                id=booking.pk,
            ).exists()
        ):
            plan.waitlist.append(booking)
    return plan


def delete_bookings(bookings: Iterable[Booking]) -> list[str]:
    """Delete these bookings and their history; returns the names of their stored files,
    to be removed once the transaction has committed."""
    names = []
    with transaction.atomic():
        for booking in bookings:
            names += booking_file_names(booking)
            # Then whatever else the booking's folders hold (see delete_files).
            names += [f"{folder}/" for folder in booking_folders(booking.pk)]
            pk = booking.pk
            booking.delete()
            Booking.history.filter(id=pk).delete()
    return names


def delete_files(names: Iterable[str]) -> int:
    """Delete these stored files; a name ending in "/" is a folder, emptied."""
    storage = private_storage()
    removed = 0
    for name in names:
        if name.endswith("/"):
            removed += delete_folder(storage, name.rstrip("/"))
        elif storage.exists(name):
            storage.delete(name)
            removed += 1
    return removed


def clear_waitlist(booking_ids: Iterable[int]) -> int:
    """Take these bookings off the waitlist, and out of the waitlist in their history."""
    booking_ids = list(booking_ids)
    Booking.history.filter(id__in=booking_ids).update(**WAITLIST_FIELDS)
    # A plain update: clearing the waitlist is not a change that postpones other purges.
    return Booking.objects.filter(pk__in=booking_ids).update(**WAITLIST_FIELDS)


def erase(
    *, booking: Booking, bookings: list[Booking], delete_ids: set[int], user, ip_address
) -> DataRightsRecord:
    """Erase what the plan shows, recomputed now: a booking is deleted only if it was shown
    for deletion (`delete_ids`) and is still not part of the record."""
    references = ", ".join(b.reference for b in bookings)
    with transaction.atomic():
        plan = erase_plan(bookings)
        doomed = [b for b, _reason in plan.delete if b.pk in delete_ids]
        message_ids = [b.pk for b, _count in plan.messages]
        messages = PlannedMessage.objects.filter(booking_id__in=message_ids).delete()[0]
        waitlisted = clear_waitlist(b.pk for b in plan.waitlist)
        summary = (
            f"Deleted {len(doomed)} booking(s) that are not the record"
            f"{': ' if doomed else ''}{', '.join(b.reference for b in doomed)}; "
            f"deleted {messages} message row(s); cleared the waitlist of {waitlisted} booking(s)."
        )
        start_deleted = booking.pk in {b.pk for b in doomed}
        names = delete_bookings(doomed)
        record = DataRightsRecord.objects.create(
            user=user,
            booking=None if start_deleted else booking,
            action=DataRightsRecord.Action.ERASE,
            references=references,
            summary=f"{summary} {sum(not n.endswith('/') for n in names)} stored file(s) removed.",
            ip_address=ip_address or None,
        )
    delete_files(names)
    return record


# --- Retention (manage.py purge_records) -------------------------------------------------


def ended_before(cutoff: datetime):
    """Bookings that ended (completed, cancelled, did not come) and were last touched,
    and whose appointment ended, before `cutoff`."""
    return Booking.objects.filter(status__in=ENDED_STATUSES, updated_at__lt=cutoff).filter(
        Q(ends_at__isnull=True) | Q(ends_at__lt=cutoff)
    )


def days_ago(days: int, now=None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)
