"""Patients' uploads: private storage, a streaming upload handler and validation.

Files are streamed in chunks to this machine's incoming folder (booking.storage.
incoming_dir) while the request arrives (never held whole in memory, never in the
public media), checked by their content (the name and the browser's content type are
not trusted), and kept in the private storage under a random name in
``bookings/<pk>/`` (moved on one machine's disk, streamed to an S3 bucket).

Limits (settings, each with an environment override; see docs/uploads.md):
UPLOAD_MAX_FILE_BYTES, UPLOAD_MAX_FILES_PER_BOOKING, ZIP_MAX_TOTAL_BYTES,
ZIP_MAX_RATIO, ZIP_MAX_ENTRIES. Until it is sent, a draft holds at most
DRAFT_MAX_BYTES and DRAFT_MAX_FILES (counted from the Upload rows' sizes), and no
file is taken while the private storage's disk has less than UPLOAD_MIN_FREE_BYTES free.

A CD's viewer program (programs, autorun and settings files, a web viewer) and the
files a computer adds to folders are left out without a refusal (NotNeeded, judged by
booking.filetypes.left_out_as); the upload view says once how many were left out.

Decoding (DICOM pixel data, previews, unpacking zips) comes later and applies its
own limits while it reads (booking/safezip.py, booking/imaging/dicom.py): the zip
check here reads the index and the local headers (overlapping entries are refused)
but cannot know what a member really unpacks to.
"""

import io
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.db import transaction
from django.db.models import Count, Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from booking.filetypes import (
    EXTENSIONS,
    HEADER_BYTES,
    VIEWER_PROGRAM,
    check_image,
    check_pdf,
    check_zip,
    clean_original_name,
    left_out_as,
    sniff_kind,
)
from booking.imaging.processing import enqueue_processing
from booking.models import Booking, Upload
from booking.storage import incoming_dir, private_storage, store_local_file

logger = logging.getLogger(__name__)

# --- Errors and names -----------------------------------------------------------


class UploadRejected(Exception):
    """A file was refused; `message` names the file and says why, in the active language."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        self.message = _("%(name)s was not accepted: %(reason)s") % {
            "name": name,
            "reason": reason,
        }
        super().__init__(self.message)


class NotNeeded(UploadRejected):
    """A file not kept because nothing in it is needed: no refusal, so no red line.

    `why` is booking.filetypes.VIEWER_PROGRAM (part of a CD's viewer program) or
    SYSTEM_FILE (Thumbs.db, .DS_Store...). The patient's upload says once how many
    files of the viewer were left out (booking/upload_views.py). It is an
    UploadRejected so that callers which only know refusals (the admin's "add
    files") still say that the file was not kept, and why.
    """

    def __init__(self, name: str, why: str):
        self.why = why
        if why == VIEWER_PROGRAM:
            reason = _("it belongs to the CD's viewer program, which is not needed.")
        else:
            reason = _("it is a file the computer adds to folders, which is not needed.")
        super().__init__(name, reason)


def refusal_reason_for_type() -> str:
    return _(
        "this kind of file cannot be sent here. Send DICOM files, a zipped CD, "
        "JPEG, PNG or HEIC photos, or PDF reports."
    )


def too_large_reason() -> str:
    return _("the file is larger than %(size)s.") % {
        "size": filesizeformat(settings.UPLOAD_MAX_FILE_BYTES)
    }


def too_many_reason() -> str:
    return _("a booking can hold at most %(count)d files.") % {
        "count": settings.UPLOAD_MAX_FILES_PER_BOOKING
    }


def draft_full_reason(room: "Room") -> str:
    if room.files is not None and room.files <= 0:
        limit = ngettext(
            "a request can hold at most %(count)d file until it is sent.",
            "a request can hold at most %(count)d files until it is sent.",
            settings.DRAFT_MAX_FILES,
        ) % {"count": settings.DRAFT_MAX_FILES}
    else:
        limit = _("a request can hold at most %(size)s of files until it is sent.") % {
            "size": filesizeformat(settings.DRAFT_MAX_BYTES)
        }
    return (
        limit
        + " "
        + _(
            "The files we have received are kept. You can send more from your booking's "
            "page once your request is sent."
        )
    )


def disk_full_reason() -> str:
    return _("we cannot receive files just now. Please try again later, or call us.")


# --- Room for more files: the draft's quota and the free disk ---------------------------


@dataclass(frozen=True)
class Room:
    """What a booking may still take; None where there is no limit (a sent booking)."""

    bytes: int | None = None
    files: int | None = None

    def takes(self, size: int) -> bool:
        return (self.files is None or self.files > 0) and (self.bytes is None or size <= self.bytes)


def room_for(booking) -> Room:
    """A draft's quota left, counted from its uploads' recorded sizes (not the disk)."""
    if booking.status != Booking.Status.DRAFT:
        return Room()
    used = booking.uploads.aggregate(size=Sum("size"), files=Count("pk"))
    return Room(
        bytes=settings.DRAFT_MAX_BYTES - (used["size"] or 0),
        files=settings.DRAFT_MAX_FILES - used["files"],
    )


def disk_is_low() -> bool:
    """True when the incoming folder's disk has less than UPLOAD_MIN_FREE_BYTES free."""
    return shutil.disk_usage(incoming_dir()).free < settings.UPLOAD_MIN_FREE_BYTES


# --- Incoming files and the streaming handler -----------------------------------------


class IncomingFile(UploadedFile):
    """A file streamed to the incoming folder; opened only when read.

    Keeping it closed between the upload and save_upload() means a request with
    hundreds of files does not hold hundreds of open file descriptors.
    """

    def __init__(self, path, name, content_type, size, charset, content_type_extra=None):
        super().__init__(None, name, content_type, size, charset, content_type_extra)
        self.path = str(path)

    def temporary_file_path(self):
        return self.path

    def open(self, mode="rb"):
        self.file = open(self.path, mode)  # noqa: SIM115 - closed by close()
        return self

    def read(self, *args):
        if self.closed:
            self.open()
        return self.file.read(*args)

    def chunks(self, chunk_size=None):
        if self.closed:
            self.open()
        return super().chunks(chunk_size)

    def close(self):
        if self.file is not None:
            self.file.close()

    def discard(self):
        self.close()
        Path(self.path).unlink(missing_ok=True)


class StreamingUploadHandler(FileUploadHandler):
    """Writes each file straight to the incoming folder, chunk by chunk.

    A file over UPLOAD_MAX_FILE_BYTES is cut off as soon as it passes the limit
    (its partial copy deleted, the rest of it read and thrown away) and noted in
    `refused`; the other files of the request go on. So is a file that would take
    the booking past its `room` (the draft's quota, less what this request brought
    so far), and every file while the disk is low. Every temporary path is kept in
    `paths`, so the view can delete what was not saved, whatever happened.
    """

    chunk_size = 256 * 1024
    # While a file streams in, the free disk is checked again after this many bytes.
    disk_check_bytes = 64 * 1024 * 1024

    def __init__(self, request=None, room: Room | None = None):
        super().__init__(request)
        self.refused: list[tuple[str, str]] = []
        self.paths: list[str] = []
        self.file = None
        self.path = None
        self.max_bytes = settings.UPLOAD_MAX_FILE_BYTES
        self.room = room or Room()
        self.taken_bytes = 0
        self.taken_files = 0

    def _room_left(self) -> Room:
        room = self.room
        return Room(
            bytes=None if room.bytes is None else room.bytes - self.taken_bytes,
            files=None if room.files is None else room.files - self.taken_files,
        )

    def _refuse_before_writing(self, reason: str):
        self.refused.append((clean_original_name(self.file_name), reason))
        # Django closes `file` when a file is skipped; nothing was opened for this one.
        self.file = io.BytesIO()
        raise SkipFile

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.written = 0
        if disk_is_low():
            self._refuse_before_writing(disk_full_reason())
        if not self._room_left().takes(0):
            self._refuse_before_writing(draft_full_reason(self._room_left()))
        self.path = str(incoming_dir() / secrets.token_hex(16))
        self.paths.append(self.path)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        self.file = os.fdopen(fd, "wb")
        raise StopFutureHandlers  # Django's memory/temporary-file handlers stay idle

    def receive_data_chunk(self, raw_data, start):
        step = self.disk_check_bytes
        crossed_step = self.written // step != (self.written + len(raw_data)) // step
        self.written += len(raw_data)
        reason = None
        if self.written > self.max_bytes:
            reason = too_large_reason()
        elif not self._room_left().takes(self.written):
            reason = draft_full_reason(self._room_left())
        elif crossed_step and disk_is_low():
            reason = disk_full_reason()
        if reason is not None:
            self.file.close()
            os.unlink(self.path)
            self.refused.append((clean_original_name(self.file_name), reason))
            raise SkipFile
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.close()
        self.taken_bytes += file_size
        self.taken_files += 1
        return IncomingFile(
            self.path,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )

    def discard_leftovers(self):
        """Delete every temporary file of this request that was not moved into place."""
        if self.file is not None:
            self.file.close()
        for path in self.paths:
            Path(path).unlink(missing_ok=True)


# --- Saving -------------------------------------------------------------------------


def _spool(uploaded_file) -> str:
    """A path under incoming/ holding the file's bytes (copied there unless already)."""
    incoming = incoming_dir()
    path = getattr(uploaded_file, "temporary_file_path", None)
    if path is not None:
        path = os.path.abspath(path())
        if os.path.dirname(path) in (str(incoming), str(incoming.resolve())):
            return path
    copy = incoming / secrets.token_hex(16)
    limit = settings.UPLOAD_MAX_FILE_BYTES
    written = 0
    with open(copy, "xb") as out:
        chunks = uploaded_file.chunks() if hasattr(uploaded_file, "chunks") else None
        for chunk in chunks or File(uploaded_file).chunks():
            out.write(chunk[: limit + 1 - written])
            written += len(chunk)
            if written > limit:
                break  # one byte over is enough to refuse it
    return str(copy)


def save_upload(*, booking, uploaded_file, user=None):
    """Check one uploaded file and keep it on the booking; returns the Upload.

    Raises UploadRejected (message in the active language, naming the file) when
    the file is not accepted, or its subclass NotNeeded for a file left out quietly
    (a CD's viewer program); its temporary copy is then deleted. A DICOMDIR (the
    CD's index) is DICOM by content and so accepted like any other DICOM file.
    """
    name = clean_original_name(uploaded_file.name)
    path = _spool(uploaded_file)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES)
        kind = sniff_kind(head, size) if size else None
        why = left_out_as(uploaded_file.name, head, kind)
        if why is not None:
            raise NotNeeded(name, why)
        if size == 0:
            raise UploadRejected(name, _("the file is empty."))
        if size > settings.UPLOAD_MAX_FILE_BYTES:
            raise UploadRejected(name, too_large_reason())
        if booking.uploads.count() >= settings.UPLOAD_MAX_FILES_PER_BOOKING:
            raise UploadRejected(name, too_many_reason())
        if kind is None:
            raise UploadRejected(name, refusal_reason_for_type())
        nested = []
        try:
            if kind in ("jpeg", "png"):
                check_image(Path(path), kind)
            elif kind == "pdf":
                check_pdf(Path(path), size)
            elif kind == "zip":
                nested = check_zip(Path(path)).nested_archives
        except ValueError as exc:  # its message is a Note: str() puts it into words now
            raise UploadRejected(name, str(exc)) from exc

        # Kept first (a move on one machine's disk, a streamed upload to object
        # storage), then counted: the booking's row is not locked while a big file
        # travels. A file the room cannot take is deleted again.
        storage = private_storage()
        stored = store_local_file(
            storage, f"bookings/{booking.pk}/{secrets.token_urlsafe(18)}{EXTENSIONS[kind]}", path
        )
        try:
            with transaction.atomic():
                # The booking's row is locked while its room is counted and the file
                # added, so simultaneous uploads cannot together pass the draft's quota.
                locked = Booking.objects.select_for_update().get(pk=booking.pk)
                room = room_for(locked)
                if not room.takes(size):
                    raise UploadRejected(name, draft_full_reason(room))
                upload = Upload.objects.create(
                    booking=booking,
                    file=stored,
                    original_name=name,
                    size=size,
                    kind=kind,
                    uploaded_by=user if user is not None and user.is_authenticated else None,
                )
        except BaseException:
            storage.delete(stored)
            raise
        upload.nested_archives = nested
        if nested:
            logger.warning(
                "upload %s (booking %s) holds nested archives, not followed: %s",
                upload.pk,
                booking.pk,
                ", ".join(nested[:10]),
            )
        # Decoding, grouping into studies and previews run in the background.
        enqueue_processing(upload)
        return upload
    finally:
        Path(path).unlink(missing_ok=True)  # refused, or kept by now
        if isinstance(uploaded_file, IncomingFile):
            uploaded_file.close()


def delete_upload_files(uploads) -> list[str]:
    """Delete the stored files of these Upload rows; returns the names removed."""
    storage = private_storage()
    removed = []
    for upload in uploads:
        if upload.file and storage.exists(upload.file.name):
            storage.delete(upload.file.name)
            removed.append(upload.file.name)
    return removed
