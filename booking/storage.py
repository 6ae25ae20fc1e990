"""Private storage for patients' files: outside the public media, with no URL.

Patients' files (uploads, previews, renditions, reports) live in the storage named
"private" in settings.STORAGES: a local folder (PrivateStorage) by default, an S3
bucket (PrivateS3Storage) on several machines. They are read and written only
through the storage API, never by path, so both behave the same. Files are served
only by permission-checked views (booking/imaging/views.py), streamed from the
storage, or on one machine handed to nginx with X-Accel-Redirect after that check.

Files arriving, and the imaging worker's unpacked files, are on the local disk of
the machine that handles them (UPLOAD_INCOMING_DIR), never in the shared storage.
"""

import contextlib
import os
import posixpath
import shutil
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from storages.backends.s3 import S3Storage

INCOMING_DIR = "incoming"


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

    @property
    def file_permissions_mode(self):
        return 0o640

    @property
    def directory_permissions_mode(self):
        return 0o750


class PrivateS3Storage(S3Storage):
    """A private S3 bucket: objects are never given an address, signed or not.

    A presigned URL would let anyone holding it skip the permission check and the
    audit; the views stream each file from the bucket instead.
    """

    default_acl = "private"
    querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError("patients' files are served only by permission-checked views")


class _PrivateStorage(LazyObject):
    """storages["private"], looked up when first used (as Django's default_storage).

    Model fields keep this object, so they follow STORAGES as it is when files are
    used, not as it was when the models were imported.
    """

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _private._wrapped = empty


def private_storage():
    """The storage of patients' files (a callable, so migrations do not freeze a path)."""
    return _private


def incoming_dir() -> Path:
    """This machine's folder for files arriving and for the worker's unpacked files."""
    configured = settings.UPLOAD_INCOMING_DIR
    path = Path(configured) if configured else Path(settings.PRIVATE_STORAGE_ROOT) / INCOMING_DIR
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


class LocalFile(File):
    """A file on this machine's disk, given to a storage to keep.

    A local storage moves it into place with one rename (a reader never sees half
    a file); object storage streams it up in parts. Use it as a context manager.
    """

    def __init__(self, path):
        super().__init__(open(path, "rb"), name=os.path.basename(path))  # noqa: SIM115
        self.path = str(path)

    def temporary_file_path(self):
        return self.path


def store_local_file(storage, name: str, path, *, replace: bool = False) -> str:
    """Keep the local file at `path` in `storage` as `name`; returns the name stored.

    The local file is gone afterwards (moved, or copied and deleted). With `replace`,
    a file already stored under `name` is replaced (for names derived from others,
    such as renditions); otherwise a taken name gets a suffix.
    """
    try:
        if replace and storage.exists(name):
            storage.delete(name)
        with LocalFile(path) as content:
            return storage.save(name, content)
    finally:
        Path(path).unlink(missing_ok=True)


def store_bytes(storage, name: str, data: bytes, *, replace: bool = False) -> str:
    """Keep `data` in `storage` as `name`, written whole before anyone can read it."""
    with tempfile.NamedTemporaryFile(dir=incoming_dir(), suffix=".tmp", delete=False) as out:
        out.write(data)
    return store_local_file(storage, name, out.name, replace=replace)


def copy_to_local(storage, name: str, folder: Path) -> Path | None:
    """Stream the stored file `name` to a new file in the local `folder`; None if missing."""
    target = folder / ("stored" + posixpath.splitext(name)[1])
    try:
        with storage.open(name, "rb") as source, open(target, "xb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
    except FileNotFoundError:  # S3Storage raises it too for a missing key
        target.unlink(missing_ok=True)
        return None
    return target


def booking_folders(booking_id: int) -> tuple[str, str]:
    """The folders of one booking's files: its uploads and previews, and its renditions."""
    return (f"bookings/{booking_id}", f"renditions/{booking_id}")


def delete_booking_folders(storage, booking_id: int) -> int:
    """Delete whatever the booking's folders still hold; returns how many files went."""
    return sum(delete_folder(storage, folder) for folder in booking_folders(booking_id))


def delete_folder(storage, folder: str) -> int:
    """Delete every stored file under `folder` (and, on a disk, the empty folders)."""
    try:
        subfolders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = 0
    for sub in subfolders:
        deleted += delete_folder(storage, posixpath.join(folder, sub))
    for name in files:
        storage.delete(posixpath.join(folder, name))
        deleted += 1
    if isinstance(storage, FileSystemStorage):  # object stores have no folders to remove
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(storage.location, folder))
    return deleted


def make_work_dir(prefix: str) -> Path:
    """A private folder under incoming/ for one job's unpacked files.

    Its name carries this machine and process (`<prefix><host>-<pid>-<random>`), so
    `remove_abandoned_work_dirs` can tell a folder whose owner died.
    """
    host = socket.gethostname().replace("-", "_")[:40] or "host"
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{host}-{os.getpid()}-", dir=incoming_dir()))


def remove_abandoned_work_dirs(prefix: str, *, older_than: float) -> int:
    """Delete the work folders (see make_work_dir) whose owner is gone; returns how many.

    A folder is abandoned when its process on this machine no longer runs (a worker
    killed mid-job leaves patient files there), or, whatever machine made it, when it
    was last changed more than `older_than` seconds ago. Uploads arriving in
    incoming/ are never touched: only folders named with `prefix`.
    """
    host = socket.gethostname().replace("-", "_")[:40] or "host"
    removed = 0
    now = time.time()
    for entry in incoming_dir().iterdir():
        if not (entry.is_dir() and entry.name.startswith(prefix)):
            continue
        parts = entry.name[len(prefix) :].split("-")
        dead = False
        if len(parts) >= 3 and parts[0] == host and parts[1].isdigit():
            pid = int(parts[1])
            dead = pid != os.getpid() and not _running(pid)
        try:
            stale = now - entry.stat().st_mtime > older_than
        except OSError:
            continue
        if dead or stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
