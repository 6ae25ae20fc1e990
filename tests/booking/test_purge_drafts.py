"""purge_drafts: drafts left unsent and untouched for DRAFT_IDLE_HOURS go, with their
files; nothing else."""

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from booking.models import Booking, Upload
from booking.storage import incoming_dir
from booking.uploads import save_upload
from tests.booking.factories import BookingFactory

pytestmark = pytest.mark.django_db


class Named(io.BytesIO):
    def __init__(self, name, data):
        super().__init__(data)
        self.name = name


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


def booking_with_file(status, idle_hours, *, file_hours=None, age_days=30):
    """A booking created `age_days` ago, last changed `idle_hours` ago, with one file
    uploaded `file_hours` ago (as long ago as the last change unless given)."""
    booking = BookingFactory(status=status)
    upload = save_upload(booking=booking, uploaded_file=Named("scan.png", png()))
    now = timezone.now()
    Booking.objects.filter(pk=booking.pk).update(
        created_at=now - timedelta(days=age_days), updated_at=now - timedelta(hours=idle_hours)
    )
    file_hours = idle_hours if file_hours is None else file_hours
    Upload.objects.filter(pk=upload.pk).update(uploaded_at=now - timedelta(hours=file_hours))
    return booking, Path(upload.file.path)


def test_purge_removes_old_drafts_and_their_files_only(capsys, storage):
    old_draft, old_file = booking_with_file(Booking.Status.DRAFT, 25)
    new_draft, new_file = booking_with_file(Booking.Status.DRAFT, 23)
    old_sent, sent_file = booking_with_file(Booking.Status.REQUESTED, 24 * 30)
    leftover = incoming_dir() / "interrupted"
    leftover.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(leftover, (two_days_ago, two_days_ago))

    call_command("purge_drafts")

    out = capsys.readouterr().out
    assert old_draft.reference in out
    assert "Removed 1 draft(s), 1 uploaded file(s), 1 interrupted upload(s)." in out
    assert not Booking.objects.filter(pk=old_draft.pk).exists()
    assert not Booking.history.filter(id=old_draft.pk).exists()
    assert not Upload.objects.filter(booking_id=old_draft.pk).exists()
    assert not old_file.exists() and not old_file.parent.exists()
    assert not leftover.exists()
    assert new_file.exists() and sent_file.exists()
    assert Booking.objects.filter(pk__in=[new_draft.pk, old_sent.pk]).count() == 2
    assert Upload.objects.count() == 2


def test_idle_time_counts_from_the_last_change_or_file_not_from_creation(storage):
    # Started a month ago but answered an hour ago: kept.
    answered, answered_file = booking_with_file(Booking.Status.DRAFT, 1, age_days=30)
    # No answer changed for two days, but a file arrived an hour ago: kept.
    uploading, uploading_file = booking_with_file(Booking.Status.DRAFT, 48, file_hours=1)
    # Nothing for 25 hours: goes.
    idle, idle_file = booking_with_file(Booking.Status.DRAFT, 25, age_days=1)

    call_command("purge_drafts", stdout=io.StringIO())

    assert set(Booking.objects.values_list("pk", flat=True)) == {answered.pk, uploading.pk}
    assert answered_file.exists() and uploading_file.exists()
    assert not idle_file.exists()


@pytest.mark.parametrize(("idle_hours", "purged"), [(47.9, False), (48.1, True)])
def test_the_idle_time_is_a_setting(settings, idle_hours, purged):
    settings.DRAFT_IDLE_HOURS = 48
    draft, _file = booking_with_file(Booking.Status.DRAFT, idle_hours)

    call_command("purge_drafts", stdout=io.StringIO())

    assert Booking.objects.filter(pk=draft.pk).exists() is not purged


def test_dry_run_removes_nothing(capsys):
    old_draft, old_file = booking_with_file(Booking.Status.DRAFT, 25)

    call_command("purge_drafts", "--dry-run")

    out = capsys.readouterr().out
    assert f"Would remove draft {old_draft.reference}" in out
    assert "Would remove 1 draft(s), 1 uploaded file(s)" in out
    assert Booking.objects.filter(pk=old_draft.pk).exists()
    assert old_file.exists()
