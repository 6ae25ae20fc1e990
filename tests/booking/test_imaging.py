"""booking/imaging/processing.py: uploads into studies, series, instances and previews."""

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile, File
from django.utils import translation
from PIL import Image

from booking.imaging import processing
from booking.models import Booking, Instance, Series, Study, Upload
from booking.storage import private_storage
from tests.booking.dicom_fixtures import (
    TEST_FILES,
    bundled,
    ct_dataset,
    enhanced_mr_dataset,
    pdf_of,
    to_bytes,
    zip_tree,
)
from tests.booking.factories import BookingFactory


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def booking(db):
    # The fixtures' DICOM files name "Test^Patient" and no birth date: not somebody else.
    return BookingFactory(
        scan_date=None, scan_modality="", message="Knee pain", name="Test Patient"
    )


def make_upload(booking, data: bytes | Path, kind: str, name="file") -> Upload:
    storage = private_storage()
    if isinstance(data, Path):
        with data.open("rb") as handle:
            stored = storage.save(f"bookings/{booking.pk}/{name}", File(handle))
    else:
        stored = storage.save(f"bookings/{booking.pk}/{name}", ContentFile(data))
    return Upload.objects.create(
        booking=booking, file=stored, original_name=name, size=storage.size(stored), kind=kind
    )


def process(upload) -> Upload:
    with translation.override("en"):
        processing.run_processing(upload.pk)
    upload.refresh_from_db()
    return upload


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- Good input ----------------------------------------------------------------------


def test_single_ct_grouped_and_fills_scan_fields(booking):
    upload = process(make_upload(booking, to_bytes(ct_dataset(512)), "dicom", "ct.dcm"))
    assert upload.processing == Upload.Processing.DONE, upload.processing_note
    study = Study.objects.get(booking=booking)
    assert study.modality == "CT" and study.study_date.isoformat() == "2024-03-15"
    series = Series.objects.get(study=study)
    assert series.image_count == 1 and series.body_part == "CHEST"
    instance = Instance.objects.get(upload=upload)
    assert (instance.rows, instance.window_center, instance.window_width) == (512, 40, 400)
    assert private_storage().exists(instance.preview.name)
    assert private_storage().exists(instance.thumbnail.name)
    booking.refresh_from_db()
    assert booking.scan_date.isoformat() == "2024-03-15" and booking.scan_modality == "ct"


def test_patient_answers_not_overwritten(booking):
    booking.scan_modality = Booking.Modality.MR
    booking.save()
    process(make_upload(booking, to_bytes(ct_dataset(64)), "dicom"))
    booking.refresh_from_db()
    assert booking.scan_modality == "mr" and booking.scan_date is not None


def test_enhanced_mr_one_instance_per_frame(booking):
    upload = process(make_upload(booking, to_bytes(enhanced_mr_dataset(frames=3)), "dicom"))
    assert list(upload.instances.values_list("frame", flat=True)) == [0, 1, 2]
    assert Series.objects.get().image_count == 3


def test_dicomdir_cd_zipped(booking, tmp_path):
    booking.name = "Peter Doe"  # the CD's patients are Doe^Peter and Doe^Archibald
    booking.save()
    folder = bundled("dicomdirtests")
    archive = zip_tree(folder, tmp_path / "cd.zip", prefix="CD/")
    upload = process(make_upload(booking, archive, "zip", "cd.zip"))
    assert upload.processing in (Upload.Processing.DONE, Upload.Processing.PARTLY)
    assert "DICOMDIR" not in upload.processing_note  # the index is skipped, not refused
    assert Study.objects.filter(booking=booking).count() >= 3
    assert Instance.objects.filter(upload=upload).count() >= 20
    modalities = set(Series.objects.values_list("modality", flat=True))
    assert {"CR", "CT", "MR"} <= modalities
    booking.refresh_from_db()
    latest = Study.objects.filter(booking=booking).order_by("-study_date").first()
    assert booking.scan_date == latest.study_date


def test_rerun_does_not_duplicate(booking):
    upload = make_upload(booking, to_bytes(ct_dataset(64)), "dicom")
    process(upload)
    process(upload)
    assert Instance.objects.filter(upload=upload).count() == 1


def test_enqueue_runs_after_commit(booking, django_capture_on_commit_callbacks):
    upload = make_upload(booking, to_bytes(ct_dataset(64)), "dicom")
    with django_capture_on_commit_callbacks(execute=True):
        processing.enqueue_processing(upload)
    upload.refresh_from_db()
    assert upload.processing == Upload.Processing.DONE


def test_jpeg_photo_upright_without_metadata(booking):
    photo = Image.new("RGB", (200, 100), (255, 0, 0))
    photo.paste((0, 0, 255), (0, 0, 100, 100))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 0.0)}  # GPS
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif.tobytes())
    upload = process(make_upload(booking, out.getvalue(), "jpeg", "knee.jpg"))
    assert upload.processing == Upload.Processing.DONE
    with private_storage().open(upload.preview.name) as handle:
        preview = Image.open(io.BytesIO(handle.read()))
        assert preview.size == (100, 200)  # turned upright
        assert not preview.getexif() and "exif" not in preview.info
        assert "icc_profile" not in preview.info and "xmp" not in preview.info


def test_pdf_first_page_previewed(booking):
    upload = process(make_upload(booking, pdf_bytes(), "pdf", "report.pdf"))
    assert upload.processing == Upload.Processing.DONE
    assert upload.preview


# --- Bad input: one test each ---------------------------------------------------------


def test_truncated_dicom(booking):
    upload = process(make_upload(booking, bundled("MR_truncated.dcm"), "dicom"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "could not be decoded" in upload.processing_note


def test_lying_header(booking):
    ds = ct_dataset(16)
    ds.Rows = ds.Columns = 65000
    upload = process(make_upload(booking, to_bytes(ds), "dicom"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "too large" in upload.processing_note


def test_not_dicom_named_dcm(booking):
    upload = process(make_upload(booking, b"hello, this is not an image" * 20, "dicom", "x.dcm"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "not a DICOM" in upload.processing_note


def test_empty_file(booking):
    upload = process(make_upload(booking, b"", "dicom"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "empty" in upload.processing_note


def test_zip_with_parent_paths(booking):
    data = zip_bytes({"../../etc/evil.dcm": to_bytes(ct_dataset(16))})
    upload = process(make_upload(booking, data, "zip"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "outside its folder" in upload.processing_note
    assert not Instance.objects.exists()


def test_zip_bomb(booking, settings):
    # Past the ratio and past the bytes floor (64 MB by default; lower keeps it quick).
    settings.ZIP_RATIO_MIN_BYTES = 10 * 1024 * 1024
    data = zip_bytes({"DICOM/IM1": b"\0" * (50 * 1024 * 1024)})
    upload = process(make_upload(booking, data, "zip"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "unpacks to far more" in upload.processing_note


def test_zip_bomb_lying_central_directory(booking, settings):
    """The member's header says it is small; the copy stops at what was declared."""
    settings.ZIP_MAX_RATIO = 10**6
    data = bytearray(zip_bytes({"DICOM/IM1": b"\0" * (1024 * 1024)}))
    # Make both headers claim 100 bytes unpacked (offset 22 local, 24 central).
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 100)
    struct.pack_into("<I", data, central + 24, 100)
    upload = process(make_upload(booking, bytes(data), "zip"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "DICOM/IM1" in upload.processing_note


def test_mixed_zip_rest_still_processed(booking):
    """Zip in zip, a truncated DICOM and viewer files beside two good images."""
    booking_before = Booking.objects.values().get(pk=booking.pk)
    inner = zip_bytes({"a.dcm": to_bytes(ct_dataset(16))})
    data = zip_bytes(
        {
            "DICOM/IM1": to_bytes(ct_dataset(64)),
            "DICOM/IM2": bundled("MR_truncated.dcm").read_bytes(),
            "DICOM/IM3": to_bytes(ct_dataset(64)),
            "more.zip": inner,
            "renamed.bin": inner,  # a zip by content, whatever its name
            "DICOMDIR": bundled("dicomdirtests/DICOMDIR").read_bytes(),
            "viewer.exe": b"MZ" + b"\0" * 100,
        }
    )
    upload = process(make_upload(booking, data, "zip"))
    assert upload.processing == Upload.Processing.PARTLY
    assert upload.instances.count() == 2
    note = upload.processing_note
    assert "DICOM/IM2" in note and "more.zip: a zip inside" in note and "renamed.bin" in note
    booking.refresh_from_db()
    after = Booking.objects.values().get(pk=booking.pk)
    changed = {k for k in after if after[k] != booking_before[k]}
    assert changed <= {"scan_date", "scan_modality", "updated_at"}


def test_decompression_bomb_png(booking):
    upload = process(make_upload(booking, png_bomb(), "png", "bomb.png"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "too many pixels" in upload.processing_note


def test_pdf_with_javascript_only_rendered(booking, tmp_path):
    marker = tmp_path / "executed"
    script = f"app.launchURL('file://{marker}'); this.exportDataObject();"
    upload = process(make_upload(booking, pdf_bytes(javascript=script), "pdf", "js.pdf"))
    assert upload.processing == Upload.Processing.DONE
    assert upload.preview  # rendered
    assert not marker.exists()


def test_broken_heic_refused(booking):
    data = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200
    upload = process(make_upload(booking, data, "heic", "IMG_0001.HEIC"))
    assert upload.processing == Upload.Processing.REFUSED
    assert "could not be read" in upload.processing_note


def test_iphone_heic_decoded(booking):
    sample = os.environ.get("HEIC_SAMPLE")
    if not sample:
        pytest.skip(
            "pi-heif decodes only (no HEIC encoder is installed) and no HEIC file is bundled; "
            "set HEIC_SAMPLE=/path/to/IMG.HEIC to run this test"
        )
    upload = process(make_upload(booking, Path(sample), "heic", "IMG.HEIC"))
    assert upload.processing == Upload.Processing.DONE and upload.preview


def test_missing_stored_file(booking):
    upload = make_upload(booking, b"x", "dicom")
    private_storage().delete(upload.file.name)
    assert process(upload).processing == Upload.Processing.REFUSED


# --- Builders ------------------------------------------------------------------------


def png_bomb() -> bytes:
    """A PNG whose header claims 100 000 x 100 000 pixels (a few hundred bytes on disk)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(javascript: str = "") -> bytes:
    """A one-page PDF (a grey square), optionally with an OpenAction JavaScript."""
    content = b"0.5 g 100 100 200 200 re f"
    open_action = (
        f"/OpenAction << /S /JavaScript /JS ({javascript}) >>".encode() if javascript else b""
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + open_action + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return pdf_of(objects)


def test_bundled_files_exist():
    assert (TEST_FILES / "CT_small.dcm").exists()
