"""The smaller imaging findings: zips judged by bytes and not by ratio alone, a CD's
viewer program left out with one calm line, day-first dates on English pages, and
the reasons of booking/filetypes.py and booking/safezip.py kept as notes (msgid and
parameters) for the imaging worker."""

import io
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django import forms
from django.contrib import messages as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from booking import safezip
from booking.access import make_token, private_path
from booking.filetypes import (
    SYSTEM_FILE,
    VIEWER_PROGRAM,
    check_pdf_complexity,
    check_zip,
    left_out_as,
    size_text,
)
from booking.forms import AboutYouForm
from booking.imaging.notes import Note, as_note
from booking.models import Booking, Upload
from booking.uploads import NotNeeded, UploadRejected, save_upload
from tests.booking.dicom_fixtures import ct_dataset, to_bytes
from tests.booking.factories import BookingFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"


@pytest.fixture(autouse=True)
def in_english():
    """Reasons are put into words by str() in the active language (Danish by default);
    requests still choose their own language."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.PRIVATE_STORAGE_ROOT


# --- Files -------------------------------------------------------------------------------


def _meta(sop_class: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def flat_screenshot(rows=1024, columns=1024) -> bytes:
    """A secondary-capture screenshot (RGB, 3 MB): one flat colour and a band of text-like
    noise, which deflates about 170:1 as such screenshots do on CDs."""
    pixels = np.full((rows, columns, 3), (32, 96, 160), np.uint8)
    noise = np.random.default_rng(7).integers(0, 256, (40, 120, 3), dtype=np.uint8)
    pixels[100:140, 100:220] = noise
    ds = Dataset()
    ds.file_meta = _meta(SECONDARY_CAPTURE)
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    return to_bytes(ds)


def dicomdir_bytes() -> bytes:
    """A CD's index: a DICOM file (preamble and DICM) that holds directory records."""
    ds = Dataset()
    ds.file_meta = _meta(MEDIA_DIRECTORY)
    ds.FileSetID = "CD"
    ds.DirectoryRecordSequence = []
    return to_bytes(ds)


def zip_of(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, method)
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def only_member(path: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()[0]


def unpack(path: Path, target: Path, budget=10**12) -> int:
    with zipfile.ZipFile(path) as archive:
        return safezip.extract_member(archive, archive.infolist()[0], target, budget)


# --- 1. Zips judged by bytes, not by the ratio alone -------------------------------------


def test_a_flat_colour_screenshot_squeezed_170_to_1_is_accepted_and_unpacks(
    tmp_path, settings, client
):
    screenshot = flat_screenshot()
    path = write(tmp_path, "cd.zip", zip_of({"DICOM/SC000001": screenshot}))
    info = only_member(path)
    ratio = info.file_size / info.compress_size
    assert settings.ZIP_MAX_RATIO == 100 and 150 < ratio < 200  # refused before this change
    assert 2 * MB < len(screenshot) < 4 * MB

    summary = check_zip(path)
    assert (summary.entries, summary.total_bytes) == (1, len(screenshot))
    target = tmp_path / "out"
    assert unpack(path, target) == len(screenshot)
    assert target.read_bytes() == screenshot

    booking = BookingFactory(language="en")
    body = post_files(client, booking, [("cd.zip", path.read_bytes())]).json()
    assert body["refused"] == []
    assert [a["kind"] for a in body["accepted"]] == ["zip"]


def test_a_bomb_over_the_bytes_floor_is_refused_before_unpacking(tmp_path, settings):
    settings.ZIP_RATIO_MIN_BYTES = 1 * MB  # 64 MB by default: smaller keeps the test quick
    path = write(tmp_path, "bomb.zip", zip_of({"DICOM/IM1": b"\0" * (4 * MB)}))
    with pytest.raises(ValueError, match="far more than its own size"):
        check_zip(path)
    target = tmp_path / "out"
    with pytest.raises(safezip.ZipRefused, match="more than the zip file declares or allows"):
        unpack(path, target)
    assert not target.exists()


def test_a_bomb_whose_index_lies_is_stopped_by_the_bytes_written(tmp_path, settings):
    """The index says 100 bytes; check_zip cannot know better. Unpacking stops as soon
    as the bytes produced pass what was declared: at most 100 reach the file."""
    settings.ZIP_RATIO_MIN_BYTES = 1 * MB
    data = bytearray(zip_of({"DICOM/IM1": b"\0" * (8 * MB)}))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 100)
    struct.pack_into("<I", data, central + 24, 100)
    path = write(tmp_path, "liar.zip", bytes(data))
    assert check_zip(path).total_bytes == 100

    written = []
    with zipfile.ZipFile(path) as archive, pytest.raises(safezip.ZipRefused):
        safezip.stream_member(archive, archive.infolist()[0], written.append, limit=10**9)
    assert sum(map(len, written)) <= 100
    with pytest.raises(safezip.ZipRefused):
        unpack(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_absolute_caps_hold_below_the_bytes_floor(tmp_path, settings):
    """Under ZIP_RATIO_MIN_BYTES the ratio is forgiven, the caps in bytes are not."""
    screenshot = flat_screenshot(512, 512)  # 768 KB at about 170:1
    path = write(tmp_path, "cd.zip", zip_of({"SC1": screenshot}))
    settings.ZIP_MAX_TOTAL_BYTES = len(screenshot) - 1
    with pytest.raises(ValueError, match="would take more than"):
        check_zip(path)
    settings.ZIP_MAX_TOTAL_BYTES = len(screenshot)
    check_zip(path)

    target = tmp_path / "out"
    with pytest.raises(safezip.ZipRefused):  # what is left of the archive's budget
        unpack(path, target, budget=len(screenshot) - 1)
    settings.ZIP_MAX_MEMBER_BYTES = len(screenshot) - 1
    with pytest.raises(safezip.ZipRefused):
        unpack(path, target)
    assert not target.exists()
    settings.ZIP_MAX_MEMBER_BYTES = len(screenshot)
    assert unpack(path, target, budget=len(screenshot)) == len(screenshot)


def test_the_bytes_floor_boundary(tmp_path, settings):
    """Squeezed far past the ratio: accepted at exactly ZIP_RATIO_MIN_BYTES, refused one
    byte over, both by check_zip and while unpacking."""
    size = 2 * MB
    path = write(tmp_path, "zeros.zip", zip_of({"IM1": b"\0" * size}))
    assert size > only_member(path).compress_size * settings.ZIP_MAX_RATIO

    settings.ZIP_RATIO_MIN_BYTES = size
    assert check_zip(path).total_bytes == size
    assert unpack(path, tmp_path / "at") == size

    settings.ZIP_RATIO_MIN_BYTES = size - 1
    with pytest.raises(ValueError, match="far more than its own size"):
        check_zip(path)
    with pytest.raises(safezip.ZipRefused):
        unpack(path, tmp_path / "over")
    assert not (tmp_path / "over").exists()


def test_ratio_limit(settings):
    settings.ZIP_MAX_RATIO = 100
    settings.ZIP_RATIO_MIN_BYTES = 64 * MB
    assert safezip.ratio_limit(0) == 64 * MB
    assert safezip.ratio_limit(10_000) == 64 * MB  # a small member may squeeze any amount
    assert safezip.ratio_limit(MB) == 100 * MB  # above the floor the ratio decides
    assert safezip.ratio_limit(64 * MB // 100 + 1) > 64 * MB


# --- 2. A CD's viewer program: one calm line ---------------------------------------------

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
VIEWER = [
    ("Viewer.exe", MZ),
    ("Qt5Core.dll", MZ),
    ("autorun.inf", b"[autorun]\r\nopen=Viewer.exe\r\nicon=viewer.ico\r\n"),
    ("viewer.ini", b"[settings]\r\nlanguage=da\r\n"),
    ("index.html", b"<!doctype html><title>CD</title><script src=viewer.js></script>"),
]
ENGLISH_NOTICE = "The CD's viewer program (5 files) is not needed and was left out."


def two_dicom() -> list[tuple[str, bytes]]:
    return [(f"IM00000{n}", to_bytes(ct_dataset(16, number=n))) for n in (1, 2)]


class Named(io.BytesIO):
    def __init__(self, name, data):
        super().__init__(data)
        self.name = name


def upload_url(booking, language="en") -> str:
    with translation.override(language):
        return reverse("booking:private_upload", kwargs={"token": make_token(booking)})


def post_files(client, booking, files, *, json_=True, language="en", **fields):
    headers = {"HTTP_ACCEPT": "application/json"} if json_ else {}
    return client.post(
        upload_url(booking, language),
        {"files": [Named(name, data) for name, data in files], **fields},
        **headers,
    )


def messages_of(response) -> list:
    return list(get_messages(response.wsgi_request))


def test_a_cds_viewer_program_gets_one_calm_line_and_the_images_are_kept(client):
    booking = BookingFactory(language="en")
    response = post_files(client, booking, VIEWER + two_dicom(), json_=False)
    assert response.status_code == 303

    notes = messages_of(response)
    texts = [str(m) for m in notes]
    assert texts == [
        "2 files were received.",
        ENGLISH_NOTICE + " Your images were received.",
    ]
    assert notes[1].level == message_levels.INFO  # calm: not an error
    assert not any("not accepted" in text for text in texts)
    uploads = list(booking.uploads.order_by("pk"))
    assert [(u.original_name, u.kind) for u in uploads] == [
        ("IM000001", "dicom"),
        ("IM000002", "dicom"),
    ]
    stored = [p for p in Path(uploads[0].file.path).parent.iterdir() if p.is_file()]
    assert len(stored) == 2  # nothing of the viewer is kept on disk


def test_the_calm_line_is_shown_on_the_patients_page(client):
    booking = BookingFactory(language="en")
    response = post_files(client, booking, VIEWER + two_dicom(), json_=False)
    page = client.get(response["Location"]).content.decode()
    assert "was left out. Your images were received." in page
    assert "not needed and was left out" in page.split("alert-info", 1)[1]
    assert "was not accepted" not in page


def test_a_damaged_image_is_still_refused_beside_the_viewer(client):
    booking = BookingFactory(language="en")
    damaged = ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    response = post_files(client, booking, [*VIEWER, damaged, *two_dicom()], json_=False)
    notes = messages_of(response)
    refusals = [str(m) for m in notes if m.level == message_levels.ERROR]
    assert refusals == ["scan.png was not accepted: the image is damaged or incomplete."]
    assert [str(m) for m in notes if m.level == message_levels.INFO] == [
        ENGLISH_NOTICE + " Your images were received."
    ]
    assert booking.uploads.count() == 2


def test_the_json_answer_counts_the_viewer_and_refuses_only_the_damaged(client):
    booking = BookingFactory(language="en")
    damaged = ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300)
    body = post_files(client, booking, [*VIEWER, damaged, *two_dicom()]).json()
    assert [a["name"] for a in body["accepted"]] == ["IM000001", "IM000002"]
    assert [r["name"] for r in body["refused"]] == ["photo.jpg"]
    assert body["left_out"] == {"viewer": 5, "system": 0}
    # The script adds "Your images were received." itself: it knows every batch.
    assert body["notice"] == ENGLISH_NOTICE


def test_the_notice_counts_the_earlier_batches_the_script_reports(client):
    booking = BookingFactory(language="en")
    first = post_files(client, booking, [*VIEWER[:3], *two_dicom()]).json()
    assert first["notice"] == "The CD's viewer program (3 files) is not needed and was left out."
    second = post_files(client, booking, VIEWER[3:], viewer_files_before=3).json()
    assert second["left_out"]["viewer"] == 2 and second["notice"] == ENGLISH_NOTICE
    later = post_files(client, booking, two_dicom(), viewer_files_before=5).json()
    assert later["notice"] == ENGLISH_NOTICE and later["left_out"]["viewer"] == 0
    for nonsense in ("x", "-4", "99999999999"):
        answer = post_files(client, booking, two_dicom(), viewer_files_before=nonsense).json()
        assert "notice" not in answer
    one = post_files(client, booking, [VIEWER[0]]).json()
    assert one["notice"] == "The CD's viewer program (1 file) is not needed and was left out."
    assert one["accepted"] == one["refused"] == []


def test_only_the_viewer_is_not_an_empty_choice(client):
    booking = BookingFactory(language="en")
    response = post_files(client, booking, VIEWER, json_=False)
    assert [str(m) for m in messages_of(response)] == [ENGLISH_NOTICE]
    assert not booking.uploads.exists()


def test_a_folders_system_files_are_left_out_without_a_word(client):
    booking = BookingFactory(language="en")
    system = [
        (".DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 100),
        ("Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
        ("desktop.ini", b"[.ShellClassInfo]\r\n"),
        ("._IM000001", b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 100),
    ]
    body = post_files(client, booking, system).json()
    assert body == {"accepted": [], "refused": [], "left_out": {"viewer": 0, "system": 4}}
    response = post_files(client, booking, system + two_dicom(), json_=False)
    assert [str(m) for m in messages_of(response)] == ["2 files were received."]


def test_dicomdir_is_accepted_quietly(client):
    """The CD's index is DICOM by content: kept like the images, never a refusal line."""
    booking = BookingFactory(language="en")
    body = post_files(client, booking, [("DICOMDIR", dicomdir_bytes()), *two_dicom()]).json()
    assert body["refused"] == [] and "notice" not in body
    assert [(a["name"], a["kind"]) for a in body["accepted"]][0] == ("DICOMDIR", "dicom")


@pytest.fixture
def danish_notice():
    """A Danish catalog entry for the notice, as the translators will write it."""
    catalog = trans_real.translation("da")._catalog
    singular = "The CD's viewer program (%(count)d file) is not needed and was left out."
    plural = "CD'ens visningsprogram (%(count)d filer) er ikke nødvendigt og blev udeladt."
    entries = {
        (singular, 0): plural.replace("filer", "fil"),
        (singular, 1): plural,
        "Your images were received.": "Dine billeder er modtaget.",
    }
    for key, value in entries.items():
        catalog[key] = value
    yield
    for key in entries:
        del catalog._catalogs[0][key]


def test_the_notice_is_in_the_language_of_the_request(client, danish_notice):
    booking = BookingFactory(language="da")
    response = post_files(client, booking, VIEWER + two_dicom(), json_=False, language="da")
    texts = [str(m) for m in messages_of(response)]
    assert "CD'ens visningsprogram (5 filer) er ikke nødvendigt og blev udeladt." in texts[1]
    assert texts[1].endswith("Dine billeder er modtaget.")
    assert not any("viewer program" in text for text in texts)
    body = post_files(client, booking, VIEWER, language="da").json()
    assert body["notice"].startswith("CD'ens visningsprogram (5 filer)")


@pytest.mark.parametrize(
    ("name", "head", "kind", "expected"),
    [
        # Known by content, whatever the name.
        ("VIEWER", MZ, None, VIEWER_PROGRAM),
        ("libjpeg.so.8", b"\x7fELF\x02\x01\x01", None, VIEWER_PROGRAM),
        ("Viewer", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", None, VIEWER_PROGRAM),  # Mach-O
        ("data1", b"MSCF\x00\x00\x00\x00", None, VIEWER_PROGRAM),  # a cabinet
        # Known by name.
        ("AUTORUN.INF", b"[autorun]", None, VIEWER_PROGRAM),
        ("setup.msi", b"\xd0\xcf\x11\xe0", None, VIEWER_PROGRAM),
        ("viewer.js", b"function(){}", None, VIEWER_PROGRAM),
        ("style.css", b"body{}", None, VIEWER_PROGRAM),
        ("Info.plist", b"<?xml", None, VIEWER_PROGRAM),
        ("PkgInfo", b"APPL????", None, VIEWER_PROGRAM),
        ("README.TXT", b"Viewer 3.1", None, VIEWER_PROGRAM),
        ("weasis.jar", b"PK\x03\x04", "zip", VIEWER_PROGRAM),
        ("Thumbs.db", b"\xd0\xcf\x11\xe0", None, SYSTEM_FILE),
        (".DS_Store", b"\x00\x00\x00\x01Bud1", None, SYSTEM_FILE),
        # Content wins: an image or a report is kept whatever its name.
        ("toolbar.ico", b"\x89PNG", "png", None),
        ("IM000001.exe", b"DICM", "dicom", None),
        ("manual.pdf", b"%PDF-1.7", "pdf", None),
        ("cd.zip", b"PK\x03\x04", "zip", None),
        # Meant to be sent, perhaps: refused as before, with the reason.
        ("letter.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None, None),
        ("notes.txt", b"my knee hurts", None, None),
        ("scan.tif", b"II*\x00", None, None),
        ("clip.mp4", b"\x00\x00\x00\x20ftypisom", None, None),
    ],
)
def test_left_out_as(name, head, kind, expected):
    assert left_out_as(name, head, kind) == expected


def test_a_word_file_and_a_text_file_are_still_refused(client):
    booking = BookingFactory(language="en")
    files = [("letter.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)]
    files.append(("notes.txt", b"my knee hurts\n"))
    body = post_files(client, booking, files).json()
    assert [r["name"] for r in body["refused"]] == ["letter.doc", "notes.txt"]
    assert all("cannot be sent here" in r["reason"] for r in body["refused"])
    assert "notice" not in body


def test_save_upload_says_why_a_viewer_file_is_not_kept():
    """Callers that only know refusals (the admin's "add files") still get a reason."""
    booking = BookingFactory(language="en")
    with pytest.raises(UploadRejected) as info:
        save_upload(booking=booking, uploaded_file=Named("Viewer.exe", MZ))
    assert isinstance(info.value, NotNeeded) and info.value.why == VIEWER_PROGRAM
    assert info.value.message == (
        "Viewer.exe was not accepted: it belongs to the CD's viewer program, which is not needed."
    )
    assert not booking.uploads.exists()


# --- 3. Day-first dates on English pages --------------------------------------------------


def test_english_staff_pages_write_dates_day_first(client):
    day = date(2026, 12, 3)
    waiting = BookingFactory(
        imaging_status=Booking.ImagingStatus.RADIOLOGY_WILL_SEND, earliest_date=day
    )
    confirmed = BookingFactory(
        status=Booking.Status.CONFIRMED,
        imaging_status=Booking.ImagingStatus.RADIOLOGY_WILL_SEND,
        starts_at=datetime(2026, 12, 3, 14, 30, tzinfo=COPENHAGEN),
        ends_at=datetime(2026, 12, 3, 15, 15, tzinfo=COPENHAGEN),
        earliest_date=day,
    )
    client.force_login(UserFactory(groups=["Doctors"]))
    with translation.override("en"):
        queue = client.get(reverse("review:queue"), HTTP_ACCEPT_LANGUAGE="en")
    html = queue.content.decode()
    assert waiting.reference in html and confirmed.reference in html
    assert "03/12/2026" in html and "03/12/2026 14:30" in html
    assert "12/03/2026" not in html and "p.m." not in html

    client.force_login(UserFactory(groups=["Reception"]))
    admin_list = client.get("/admin/booking/booking/", HTTP_ACCEPT_LANGUAGE="en")
    html = admin_list.content.decode()
    assert "3 December 2026, 14:30" in html
    assert "Dec. 3, 2026" not in html and "December 3, 2026" not in html


def test_a_date_typed_in_an_english_form_is_read_day_first():
    with translation.override("en"):
        birth_date = AboutYouForm().fields["birth_date"]
        for typed in ("03/12/1960", "1960-12-03", "03-12-1960", "03.12.1960"):
            assert birth_date.to_python(typed) == date(1960, 12, 3), typed
        assert forms.DateField().clean("03/12/2026") == date(2026, 12, 3)
        with pytest.raises(forms.ValidationError):
            forms.DateField().clean("12/31/2026")  # month first is never read
        when = forms.DateTimeField().clean("03/12/2026 14:30")
        assert (when.day, when.month, when.hour) == (3, 12, 14)
    with translation.override("da"):
        assert forms.DateField().clean("03.12.2026") == date(2026, 12, 3)


# --- 4. filetypes' and safezip's reasons are notes ------------------------------------------


def reason(error) -> dict:
    return as_note(error).data()


def test_formatted_zip_reasons_keep_their_msgid_and_parameters(tmp_path, settings):
    settings.ZIP_MAX_ENTRIES = 3
    path = write(tmp_path, "many.zip", zip_of({f"IM{i}": b"x" for i in range(4)}))
    with pytest.raises(ValueError) as entries:
        check_zip(path)
    assert reason(entries.value) == {
        "msg": "the zip file holds more than %(count)d files.",
        "args": {"count": 3},
    }

    settings.ZIP_MAX_ENTRIES = 100
    settings.ZIP_MAX_TOTAL_BYTES = MB
    noise = np.random.default_rng(1).integers(0, 256, MB + 1, dtype=np.uint8).tobytes()
    path = write(tmp_path, "big.zip", zip_of({"IM1": noise}))
    with pytest.raises(ValueError) as total:
        check_zip(path)
    assert reason(total.value) == {
        "msg": "unpacked, the zip file would take more than %(size)s.",
        "args": {"size": "1 MB"},
    }
    with translation.override("en"):
        assert str(total.value) == "unpacked, the zip file would take more than 1 MB."


def test_plain_reasons_keep_their_msgid(tmp_path):
    damaged = write(tmp_path, "bad.zip", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ValueError) as error:
        check_zip(damaged)
    assert reason(error.value) == {"msg": "the zip file is damaged or incomplete."}
    path = write(tmp_path, "ok.zip", zip_of({"IM1": b"x"}))
    with zipfile.ZipFile(path) as archive, pytest.raises(safezip.ZipRefused) as refused:
        safezip.stream_member(archive, archive.infolist()[0], lambda chunk: None, limit=0)
    assert isinstance(refused.value.args[0], Note)
    assert reason(refused.value) == {
        "msg": "it unpacks to more than the zip file declares or allows."
    }


def test_pdf_page_count_reason_keeps_its_parameters(tmp_path, settings):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _page in range(3):
        writer.add_blank_page(width=200, height=200)
    path = tmp_path / "report.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    settings.PDF_MAX_PAGES = 2
    with pytest.raises(ValueError) as error:
        check_pdf_complexity(path)
    assert reason(error.value) == {
        "msg": "the PDF has more than %(count)d pages.",
        "args": {"count": 2},
    }


def test_size_text_is_the_same_in_every_language():
    assert [size_text(n) for n in (4 * 1024**3, 1536 * MB, 64 * MB, 1000, 20 * 1024 + 1)] == [
        "4 GB", "1536 MB", "64 MB", "1000 B", "20 KB",
    ]  # fmt: skip


def test_the_patient_still_reads_the_reason_in_english(client, settings):
    settings.ZIP_MAX_ENTRIES = 3
    booking = BookingFactory(language="en")
    data = zip_of({f"IM{i}": b"x" for i in range(4)})
    body = post_files(client, booking, [("cd.zip", data)]).json()
    assert body["refused"] == [
        {"name": "cd.zip", "reason": "the zip file holds more than 3 files."}
    ]
    response = post_files(client, booking, [("cd.zip", data)], json_=False)
    assert [str(m) for m in messages_of(response)] == [
        "cd.zip was not accepted: the zip file holds more than 3 files."
    ]
    assert not Upload.objects.filter(booking=booking).exists()


# --- The page's script (a real browser) -----------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_script_shows_one_calm_line_across_batches(visit, tmp_path, monkeypatch):
    """26 files go in two batches (the script sends at most 20 at a time): the notice
    counts the viewer files of both, and only the damaged photo is listed as refused."""
    from playwright.sync_api import expect

    monkeypatch.setattr("booking.uploads.enqueue_processing", lambda upload: None)
    booking = BookingFactory(language="en")
    folder = tmp_path / "cd"
    folder.mkdir()
    paths = []
    for n in range(23):
        paths.append(write(folder, f"lib{n:02d}.dll", MZ))
    for name, data in [*two_dicom(), ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300)]:
        paths.append(write(folder, name, data))

    page = visit().page
    page.goto(private_path(booking, "en"))
    page.set_input_files("#upload-files", [str(p) for p in paths])
    page.locator(".upload-widget button[type=submit]").click()
    status = page.locator(".upload-status")
    expect(status).to_contain_text("Received: 2.")
    expect(page.locator(".upload-notice")).to_have_text(
        "The CD's viewer program (23 files) is not needed and was left out. "
        "Your images were received."
    )
    refused = page.locator(".upload-refused li")
    expect(refused).to_have_count(1)
    expect(refused.first).to_contain_text("photo.jpg")
    assert booking.uploads.count() == 2
