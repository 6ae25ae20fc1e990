"""Who may see patients' images: every kind of user on every imaging URL, and the audit.

Also holds the helpers the other review tests import: Study/Series/Instance rows with
small PNG files (and tiny real DICOM files) made directly, without the processing.
"""

import struct
from datetime import date
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from booking.access import private_path
from booking.models import ImagingAccess, Instance, Report, Series, Study, Upload
from booking.storage import private_storage
from tests.booking.factories import BookingFactory
from tests.factories import UserFactory


def png_bytes(shade=128, size=(16, 16)) -> bytes:
    out = BytesIO()
    Image.new("L", size, shade).save(out, "PNG")
    return out.getvalue()


def dicom_bytes(values=None, rows=4, columns=4) -> bytes:
    """An uncompressed 16-bit CT slice (signed, rescale intercept -1024)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.RescaleSlope = 1
    ds.RescaleIntercept = -1024
    values = values or [i * 200 for i in range(rows * columns)]
    ds.PixelData = struct.pack(f"<{rows * columns}h", *values)
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def save(name: str, data: bytes) -> str:
    return private_storage().save(name, ContentFile(data))


# The windows the processing would list for a CT image (the file's own, a Hounsfield preset).
WINDOWS = [
    {"code": "file1", "label": "Window from the file", "center": 40.0, "width": 400.0},
    {"code": "bone", "label": "Bone", "center": 400.0, "width": 1800.0},
]


def make_imaging(booking, *, images=3, study_date=date(2024, 1, 10), modality="CT"):
    """One study, one series of `images` DICOM images with PNG previews and thumbnails,
    plus a photo and a PDF with previews and a refused file. Returns a dict."""
    study = Study.objects.create(
        booking=booking,
        study_uid=f"1.2.3.{booking.pk}",
        study_date=study_date,
        modality=modality,
        body_part="KNEE",
        description="Knee CT",
    )
    series = Series.objects.create(
        study=study,
        series_uid=f"1.2.3.{booking.pk}.1",
        number=1,
        modality=modality,
        body_part="KNEE",
        description="Axial",
        image_count=images,
    )
    folder = f"bookings/{booking.pk}"
    instances, dicoms = [], []
    for n in range(1, images + 1):
        upload = Upload.objects.create(
            booking=booking,
            file=save(f"{folder}/image{n}.dcm", dicom_bytes()),
            original_name=f"IM{n:04d}.dcm",
            size=100,
            kind=Upload.Kind.DICOM,
            processing=Upload.Processing.DONE,
        )
        dicoms.append(upload)
        instances.append(
            Instance.objects.create(
                series=series,
                upload=upload,
                instance_number=n,
                rows=4,
                columns=4,
                preview=save(f"{folder}/preview{n}.png", png_bytes(40 * n)),
                thumbnail=save(f"{folder}/thumb{n}.png", png_bytes(40 * n, (8, 8))),
                raw=save(f"{folder}/raw{n}.png", png_bytes(10 * n)),
                default_window="file1",
                presets=WINDOWS if modality == "CT" else WINDOWS[:1],
            )
        )
    photo = Upload.objects.create(
        booking=booking,
        file=save(f"{folder}/photo.jpg", b"\xff\xd8\xff fake jpeg"),
        original_name='knee "photo".jpg',
        size=20,
        kind=Upload.Kind.JPEG,
        processing=Upload.Processing.DONE,
        preview=save(f"{folder}/photo-preview.png", png_bytes(200)),
    )
    pdf = Upload.objects.create(
        booking=booking,
        file=save(f"{folder}/report.pdf", b"%PDF-1.4\n%%EOF\n"),
        original_name="report.pdf",
        size=15,
        kind=Upload.Kind.PDF,
        processing=Upload.Processing.DONE,
        preview=save(f"{folder}/report-preview.png", png_bytes(250)),
    )
    report = Report.objects.create(
        booking=booking,
        study=study,
        upload=pdf,
        kind=Report.Kind.PDF,
        title="Radiology report",
        document=save(f"{folder}/report-document.pdf", b"%PDF-1.4\n%%EOF\n"),
        preview=save(f"{folder}/report-page.png", png_bytes(230)),
    )
    refused = Upload.objects.create(
        booking=booking,
        file=save(f"{folder}/broken.dcm", b"garbage"),
        original_name="broken.dcm",
        size=7,
        kind=Upload.Kind.DICOM,
        processing=Upload.Processing.REFUSED,
        processing_note="The file holds no image (a DICOMDIR index).",
    )
    return {
        "study": study,
        "series": series,
        "instances": instances,
        "dicoms": dicoms,
        "photo": photo,
        "pdf": pdf,
        "report": report,
        "refused": refused,
    }


# --- Fixtures --------------------------------------------------------------------------


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.IMAGING_SERVE_WITH_X_ACCEL = False
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def booking():
    return BookingFactory(language="en")


@pytest.fixture
def imaging(booking):
    return make_imaging(booking)


def imaging_urls(booking, imaging) -> dict[str, str]:
    instance = imaging["instances"][0]
    return {
        "queue": reverse("review:queue"),
        "booking": reverse("review:booking", args=[booking.pk]),
        "viewer": reverse("review:viewer", args=[imaging["series"].pk]),
        "preview": reverse("review:instance_preview", args=[instance.pk]),
        "preview_preset": reverse("review:instance_preview", args=[instance.pk]) + "?preset=bone",
        "thumbnail": reverse("review:instance_thumbnail", args=[instance.pk]),
        "photo_preview": reverse("review:upload_preview", args=[imaging["photo"].pk]),
        "download": reverse("review:upload_download", args=[imaging["dicoms"][0].pk]),
        "photo_download": reverse("review:upload_download", args=[imaging["photo"].pk]),
        "raw": reverse("review:instance_raw", args=[instance.pk]),
        "report_preview": reverse("review:report_preview", args=[imaging["report"].pk]),
        "report_download": reverse("review:report_document", args=[imaging["report"].pk]),
        "study_download": reverse("review:study_download", args=[imaging["study"].pk]),
    }


FILE_URLS = {
    "preview",
    "preview_preset",
    "thumbnail",
    "photo_preview",
    "download",
    "photo_download",
    "raw",
    "report_preview",
    "report_download",
    "study_download",
}


def login(client, kind, booking):
    """A client as one kind of user; returns the user (None when anonymous)."""
    if kind == "anonymous":
        return None
    if kind == "patient":
        # The patient's own private page opens with the link; it gives no staff session.
        assert client.get(private_path(booking, "en")).status_code == 200
        return None
    groups = {"editor": ["Editors"], "receptionist": ["Reception"], "doctor": ["Doctors"]}
    if kind == "superuser":
        user = UserFactory(username="root", is_superuser=True)
    elif kind == "staff_no_group":
        user = UserFactory(username="plain")
    else:
        user = UserFactory(username=kind, groups=groups[kind])
    client.force_login(user)
    return user


# --- Permissions -------------------------------------------------------------------------

KINDS = ["anonymous", "patient", "editor", "receptionist", "staff_no_group", "doctor", "superuser"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_imaging_url_is_for_doctors_and_superusers_only(client, kind, booking, imaging):
    user = login(client, kind, booking)
    for name, url in imaging_urls(booking, imaging).items():
        response = client.get(url)
        if kind in ("doctor", "superuser"):
            assert response.status_code == 200, (kind, name)
        elif kind in ("anonymous", "patient"):
            assert response.status_code == 302, (kind, name)
            assert response["Location"].startswith(reverse("admin:login")), (kind, name)
        else:
            assert response.status_code == 403, (kind, name)
        if response.status_code != 200:
            assert not getattr(response, "streaming", False)
            assert b"PNG" not in response.content
    expected = len(FILE_URLS) if kind in ("doctor", "superuser") else 0
    assert ImagingAccess.objects.count() == expected
    if user is None or expected == 0:
        return
    assert set(ImagingAccess.objects.values_list("user", flat=True)) == {user.pk}


@pytest.mark.parametrize("kind", ["anonymous", "patient", "editor", "receptionist", "doctor"])
def test_verdict_cannot_be_posted_without_the_permission(client, kind, booking, imaging):
    login(client, kind, booking)
    response = client.post(reverse("review:booking", args=[booking.pk]), {"verdict": "approved"})
    booking.refresh_from_db()
    if kind == "doctor":
        assert response.status_code == 302 and booking.imaging_reviewed
    else:
        assert response.status_code in (302, 403)
        assert not booking.imaging_reviewed
        assert not booking.reviews.exists()


def test_inactive_doctor_is_refused(client, booking, imaging):
    user = login(client, "doctor", booking)
    user.is_active = False
    user.save()
    response = client.get(imaging_urls(booking, imaging)["preview"])
    assert response.status_code in (302, 403)


def test_drafts_images_are_not_served(client, booking, imaging):
    login(client, "doctor", booking)
    booking.status = "draft"
    booking.save()
    names = ["booking", "viewer", "preview", "thumbnail", "download", "raw", "study_download"]
    for name in [*names, "report_preview", "report_download"]:
        assert client.get(imaging_urls(booking, imaging)[name]).status_code == 404, name


# --- Audit -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILE_URLS))
def test_each_preview_and_download_writes_one_audit_row(client, booking, imaging, name):
    user = login(client, "doctor", booking)
    response = client.get(imaging_urls(booking, imaging)[name], REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert response["Cache-Control"] == "private, no-store"
    row = ImagingAccess.objects.get()
    assert row.user == user
    assert row.ip_address == "10.1.2.3"
    assert row.booking == booking
    assert booking.reference in row.file_label
    expected_action = "download" if "download" in name else "preview"
    assert row.action == expected_action
    if name in ("photo_preview", "photo_download"):
        assert row.upload == imaging["photo"] and row.instance is None
        assert "photo" in row.file_label
    elif name == "download":
        assert row.upload == imaging["dicoms"][0]
        assert "IM0001.dcm" in row.file_label
    elif name in ("report_preview", "report_download"):
        assert row.upload == imaging["pdf"] and row.instance is None
        assert "Radiology report" in row.file_label
    elif name == "study_download":
        assert row.upload is None and row.instance is None
        assert "Knee CT" in row.file_label and "(4)" in row.file_label  # 3 images, 1 report
    else:
        assert row.instance == imaging["instances"][0]
        assert "Knee CT" in row.file_label


def test_audit_uses_the_address_behind_trusted_proxies(client, booking, imaging, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    login(client, "doctor", booking)
    client.get(
        imaging_urls(booking, imaging)["thumbnail"],
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert ImagingAccess.objects.get().ip_address == "203.0.113.9"


def test_booking_page_and_viewer_write_no_audit_rows_themselves(client, booking, imaging):
    login(client, "doctor", booking)
    urls = imaging_urls(booking, imaging)
    for name in ["queue", "booking", "viewer"]:
        client.get(urls[name])
    assert ImagingAccess.objects.count() == 0


def test_download_is_an_attachment_with_a_safe_name(client, booking, imaging):
    login(client, "doctor", booking)
    response = client.get(imaging_urls(booking, imaging)["photo_download"])
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert disposition == 'attachment; filename="knee_photo_.jpg"'
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff fake jpeg"


def test_preview_is_inline_png(client, booking, imaging):
    login(client, "doctor", booking)
    response = client.get(imaging_urls(booking, imaging)["preview"])
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_x_accel_mode_returns_the_header_and_no_body(client, booking, imaging, settings):
    settings.IMAGING_SERVE_WITH_X_ACCEL = True
    settings.IMAGING_X_ACCEL_PREFIX = "/private-imaging"
    login(client, "doctor", booking)
    urls = imaging_urls(booking, imaging)
    response = client.get(urls["preview"])
    assert response.status_code == 200
    assert response.content == b""
    name = imaging["instances"][0].preview.name
    assert response["X-Accel-Redirect"] == f"/private-imaging/{name}"
    assert response["Cache-Control"] == "private, no-store"
    response = client.get(urls["download"])
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/private-imaging/{imaging['dicoms'][0].file.name}"
    assert response["Content-Disposition"] == 'attachment; filename="IM0001.dcm"'
    assert ImagingAccess.objects.count() == 2


def test_x_accel_is_not_used_for_someone_without_permission(client, booking, imaging, settings):
    settings.IMAGING_SERVE_WITH_X_ACCEL = True
    login(client, "receptionist", booking)
    response = client.get(imaging_urls(booking, imaging)["preview"])
    assert response.status_code == 403
    assert not response.has_header("X-Accel-Redirect")


def test_a_missing_file_is_404_and_not_logged(client, booking, imaging):
    login(client, "doctor", booking)
    private_storage().delete(imaging["instances"][0].preview.name)
    assert client.get(imaging_urls(booking, imaging)["preview"]).status_code == 404
    assert ImagingAccess.objects.count() == 0


# --- The admin -----------------------------------------------------------------------------


def test_imaging_access_admin_is_read_only_for_doctors(client, booking, imaging):
    user = login(client, "doctor", booking)
    client.get(imaging_urls(booking, imaging)["preview"])
    row = ImagingAccess.objects.get()
    assert client.get(reverse("admin:booking_imagingaccess_changelist")).status_code == 200
    change = client.get(reverse("admin:booking_imagingaccess_change", args=[row.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.get(reverse("admin:booking_imagingaccess_add")).status_code == 403
    delete_url = reverse("admin:booking_imagingaccess_delete", args=[row.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ImagingAccess.objects.filter(pk=row.pk).exists()
    assert user.has_perm("booking.view_imagingaccess")
    assert not user.has_perm("booking.delete_imagingaccess")


def test_receptionist_sees_the_review_state_but_not_the_audit(client, booking, imaging):
    from booking.imaging.services import record_review

    doctor = UserFactory(username="doc", groups=["Doctors"])
    record_review(booking=booking, doctor=doctor, verdict="approved")
    user = login(client, "receptionist", booking)
    assert user.has_perm("booking.view_imagingreview")
    assert not user.has_perm("booking.review_imaging")
    assert client.get(reverse("admin:booking_imagingreview_changelist")).status_code == 200
    assert client.get(reverse("admin:booking_imagingaccess_changelist")).status_code == 403
    page = client.get(reverse("admin:booking_booking_change", args=[booking.pk]))
    assert page.status_code == 200
    assert (
        reverse("review:instance_preview", args=[imaging["instances"][0].pk]).encode()
        not in page.content
    )
    assert b"/staff/imaging/" not in page.content


def test_only_doctors_have_the_review_permission():
    from django.contrib.auth.models import Group

    holders = set(
        Group.objects.filter(permissions__codename="review_imaging").values_list("name", flat=True)
    )
    assert holders == {"Doctors"}
