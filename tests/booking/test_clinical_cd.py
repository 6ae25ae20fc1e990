"""A realistic hospital CD through the upload processing and the doctors' pages.

The CD (tests/booking/cd_fixtures.py, in its small version) is uploaded as a zip to a
booking, processed as the imaging worker does it (`run_processing`, through the
sandbox), and checked through what a doctor gets: the study page, the viewer and the
files it serves. The CD is read back with pydicom to know what the right answer is.
"""

import io
import json
import re
import zipfile
from datetime import date
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from PIL import Image

from booking.imaging import processing
from booking.models import Booking, ImagingAccess, ImagingReview, Instance, Report, Series, Study
from tests.booking import cd_fixtures as cd
from tests.booking.factories import BookingFactory
from tests.booking.test_imaging import make_upload
from tests.factories import UserFactory

# One test process takes the module (`--dist loadgroup`): the CDs are made and processed once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("clinical-cd")]

BIRTH_DATE = date(1949, 3, 12)
HU_PRESETS = {"soft_tissue", "bone", "lung"}
Action = ImagingAccess.Action


@pytest.fixture(scope="module")
def cds(tmp_path_factory):
    """The small CD of the booking's patient, and one of a patient born a day later.

    key -> (zip, folder, {path inside the CD: header without pixels}).
    """
    root = tmp_path_factory.mktemp("cds")
    made = {}
    for key, patient in (("same", cd.PATIENT), ("other", ("Jørgensen^Åse", "19490313", "F"))):
        folder = cd.build_cd(root / key, patient=patient, **cd.SMALL_CD)
        made[key] = (cd.zip_cd(folder, root / f"{key}.zip"), folder, cd.cd_headers(folder))
    return made


def uploaded_cd(cds, key="same"):
    """A booking of Åse Jørgensen, born 12 March 1949, with the CD uploaded and processed."""
    booking = BookingFactory(
        name="Åse Jørgensen",
        birth_date=BIRTH_DATE,
        language="en",
        scan_date=None,
        scan_modality="",
        imaging_status=Booking.ImagingStatus.UPLOADED,
    )
    upload = make_upload(booking, Path(cds[key][0]), "zip", "cd.zip")
    with translation.override("en"):
        processing.run_processing(upload.pk)
    return booking.pk, upload.pk


@pytest.fixture(scope="module")
def private_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("private")
    with override_settings(PRIVATE_STORAGE_ROOT=root):
        yield root


@pytest.fixture(scope="module")
def processed(private_root, django_db_setup, django_db_blocker, cds):
    """The CD of the booking's own patient, processed once for the tests that only read.

    As Django's setUpTestData does: made in a transaction that is rolled back after the
    module's last test; each test runs in a savepoint inside it, so its own changes
    (page views, verdicts) are undone after it.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        booking_id, upload_id = uploaded_cd(cds)
        yield SimpleNamespace(
            booking_id=booking_id,
            upload_id=upload_id,
            folder=cds["same"][1],
            headers=cds["same"][2],
        )
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def in_english(client, private_root):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def doctor(client):
    user = UserFactory(username="doc", groups=["Doctors"])
    client.force_login(user)
    return user


@pytest.fixture
def booking(processed):
    return Booking.objects.get(pk=processed.booking_id)


# --- Helpers ------------------------------------------------------------------------------


def booking_page(client, booking) -> str:
    response = client.get(reverse("review:booking", args=[booking.pk]))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's text: tags removed, entities decoded, one space between words."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def series_titled(booking, description) -> Series:
    return Series.objects.get(study__booking=booking, description=description)


def open_viewer(client, series, query="") -> tuple[str, dict]:
    """The viewer's HTML and the data its script reads (ids in display order, presets...)."""
    response = client.get(reverse("review:viewer", args=[series.pk]) + query)
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(
        r'<script id="viewer-data" type="application/json">(.*?)</script>', html, re.S
    )
    return html, json.loads(found.group(1))


def highlighted(html: str) -> list[str]:
    """The window buttons marked aria-current (the window the image is shown in)."""
    buttons = re.findall(r"<a [^>]*data-preset=[^>]*>", html)
    return [
        re.search(r'data-preset="([^"]+)"', tag).group(1)
        for tag in buttons
        if 'aria-current="true"' in tag
    ]


def shown_src(html: str) -> str:
    return unescape(re.search(r'<img class="viewer-image" src="([^"]+)"', html).group(1))


def served(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content)


def served_image(client, url) -> Image.Image:
    image = Image.open(io.BytesIO(served(client, url)))
    image.load()
    return image


def path_of(headers, description) -> str:
    return next(path for path, ds in headers.items() if ds.get("SeriesDescription") == description)


# --- Whose scan it is --------------------------------------------------------------------------


def test_identity_matches_and_the_patient_id_is_shown_audited_and_never_stored(
    client, doctor, booking
):
    studies = list(Study.objects.filter(booking=booking))
    assert len(studies) == 4
    assert {study.patient_name for study in studies} == {"Jørgensen^Åse"}

    assert not ImagingAccess.objects.filter(action=Action.IDENTITY).exists()
    html = booking_page(client, booking)
    text = text_of(html)
    assert "Jørgensen, Åse" in text  # decoded as ISO_IR 100 says, not as mojibake
    assert "JÃ" not in text
    assert text.count("Matches the booking") == 4
    assert "Differs from the booking" not in text
    assert cd.INSTITUTION in text
    assert 'name="identity_checked"' not in html  # nothing to confirm

    assert cd.PATIENT_ID in text
    seen = ImagingAccess.objects.filter(booking=booking, action=Action.IDENTITY)
    assert seen.count() == len(studies) and {row.user for row in seen} == {doctor}

    # The patient ID looks like a CPR number: no column of any table holds it.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                assert cd.PATIENT_ID not in repr(row), table

    # The newest study of this patient (the MR) set the booking's scan details.
    assert booking.scan_date == date(2025, 2, 10) and booking.scan_modality == "mr"


def test_a_study_that_differs_needs_confirmation_and_never_sets_the_scan_date(client, doctor, cds):
    booking_id, _upload_id = uploaded_cd(cds, "other")  # born 13 March 1949, not the 12th
    booking = Booking.objects.get(pk=booking_id)
    assert booking.scan_date is None and booking.scan_modality == ""
    url = reverse("review:booking", args=[booking.pk])

    html = booking_page(client, booking)
    text = text_of(html)
    assert text.count("Differs from the booking: check before use") == 4
    assert "Matches the booking" not in text
    assert "Jørgensen, Åse" in text and 'name="identity_checked"' in html

    response = client.post(url, {"verdict": "approved"})
    assert response.status_code == 200
    assert "identity_checked" in response.context["form"].errors
    assert "tick this box" in text_of(response.content.decode())
    # A study of another patient cannot be the one whose date counts, even when confirmed.
    mr = Study.objects.get(booking=booking, modality="MR")
    response = client.post(
        url, {"verdict": "approved", "identity_checked": "on", "scan_study": mr.pk}
    )
    assert response.status_code == 200 and "scan_study" in response.context["form"].errors
    assert not ImagingReview.objects.filter(booking=booking).exists()

    response = client.post(url, {"verdict": "approved", "identity_checked": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")
    review = ImagingReview.objects.get(booking=booking)
    assert (review.verdict, review.doctor) == ("approved", doctor)
    booking.refresh_from_db()
    assert booking.scan_date is None and booking.scan_study is None


# --- Reports ------------------------------------------------------------------------------------


def test_reports_are_listed_first_with_the_sr_text_and_the_pdfs_previewed(
    client, doctor, booking, processed
):
    html = booking_page(client, booking)
    ct = Study.objects.get(booking=booking, description=cd.CT_STUDY_DESCRIPTION)
    start = html.index(f'id="study-{ct.pk}"')
    series_list = html.index('class="review-series', start)
    before_series = text_of(html[start:series_list])
    for words in (cd.SR_FINDING, cd.SR_IMPRESSION, cd.SR_SITE, "Findings"):
        assert words in before_series, words
    name, value, unit = cd.SR_MEASUREMENT
    assert re.search(rf"{name}: {re.escape(value)} {unit}\b", before_series), before_series

    reports = Report.objects.filter(booking=booking)
    sr = reports.get(kind="sr")
    encapsulated = reports.get(kind="pdf", study__isnull=False)
    loose = reports.get(kind="pdf", study__isnull=True)
    assert (sr.kind, sr.study) == ("sr", ct)
    assert (encapsulated.kind, encapsulated.study) == ("pdf", ct)
    assert encapsulated.title == cd.PDF_TITLE
    assert encapsulated.member == path_of(processed.headers, cd.PDF_SERIES_DESCRIPTION)
    assert (loose.kind, loose.study, loose.member) == ("pdf", None, "REPORT.PDF")

    encapsulated_url = reverse("review:report_preview", args=[encapsulated.pk])
    loose_url = reverse("review:report_preview", args=[loose.pk])
    assert start < html.index(encapsulated_url) < series_list  # in the CT study, before its series
    assert html.index(loose_url) < html.index('id="studies-heading"')  # the CD's own report
    assert "REPORT.PDF" in text_of(html)
    for url in (encapsulated_url, loose_url):
        page = served_image(client, url)  # the first page, rendered by the worker
        assert page.height > page.width > 100


# --- Geometry -----------------------------------------------------------------------------------


def test_the_topogram_keeps_its_proportions_and_slices_come_in_position_order(
    client, doctor, booking, processed
):
    headers = processed.headers
    topogram = series_titled(booking, cd.TOPOGRAM_DESCRIPTION).instances.get()
    source = headers[topogram.member]
    assert (source.Rows, source.Columns) == (32, 64)  # 1.0 x 0.5 mm pixels: a square of 32 mm
    image = served_image(client, reverse("review:instance_preview", args=[topogram.pk]))
    assert 0.9 < image.width / image.height < 1.1  # stretched it would be 2:1

    axial = series_titled(booking, cd.CT_SERIES_DESCRIPTION)
    _html, data = open_viewer(client, axial)
    instances = Instance.objects.in_bulk(data["ids"])
    members = [instances[pk].member for pk in data["ids"]]
    assert len(members) == len(set(members)) == cd.SMALL_CD["ct_slices"]
    positions = [float(headers[m].ImagePositionPatient[2]) for m in members]
    assert positions in (sorted(positions), sorted(positions, reverse=True)), positions
    # What makes it hard: files named in another order, some slices without a number.
    by_name = [float(headers[m].ImagePositionPatient[2]) for m in sorted(members)]
    assert by_name not in (sorted(by_name), sorted(by_name, reverse=True))
    assert any("InstanceNumber" not in headers[m] for m in members)


# --- Clips, deflated files and what is refused ----------------------------------------------------


def test_long_clips_are_sampled_deflated_files_shown_and_only_the_damaged_file_refused(
    client, doctor, booking, processed
):
    headers = processed.headers
    long_clip = series_titled(booking, cd.LONG_CLIP_DESCRIPTION)
    frames = sorted(long_clip.instances.values_list("frame", flat=True))
    assert len(frames) == len(set(frames)) == 120
    assert frames[0] == 0 and frames[-1] == cd.SMALL_CD["long_frames"] - 1  # spread evenly
    clip = series_titled(booking, cd.US_CLIP_DESCRIPTION)  # 800 x 600 x 6: not too many pixels
    assert clip.instances.count() == cd.SMALL_CD["us_frames"]

    deflated = series_titled(booking, cd.DEFLATED_DESCRIPTION).instances.get()
    image = served_image(client, reverse("review:instance_preview", args=[deflated.pk]))
    assert image.height > image.width > 100  # a portrait radiograph

    upload = booking.uploads.get()
    assert upload.processing == upload.Processing.PARTLY
    lines = upload.note_lines()
    long_path = path_of(headers, cd.LONG_CLIP_DESCRIPTION)
    sampled = [line for line in lines if long_path in line]
    assert len(sampled) == 1 and "120" in sampled[0] and "130" in sampled[0]
    damaged = path_of(headers, cd.DAMAGED_DESCRIPTION)  # the one file the CD holds to refuse
    refused = [line for line in lines if damaged in line]
    assert len(refused) == 1
    # Every other line names no file: the CD's index, its viewer program, its README and
    # REPORT.PDF are not refusals.
    named = [
        line
        for line in lines
        if re.search(r"\b[A-Z]{2}\d{6}\b|VIEWER|\.(EXE|DLL|INF|HTM|PDF)\b", line)
    ]
    assert named == sampled + refused or named == refused + sampled, lines
    assert not any("DICOMDIR" in line for line in lines)
    assert len([line for line in lines if "viewer" in line.lower()]) <= 1  # said once, if at all

    text = text_of(booking_page(client, booking))
    assert refused[0] in text and sampled[0] in text
    assert "VIEWER.EXE" not in text and ".DLL" not in text


# --- Windows --------------------------------------------------------------------------------------


def preset_codes(data) -> list[str]:
    return [preset["code"] for preset in data["presets"]]


def test_window_presets_follow_the_modality_and_the_highlighted_one_is_shown(
    client, doctor, booking
):
    axial = series_titled(booking, cd.CT_SERIES_DESCRIPTION)
    html, data = open_viewer(client, axial, "?preset=bone")
    codes = preset_codes(data)
    assert set(codes) >= HU_PRESETS and codes[-1] == "auto"
    assert highlighted(html) == ["bone"] and data["preset"] == "bone"
    src = shown_src(html)
    assert src.endswith("?preset=bone")
    first = Instance.objects.get(pk=data["ids"][0])
    default_png = served(client, reverse("review:instance_preview", args=[first.pk]))
    assert served(client, src) != default_png  # the bone window, not the preview again

    for description in (
        cd.ENHANCED_MR_DESCRIPTION,
        cd.BIG_ENDIAN_MR_DESCRIPTION,
        cd.CR_DESCRIPTION,
    ):
        series = series_titled(booking, description)
        html, data = open_viewer(client, series)
        codes = preset_codes(data)
        assert not HU_PRESETS & set(codes), (description, codes)
        assert codes[0] == "file1" and codes[-1] == "auto", (description, codes)
        first = Instance.objects.get(pk=data["ids"][0])
        assert highlighted(html) == [first.default_window] == [data["preset"]], description
        assert shown_src(html) == reverse("review:instance_preview", args=[first.pk])

    for description in (cd.US_CLIP_DESCRIPTION, cd.SCREENSHOT_DESCRIPTION):
        html, data = open_viewer(client, series_titled(booking, description))
        assert data["presets"] == [] and "data-preset" not in html, description


# --- Download all ---------------------------------------------------------------------------------


def test_download_all_gives_the_studys_originals_under_their_cd_paths_to_doctors_only(
    client, doctor, booking, processed
):
    ct = Study.objects.get(booking=booking, description=cd.CT_STUDY_DESCRIPTION)
    expected = {
        path for path, ds in processed.headers.items() if ds.get("StudyInstanceUID") == ct.study_uid
    }
    assert len(expected) == 1 + cd.SMALL_CD["ct_slices"] + 2  # topogram, slices, SR, PDF
    url = reverse("review:study_download", args=[ct.pk])
    assert not ImagingAccess.objects.filter(action=Action.DOWNLOAD).exists()

    response = client.get(url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert set(archive.namelist()) == expected
        for name in expected:
            assert archive.read(name) == (processed.folder / name).read_bytes(), name
    downloads = ImagingAccess.objects.filter(booking=booking, action=Action.DOWNLOAD)
    assert downloads.count() == 1 and downloads.get().user == doctor

    client.force_login(UserFactory(username="desk", groups=["Reception"]))
    assert client.get(url).status_code == 403
    assert ImagingAccess.objects.filter(action=Action.DOWNLOAD).count() == 1
