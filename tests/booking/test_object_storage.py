"""Every stored file through STORAGES, against a real S3 API (moto_server, tests/s3.py).

Public media go to one bucket, patients' files to another, encrypted at rest; the
upload, the processing, the doctor's viewing and download and every purge work through
the storage API alone. Nothing is written to the local folders but the incoming folder,
which ends empty.
"""

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from pydicom.data import get_testdata_file

from booking import data_rights
from booking.imaging import processing, services
from booking.models import Booking, ImagingAccess, Instance, Study, Upload
from booking.storage import private_storage
from booking.uploads import save_upload
from clinic.models import Practitioner
from tests import s3
from tests.booking.factories import BookingFactory
from tests.booking.test_uploads import Named, image_bytes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CT = Path(get_testdata_file("CT_small.dcm"))


@pytest.fixture
def buckets(s3_endpoint, settings, tmp_path):
    """Two new buckets as STORAGES; the local folders point where a test can see them."""
    public = s3.make_bucket(s3_endpoint, "public")
    private = s3.make_bucket(s3_endpoint, "private")
    settings.STORAGES = s3.s3_storages(s3_endpoint, public, private)
    settings.UPLOAD_INCOMING_DIR = str(tmp_path / "incoming")
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return SimpleNamespace(endpoint=s3_endpoint, public=public, private=private, tmp=tmp_path)


@pytest.fixture(autouse=True)
def in_english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def doctor(client):
    user = UserFactory(username="doc", groups=["Doctors"])
    client.force_login(user)
    return user


def local_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def object_bytes(buckets, key: str) -> bytes:
    return s3.client(buckets.endpoint).get_object(Bucket=buckets.private, Key=key)["Body"].read()


def booking_keys(buckets, booking_id: int) -> list[str]:
    mine = (f"bookings/{booking_id}/", f"renditions/{booking_id}/")
    return [key for key in s3.keys(buckets.endpoint, buckets.private) if key.startswith(mine)]


def processed_ct(buckets) -> tuple[Booking, Upload]:
    """A sent booking with CT_small.dcm uploaded through save_upload and processed."""
    booking = BookingFactory(language="en", imaging_status=Booking.ImagingStatus.UPLOADED)
    upload = save_upload(booking=booking, uploaded_file=Named("ct.dcm", CT.read_bytes()))
    processing.run_processing(upload.pk)
    upload.refresh_from_db()
    return booking, upload


# --- Patients' files ---------------------------------------------------------------------


def test_an_upload_is_kept_encrypted_in_the_private_bucket_and_nowhere_else(buckets):
    booking, upload = processed_ct(buckets)
    assert upload.processing == Upload.Processing.DONE, upload.processing_note
    head = s3.client(buckets.endpoint).head_object(Bucket=buckets.private, Key=upload.file.name)
    assert head["ServerSideEncryption"] == "AES256"
    assert object_bytes(buckets, upload.file.name) == CT.read_bytes()
    instance = Instance.objects.get(upload=upload)
    keys = booking_keys(buckets, booking.pk)
    for name in (upload.file.name, instance.preview.name, instance.thumbnail.name):
        assert name in keys
    assert any(key.startswith(f"renditions/{booking.pk}/") for key in keys)
    # The public bucket and the local folders hold nothing of the patient's.
    assert s3.keys(buckets.endpoint, buckets.public) == []
    assert local_files(buckets.tmp / "private") == []
    assert local_files(buckets.tmp / "media") == []
    assert local_files(buckets.tmp / "incoming") == []


def test_a_refused_upload_leaves_nothing_in_the_bucket(buckets):
    booking = BookingFactory(language="en")
    with pytest.raises(Exception, match="cannot be sent"):
        save_upload(booking=booking, uploaded_file=Named("photo.jpg", b"not a photo\n" * 20))
    assert booking_keys(buckets, booking.pk) == []
    assert local_files(buckets.tmp / "incoming") == []


def test_a_file_the_room_cannot_take_is_deleted_from_the_bucket_again(buckets, settings):
    settings.DRAFT_MAX_FILES = 1
    draft = BookingFactory(language="en", status=Booking.Status.DRAFT)
    first = save_upload(booking=draft, uploaded_file=Named("a.png", image_bytes("PNG")))
    with pytest.raises(Exception, match="at most 1 file"):
        save_upload(booking=draft, uploaded_file=Named("b.png", image_bytes("PNG")))
    assert [key for key in booking_keys(buckets, draft.pk) if "/previews/" not in key] == [
        first.file.name
    ]


def test_the_doctor_sees_each_image_streamed_from_the_bucket_and_audited(buckets, client, doctor):
    booking, upload = processed_ct(buckets)
    instance = Instance.objects.get(upload=upload)
    for view, name in (
        ("review:instance_preview", instance.preview.name),
        ("review:instance_thumbnail", instance.thumbnail.name),
        ("review:instance_raw", instance.raw.name),
    ):
        response = client.get(reverse(view, args=[instance.pk]))
        assert response.status_code == 200, view
        assert b"".join(response.streaming_content) == object_bytes(buckets, name), view
    for preset in services.instance_presets(instance):
        response = client.get(
            reverse("review:instance_preview", args=[instance.pk]), {"w": preset.code}
        )
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert ImagingAccess.objects.filter(user=doctor, instance=instance).count() >= 3
    original = client.get(reverse("review:upload_download", args=[upload.pk]))
    assert b"".join(original.streaming_content) == CT.read_bytes()
    assert ImagingAccess.objects.filter(
        user=doctor, upload=upload, action=ImagingAccess.Action.DOWNLOAD
    ).exists()


def test_no_page_gives_an_address_in_the_private_bucket(buckets, client, doctor):
    booking, upload = processed_ct(buckets)
    with pytest.raises(NotImplementedError):
        private_storage().url(upload.file.name)
    series = Instance.objects.get(upload=upload).series
    pages = [
        client.get(reverse("review:booking", args=[booking.pk])),
        client.get(reverse("review:viewer", args=[series.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert buckets.private not in html and buckets.endpoint not in html
        assert "X-Amz-Signature" not in html


def test_a_study_is_downloaded_as_a_zip_read_from_the_bucket(buckets, client, doctor):
    booking, upload = processed_ct(buckets)
    study = Study.objects.get(booking=booking)
    response = client.get(reverse("review:study_download", args=[study.pk]))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert [archive.read(name) for name in archive.namelist()] == [CT.read_bytes()]


def test_the_patient_id_lies_in_the_bucket_and_goes_with_the_purge(buckets):
    booking, upload = processed_ct(buckets)
    study = Study.objects.get(booking=booking)
    assert services.patient_id(study)  # CT_small.dcm carries one
    assert services.patient_id_path(study) in booking_keys(buckets, booking.pk)
    stray = private_storage().save(f"bookings/{booking.pk}/previews/stray.png", ContentFile(b"x"))
    counts = services.purge_booking(booking)
    assert booking_keys(buckets, booking.pk) == []
    assert counts["files"] >= 5 and not Upload.objects.filter(booking=booking).exists()
    assert stray not in s3.keys(buckets.endpoint, buckets.private)


def test_the_erasure_empties_the_bookings_folders_in_the_bucket(buckets):
    booking, upload = processed_ct(buckets)
    other, _ = processed_ct(buckets)
    private_storage().save(f"renditions/{booking.pk}/old-window.png", ContentFile(b"x"))
    names = data_rights.delete_bookings([booking])
    assert data_rights.delete_files(names) >= 5
    assert booking_keys(buckets, booking.pk) == []
    assert booking_keys(buckets, other.pk) != []  # another booking's files are kept


def test_purge_imaging_command_empties_the_bucket_of_old_bookings_only(buckets, settings):
    settings.IMAGING_RETENTION_DAYS = 30
    old, _ = processed_ct(buckets)
    recent, _ = processed_ct(buckets)
    long_ago = timezone.now() - timezone.timedelta(days=31)
    Booking.objects.filter(pk=old.pk).update(
        status=Booking.Status.COMPLETED,
        updated_at=long_ago,
        starts_at=long_ago,
        ends_at=long_ago + timezone.timedelta(hours=1),
    )
    Booking.objects.filter(pk=recent.pk).update(status=Booking.Status.COMPLETED)
    call_command("purge_imaging", "--apply", stdout=io.StringIO())
    assert booking_keys(buckets, old.pk) == []
    assert booking_keys(buckets, recent.pk) != []


def test_purge_drafts_deletes_a_stale_draft_and_what_was_made_from_it(buckets, settings):
    draft = BookingFactory(language="en", status=Booking.Status.DRAFT)
    upload = save_upload(booking=draft, uploaded_file=Named("ct.dcm", CT.read_bytes()))
    processing.run_processing(upload.pk)
    assert any("/previews/" in key for key in booking_keys(buckets, draft.pk))
    stale = timezone.now() - timezone.timedelta(hours=settings.DRAFT_IDLE_HOURS + 1)
    Booking.objects.filter(pk=draft.pk).update(updated_at=stale, created_at=stale)
    Upload.objects.filter(booking=draft).update(uploaded_at=stale)
    out = io.StringIO()
    call_command("purge_drafts", stdout=out)
    assert "Removed 1 draft(s)" in out.getvalue()
    assert booking_keys(buckets, draft.pk) == []


def test_a_file_missing_from_the_bucket_is_refused_with_a_reason(buckets):
    booking, upload = processed_ct(buckets)
    s3.client(buckets.endpoint).delete_object(Bucket=buckets.private, Key=upload.file.name)
    processing.run_processing(upload.pk)
    upload.refresh_from_db()
    assert upload.processing == Upload.Processing.REFUSED
    assert "the stored file is missing" in upload.processing_note


# --- Public media ------------------------------------------------------------------------


def test_a_practitioners_photo_is_served_from_the_public_bucket(buckets, client):
    practitioner = Practitioner.objects.create(
        name="Dr. Test Testesen", title="Doctor", photo_alt="A doctor in the clinic"
    )
    practitioner.photo.save("portrait.png", ContentFile(image_bytes("PNG")))
    key = practitioner.photo.name
    assert key in s3.keys(buckets.endpoint, buckets.public)
    assert practitioner.photo.url == f"{buckets.endpoint}/{buckets.public}/{key}"
    assert s3.keys(buckets.endpoint, buckets.private) == []
    assert local_files(buckets.tmp / "media") == []


# --- Settings ----------------------------------------------------------------------------


def test_nginx_hand_off_with_a_bucket_is_refused_by_the_checks(buckets, settings):
    from booking.checks import x_accel_needs_a_local_private_storage

    assert x_accel_needs_a_local_private_storage(None) == []
    settings.IMAGING_SERVE_WITH_X_ACCEL = True
    assert [error.id for error in x_accel_needs_a_local_private_storage(None)] == ["booking.E001"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "booking.storage.PrivateStorage"},
    }
    assert x_accel_needs_a_local_private_storage(None) == []
