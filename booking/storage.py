"""Private storage for patients' files: outside the public media folder, no URL.

Files here are served only by permission-checked views (booking/imaging/views.py)
or handed to nginx with X-Accel-Redirect after that check (docs/imaging.md).
"""

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

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


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of Upload.file (a callable, so migrations do not freeze a path)."""
    return _storage


def incoming_dir() -> Path:
    path = Path(settings.PRIVATE_STORAGE_ROOT) / INCOMING_DIR
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


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
