"""manage.py purge_imaging: dry run by default, --apply deletes old bookings' images only."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from booking.imaging.services import log_access, record_review
from booking.models import Booking, ImagingAccess, ImagingReview, Instance, Series, Study, Upload
from tests.booking.factories import BookingFactory
from tests.booking.test_review_access import make_imaging
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_RETENTION_DAYS = None
    return settings.PRIVATE_STORAGE_ROOT


def files_of(root: Path, booking) -> list[Path]:
    folder = root / "bookings" / str(booking.pk)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def aged(booking, days):
    Booking.objects.filter(pk=booking.pk).update(updated_at=timezone.now() - timedelta(days=days))
    return booking


@pytest.fixture
def bookings():
    doctor = UserFactory(username="doc", groups=["Doctors"])
    made = {
        "old_completed": BookingFactory(status=Booking.Status.COMPLETED),
        "old_cancelled": BookingFactory(status=Booking.Status.CANCELLED),
        "recent_completed": BookingFactory(status=Booking.Status.COMPLETED),
        "old_requested": BookingFactory(status=Booking.Status.REQUESTED),
    }
    for booking in made.values():
        imaging = make_imaging(booking)
        record_review(booking=booking, doctor=doctor, verdict="approved")
        log_access(
            user=doctor,
            booking=booking,
            instance=imaging["instances"][0],
            upload=imaging["dicoms"][0],
            file_label=f"{booking.reference} · IM0001.dcm",
            action="preview",
        )
    for name in ("old_completed", "old_cancelled", "old_requested"):
        aged(made[name], 400)
    aged(made["recent_completed"], 10)
    return made


def run(*args):
    out = StringIO()
    call_command("purge_imaging", *args, stdout=out)
    return out.getvalue()


def test_refuses_without_a_period():
    with pytest.raises(CommandError, match="10 years"):
        run()


def test_dry_run_deletes_nothing(bookings, storage):
    before = {name: files_of(storage, b) for name, b in bookings.items()}
    output = run("--days", "365")
    assert "Dry run" in output
    assert bookings["old_completed"].reference in output
    assert bookings["old_cancelled"].reference in output
    assert bookings["recent_completed"].reference not in output
    assert bookings["old_requested"].reference not in output
    assert {name: files_of(storage, b) for name, b in bookings.items()} == before
    assert Upload.objects.count() == 4 * 6
    assert Instance.objects.count() == 4 * 3


def test_apply_deletes_files_and_rows_of_old_closed_bookings_only(bookings, storage, client):
    # A stored window rendition is deleted too.
    from booking.imaging.services import rendition_name, store_rendition

    instance = Instance.objects.filter(series__study__booking=bookings["old_completed"]).first()
    rendered = storage / store_rendition(rendition_name(instance, "bone"), b"png")
    assert rendered.exists()

    output = run("--days", "365", "--apply")
    assert "Deleted" in output and "Dry run" not in output
    for name in ("old_completed", "old_cancelled"):
        booking = bookings[name]
        assert files_of(storage, booking) == []
        assert not Upload.objects.filter(booking=booking).exists()
        assert not Study.objects.filter(booking=booking).exists()
        assert not Series.objects.filter(study__booking=booking).exists()
        assert not Instance.objects.filter(series__study__booking=booking).exists()
        # The audit and the verdict stay, with their labels.
        access = ImagingAccess.objects.get(booking=booking)
        assert access.file_label == f"{booking.reference} · IM0001.dcm"
        assert access.instance is None and access.upload is None
        assert ImagingReview.objects.filter(booking=booking).exists()
    assert not rendered.exists()
    for name in ("recent_completed", "old_requested"):
        booking = bookings[name]
        # 3 images (file, preview, thumbnail, values), photo and PDF (file, preview), a
        # refused file, and the report's document and page.
        assert len(files_of(storage, booking)) == 3 * 4 + 2 * 2 + 1 + 2
        assert Upload.objects.filter(booking=booking).count() == 6
        assert Instance.objects.filter(series__study__booking=booking).count() == 3
    assert ImagingAccess.objects.count() == 4
    # Nothing left to do the second time.
    assert "of 0 bookings" in run("--days", "365", "--apply")


def test_the_setting_gives_the_period(bookings, settings):
    settings.IMAGING_RETENTION_DAYS = 5
    output = run()
    assert bookings["recent_completed"].reference in output
    assert bookings["old_requested"].reference not in output
