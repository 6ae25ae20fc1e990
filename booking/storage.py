"""Private storage for patients' files: outside the public media folder, no URL.

Files here are served only by permission-checked views (booking/imaging/views.py)
or handed to nginx with X-Accel-Redirect after that check (docs/imaging.md).
"""

import os
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
