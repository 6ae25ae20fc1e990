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
import posixpath
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

INCOMING_DIR = "incoming"
HEADER_BYTES = 512


# --- Storage ------------------------------------------------------------------


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage at settings.PRIVATE_STORAGE_ROOT with no public URL.

    The location is read from the settings on every use, so tests can point it at
    a temporary folder with the `settings` fixture.
    """

    @property
    def base_location(self):
        return settings.PRIVATE_STORAGE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None  # url() raises: files are served only by a permission-checked view


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of Upload.file (a callable, so migrations do not freeze a path)."""
    return _storage


def incoming_dir() -> Path:
    path = Path(settings.PRIVATE_STORAGE_ROOT) / INCOMING_DIR
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


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


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def clean_original_name(name: str) -> str:
    """The file's own name for display: no path parts, no control characters, ≤ 255 chars."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _WINDOWS_DRIVE.sub("", name)
    # Control, format (e.g. right-to-left override), surrogate and unassigned characters.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if not name:
        name = _("unnamed file")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and 0 < len(ext) <= 10
        name = f"{stem[: 254 - len(ext)]}.{ext}" if keep_ext else name[:255]
    return name


# --- Content sniffing ------------------------------------------------------------

# Value representations of DICOM's explicit-VR encoding.
_DICOM_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
    b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
}  # fmt: skip
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

EXTENSIONS = {
    "dicom": ".dcm",
    "zip": ".zip",
    "jpeg": ".jpg",
    "png": ".png",
    "heic": ".heic",
    "pdf": ".pdf",
}


def _looks_like_bare_dicom(head: bytes, size: int) -> bool:
    """A DICOM file without the 128-byte preamble (common on CDs): its first element
    is a little-endian tag of group 0x0002 (file meta) or 0x0008 (identifying)."""
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    element = int.from_bytes(head[2:4], "little")
    if group not in (0x0002, 0x0008) or element > 0x1FFF:
        return False
    if head[4:6] in _DICOM_VRS:  # explicit VR
        return True
    length = int.from_bytes(head[4:8], "little")  # implicit VR: a 32-bit length
    return length == 0xFFFFFFFF or 8 + length <= size


def sniff_kind(head: bytes, size: int) -> str | None:
    """The Upload.Kind of a file from its first bytes, or None when not allowed."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "heic"
    if _looks_like_bare_dicom(head, size):
        return "dicom"
    return None


# --- Checks by kind ---------------------------------------------------------------


@dataclass
class ZipSummary:
    entries: int = 0
    total_bytes: int = 0
    nested_archives: list[str] = field(default_factory=list)


_NESTED_ARCHIVE = re.compile(r"\.(zip|7z|rar|tar|tgz|gz|bz2|xz|iso)$", re.IGNORECASE)


def _unsafe_member(name: str) -> bool:
    path = name.replace("\\", "/")
    if path.startswith("/") or _WINDOWS_DRIVE.match(path) or "\x00" in path:
        return True
    normal = posixpath.normpath(path)
    return normal == ".." or normal.startswith("../")


def check_zip(path: Path) -> ZipSummary:
    """Read the central directory only (nothing is unpacked) and refuse unsafe zips.

    Raises ValueError with the patient-facing reason.
    """
    summary = ZipSummary()
    compressed = 0
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        logger.info("zip refused as damaged: %s", exc)
        raise ValueError(_("the zip file is damaged or incomplete.")) from exc
    if len(infos) > settings.ZIP_MAX_ENTRIES:
        raise ValueError(
            _("the zip file holds more than %(count)d files.") % {"count": settings.ZIP_MAX_ENTRIES}
        )
    for info in infos:
        if _unsafe_member(info.filename):
            raise ValueError(_("the zip file holds a path that points outside its folder."))
        if info.flag_bits & 0x1:
            raise ValueError(_("the zip file is protected by a password."))
        if info.is_dir():
            continue
        summary.entries += 1
        summary.total_bytes += info.file_size
        compressed += info.compress_size
        if _NESTED_ARCHIVE.search(info.filename):
            summary.nested_archives.append(info.filename)
    if summary.total_bytes > settings.ZIP_MAX_TOTAL_BYTES:
        raise ValueError(
            _("unpacked, the zip file would take more than %(size)s.")
            % {"size": filesizeformat(settings.ZIP_MAX_TOTAL_BYTES)}
        )
    if summary.total_bytes > max(compressed, 1) * settings.ZIP_MAX_RATIO:
        raise ValueError(
            _("the zip file unpacks to far more than its own size, which scan images never do.")
        )
    return summary


def check_image(path: Path, kind: str) -> None:
    """Cheap integrity check of a JPEG/PNG (truncated or garbage data → ValueError).

    PNG: Pillow's verify() reads every chunk and checks its CRC. JPEG: decoded at
    1/8 scale (draft mode), which reads all the data but uses little memory.
    Image.MAX_IMAGE_PIXELS stays on: a decompression bomb raises too.
    """
    from PIL import Image

    damaged = _("the image is damaged or incomplete.")
    try:
        with Image.open(path) as image:
            expected = {"jpeg": "JPEG", "png": "PNG"}[kind]
            if image.format != expected:
                raise ValueError(damaged)
            if kind == "png":
                image.verify()
            else:
                image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except ValueError:
        raise
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, bombs...)
        logger.info("image refused as damaged: %s", exc)
        raise ValueError(damaged) from exc


def check_pdf(path: Path, size: int) -> None:
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise ValueError(_("the PDF file is damaged or incomplete."))


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
    from booking.models import Upload

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
        from booking.imaging import enqueue_processing  # imaging imports this module

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
