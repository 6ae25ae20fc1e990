"""Patients' uploads: private storage, a streaming upload handler and validation.

Files are streamed in chunks to ``PRIVATE_STORAGE_ROOT/incoming`` while the request
arrives (never held whole in memory, never written under MEDIA_ROOT), checked by
their content (the name and the browser's content type are not trusted), and moved
with ``os.replace`` to a random name under ``PRIVATE_STORAGE_ROOT/bookings/<pk>/``.

Limits (settings, each with an environment override; see docs/uploads.md):
UPLOAD_MAX_FILE_BYTES, UPLOAD_MAX_FILES_PER_BOOKING, ZIP_MAX_TOTAL_BYTES,
ZIP_MAX_RATIO, ZIP_MAX_ENTRIES.

Decoding (DICOM pixel data, previews, unpacking zips) comes later and must apply
its own limits while it reads: the zip check here trusts the central directory.
"""

import logging
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from booking.filetypes import (
    EXTENSIONS,
    HEADER_BYTES,
    check_image,
    check_pdf,
    check_zip,
    clean_original_name,
    sniff_kind,
)
from booking.imaging.processing import enqueue_processing
from booking.models import Upload
from booking.storage import incoming_dir, private_storage

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


# --- Incoming files and the streaming handler -----------------------------------------


class IncomingFile(UploadedFile):
    """A file streamed to PRIVATE_STORAGE_ROOT/incoming; opened only when read.

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
    """Writes each file straight to PRIVATE_STORAGE_ROOT/incoming, chunk by chunk.

    A file over UPLOAD_MAX_FILE_BYTES is cut off as soon as it passes the limit
    (its partial copy deleted, the rest of it read and thrown away) and noted in
    `refused`; the other files of the request go on. Every temporary path is kept
    in `paths`, so the view can delete what was not saved, whatever happened.
    """

    chunk_size = 256 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.refused: list[tuple[str, str]] = []
        self.paths: list[str] = []
        self.file = None
        self.path = None
        self.max_bytes = settings.UPLOAD_MAX_FILE_BYTES

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.written = 0
        self.path = str(incoming_dir() / secrets.token_hex(16))
        self.paths.append(self.path)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        self.file = os.fdopen(fd, "wb")
        raise StopFutureHandlers  # Django's memory/temporary-file handlers stay idle

    def receive_data_chunk(self, raw_data, start):
        self.written += len(raw_data)
        if self.written > self.max_bytes:
            self.file.close()
            os.unlink(self.path)
            self.refused.append((clean_original_name(self.file_name), too_large_reason()))
            raise SkipFile
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.close()
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
    the file is not accepted; its temporary copy is then deleted.
    """
    name = clean_original_name(uploaded_file.name)
    path = _spool(uploaded_file)
    moved = False
    try:
        size = os.path.getsize(path)
        if size == 0:
            raise UploadRejected(name, _("the file is empty."))
        if size > settings.UPLOAD_MAX_FILE_BYTES:
            raise UploadRejected(name, too_large_reason())
        if booking.uploads.count() >= settings.UPLOAD_MAX_FILES_PER_BOOKING:
            raise UploadRejected(name, too_many_reason())
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES)
        kind = sniff_kind(head, size)
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
        except ValueError as exc:
            raise UploadRejected(name, str(exc)) from exc

        stored = f"bookings/{booking.pk}/{secrets.token_urlsafe(18)}{EXTENSIONS[kind]}"
        storage = private_storage()
        target = Path(storage.path(stored))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        os.replace(path, target)
        moved = True
        os.chmod(target, settings.FILE_UPLOAD_PERMISSIONS or 0o640)
        try:
            upload = Upload.objects.create(
                booking=booking,
                file=stored,
                original_name=name,
                size=size,
                kind=kind,
                uploaded_by=user if user is not None and user.is_authenticated else None,
            )
        except Exception:
            target.unlink(missing_ok=True)
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
        if not moved:
            Path(path).unlink(missing_ok=True)
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
