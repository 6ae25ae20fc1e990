"""Uploads: content sniffing, limits, zip safety, safe names, private storage and the
endpoint (JSON and the no-JavaScript redirect), through a test-only URL that calls
handle_upload the way the patient-side views do."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.shortcuts import get_object_or_404
from django.test import Client
from django.urls import path
from django.utils import translation
from django.utils.translation import trans_real
from PIL import Image

from booking.filetypes import check_zip, clean_original_name, sniff_kind
from booking.models import Booking, Upload
from booking.upload_views import accepts_uploads, handle_upload
from booking.uploads import UploadRejected, save_upload
from clinic.urls import urlpatterns as site_urlpatterns
from tests.booking.factories import BookingFactory

# --- A URL that calls handle_upload (the patient-side views do the same) ------------


@accepts_uploads
def upload_view(request, pk):
    return handle_upload(request, get_object_or_404(Booking, pk=pk))


urlpatterns = [path("upload/<int:pk>/", upload_view, name="test-upload"), *site_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

CSRF = "a" * 32


# --- Fixtures and sample files -----------------------------------------------------------


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def draft():
    return BookingFactory(status=Booking.Status.DRAFT, submitted_at=None)


@pytest.fixture
def client():
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF
    return client


def image_bytes(fmt: str, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 30, 200)).save(out, fmt)
    return out.getvalue()


def dicom_bytes() -> bytes:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm")).read_bytes()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class Named(io.BytesIO):
    """A file for the test client with any name (the client sends its basename)."""

    def __init__(self, name, data):
        super().__init__(data)
        self.name = name


def post(client, booking, files, *, json_=True, lang="en", **extra):
    headers = {"HTTP_ACCEPT_LANGUAGE": lang, **extra}
    if json_:
        headers["HTTP_ACCEPT"] = "application/json"
    return client.post(
        f"/upload/{booking.pk}/",
        {"csrfmiddlewaretoken": CSRF, "files": [Named(n, d) for n, d in files]},
        **headers,
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in (root / "bookings").rglob("*") if p.is_file()] if root.exists() else []


def incoming_files(root: Path) -> list[Path]:
    folder = root / "incoming"
    return list(folder.iterdir()) if folder.exists() else []


# --- Sniffing ----------------------------------------------------------------------


def test_sniff_each_kind():
    dcm = dicom_bytes()
    assert sniff_kind(dcm[:512], len(dcm)) == "dicom"
    assert sniff_kind(dcm[132:644], len(dcm) - 132) == "dicom"  # no preamble
    assert sniff_kind(image_bytes("JPEG")[:512], 1000) == "jpeg"
    assert sniff_kind(image_bytes("PNG")[:512], 1000) == "png"
    assert sniff_kind(HEIC, len(HEIC)) == "heic"
    assert sniff_kind(PDF, len(PDF)) == "pdf"
    assert sniff_kind(zip_bytes({"a": b"x"}), 100) == "zip"
    assert sniff_kind(b"hello, this is text", 19) is None
    assert sniff_kind(b"MZ\x90\x00" + b"\x00" * 100, 104) is None


# --- Accepted through the endpoint -----------------------------------------------------


def test_each_allowed_kind_is_accepted_and_stored_privately(client, draft, storage, settings):
    dcm = dicom_bytes()
    files = [
        ("CT_small.dcm", dcm),
        ("IM000001", dcm[132:]),  # a CD file: no extension, no preamble
        ("DICOMDIR", dcm),
        ("photo.jpg", image_bytes("JPEG")),
        ("photo.png", image_bytes("PNG")),
        ("photo.heic", HEIC),
        ("report.pdf", PDF),
        ("cd.zip", zip_bytes({"DICOM/IM1": dcm, "DICOMDIR": dcm})),
    ]
    response = post(client, draft, files)
    assert response.status_code == 200
    body = response.json()
    assert body["refused"] == []
    assert [a["kind"] for a in body["accepted"]] == [
        "dicom", "dicom", "dicom", "jpeg", "png", "heic", "pdf", "zip",
    ]  # fmt: skip
    uploads = list(draft.uploads.all())
    assert [u.original_name for u in uploads] == [name for name, _ in files]
    assert uploads[0].size == len(dcm)
    on_disk = stored_files(storage)
    assert len(on_disk) == len(files)
    assert not (Path(settings.MEDIA_ROOT) / "bookings").exists()
    for upload in uploads:
        assert Path(upload.file.path).is_relative_to(storage)
        assert upload.file.read() != b""  # readable through the field's storage
        upload.file.close()
    assert incoming_files(storage) == []


def test_content_wins_over_the_name(client, draft):
    response = post(client, draft, [("scan.dcm", image_bytes("PNG"))])
    upload = draft.uploads.get()
    assert response.json()["accepted"][0]["kind"] == "png"
    assert upload.kind == Upload.Kind.PNG
    assert upload.file.name.endswith(".png")
    assert "scan" not in upload.file.name


def test_stored_names_are_random(client, draft):
    post(client, draft, [("Jens Hansen CPR 010101-1234.png", image_bytes("PNG"))])
    upload = draft.uploads.get()
    assert upload.original_name == "Jens Hansen CPR 010101-1234.png"
    assert "Jens" not in upload.file.name and "1234" not in upload.file.name
    assert upload.file.name.startswith(f"bookings/{draft.pk}/")


def test_upload_url_is_not_public(draft):
    upload = save_upload(booking=draft, uploaded_file=Named("a.png", image_bytes("PNG")))
    with pytest.raises(ValueError):
        upload.file.url  # noqa: B018


# --- Refused -------------------------------------------------------------------------


def refusal(booking, name, data):
    """The reason `save_upload` gives for refusing the file, in English."""
    with translation.override("en"), pytest.raises(UploadRejected) as info:
        save_upload(booking=booking, uploaded_file=Named(name, data))
    with translation.override("en"):
        assert info.value.name == clean_original_name(name)
        assert info.value.name in info.value.message
        return str(info.value.reason)


def test_text_named_jpg_is_refused_with_the_reason(client, draft, storage):
    response = post(client, draft, [("photo.jpg", b"just some text, not a photo\n" * 10)])
    body = response.json()
    assert body["accepted"] == []
    assert body["refused"][0]["name"] == "photo.jpg"
    assert "cannot be sent" in body["refused"][0]["reason"]
    assert not draft.uploads.exists()
    assert stored_files(storage) == [] and incoming_files(storage) == []


def test_empty_file(draft, storage):
    assert "empty" in refusal(draft, "empty.dcm", b"")
    assert incoming_files(storage) == []


def test_truncated_jpeg(draft):
    data = image_bytes("JPEG", size=(400, 300))
    assert "damaged" in refusal(draft, "half.jpg", data[: len(data) // 2])


def test_garbage_after_png_magic(draft):
    assert "damaged" in refusal(draft, "x.png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)


def test_pdf_without_end(draft):
    assert "damaged" in refusal(draft, "r.pdf", b"%PDF-1.4\n" + b"x" * 5000)


def test_corrupt_zip(draft):
    assert "damaged" in refusal(draft, "cd.zip", b"PK\x03\x04" + b"\x00" * 400)


def test_oversized_file_is_cut_off_while_streaming(client, draft, storage, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 10_000
    big = image_bytes("PNG") + b"\x00" * 20_000
    small = image_bytes("PNG")
    response = post(client, draft, [("big.png", big), ("small.png", small)])
    body = response.json()
    assert [a["name"] for a in body["accepted"]] == ["small.png"]
    assert body["refused"][0]["name"] == "big.png"
    assert "larger than" in body["refused"][0]["reason"]
    assert incoming_files(storage) == []
    assert len(stored_files(storage)) == 1


def test_oversized_file_given_directly(draft, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1000
    assert "larger than" in refusal(draft, "big.pdf", PDF + b"x" * 5000)


def test_too_many_files_for_a_booking(client, draft, settings):
    settings.UPLOAD_MAX_FILES_PER_BOOKING = 2
    png = image_bytes("PNG")
    body = post(client, draft, [("1.png", png), ("2.png", png), ("3.png", png)]).json()
    assert len(body["accepted"]) == 2
    assert body["refused"][0]["name"] == "3.png"
    assert "at most 2 files" in body["refused"][0]["reason"]
    assert draft.uploads.count() == 2


def test_too_many_files_in_one_request(client, draft, settings, storage):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    png = image_bytes("PNG")
    response = post(client, draft, [("1.png", png), ("2.png", png), ("3.png", png)])
    assert response.status_code == 400
    assert "Too many files" in response.json()["error"]
    assert not draft.uploads.exists()
    assert incoming_files(storage) == []


# --- Zip safety ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "member",
    ["../evil.txt", "DICOM/../../evil.txt", "/etc/passwd", "C:/Windows/evil.txt", "..\\evil.txt"],
)
def test_zip_paths_that_climb_out(draft, member):
    data = zip_bytes({"DICOM/IM1": b"x" * 100, member: b"evil"})
    assert "outside its folder" in refusal(draft, "cd.zip", data)


def test_zip_with_windows_separators_inside_is_fine(draft):
    upload = save_upload(
        booking=draft, uploaded_file=Named("cd.zip", zip_bytes({"DICOM\\IM1": b"x" * 100}))
    )
    assert upload.kind == "zip"


def test_zip_bomb_is_refused_without_unpacking(draft):
    # ~1 GB of zeros in about 1 MB: written in chunks, never held whole.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        chunk = b"\x00" * (4 * 1024 * 1024)
        with archive.open("zeros.dcm", "w", force_zip64=True) as entry:
            for _ in range(256):
                entry.write(chunk)
    data = out.getvalue()
    assert len(data) < 5 * 1024 * 1024
    assert "far more than its own size" in refusal(draft, "cd.zip", data)


def test_zip_total_size_limit(draft, settings):
    settings.ZIP_MAX_TOTAL_BYTES = 1000
    data = zip_bytes({f"IM{i}": bytes(range(256)) * 2 for i in range(5)})
    assert "would take more than" in refusal(draft, "cd.zip", data)


def test_zip_entry_limit(draft, settings):
    settings.ZIP_MAX_ENTRIES = 3
    data = zip_bytes({f"IM{i}": b"x" for i in range(4)})
    assert "more than 3 files" in refusal(draft, "cd.zip", data)


def test_encrypted_zip(draft):
    data = bytearray(zip_bytes({"IM1": b"secret" * 10}))
    # Set the "encrypted" flag in the local and central headers (zipfile cannot encrypt).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + offset
        data[at] |= 0x01
    assert "password" in refusal(draft, "cd.zip", bytes(data))


def test_nested_zip_is_flagged_not_followed(client, draft):
    inner = zip_bytes({"IM1": dicom_bytes()})
    data = zip_bytes({"DICOM/IM1": dicom_bytes(), "more/inner.zip": inner})
    assert check_zip_from_bytes(data).nested_archives == ["more/inner.zip"]
    accepted = post(client, draft, [("cd.zip", data)]).json()["accepted"]
    assert accepted[0]["kind"] == "zip"
    assert accepted[0]["nested_archives"] == ["more/inner.zip"]
    assert accepted[0]["note"]


def check_zip_from_bytes(data):
    import tempfile

    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        return check_zip(Path(handle.name))


# --- Names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\scan.dcm", "scan.dcm"),
        ("C:scan.dcm", "scan.dcm"),
        ("røntgen æøå 画像.png", "røntgen æøå 画像.png"),
        ("evil\x00\x07\x1b[31m.png", "evil[31m.png"),
        ("abc\u202egnp.exe", "abcgnp.exe"),  # right-to-left override removed
        ("..", "unnamed file"),
        ("x" * 300 + ".dcm", "x" * 251 + ".dcm"),
    ],
)
def test_clean_original_name(given, kept):
    with translation.override("en"):
        assert clean_original_name(given) == kept


def test_odd_names_are_stored_safely(draft, storage):
    png = image_bytes("PNG")
    for name in ["../../etc/passwd", "røntgen\x07 画像.png", "a\\b\\c.png"]:
        save_upload(booking=draft, uploaded_file=Named(name, png))
    names = list(draft.uploads.values_list("original_name", flat=True))
    assert names == ["passwd", "røntgen 画像.png", "c.png"]
    for upload in draft.uploads.all():
        assert Path(upload.file.path).resolve().is_relative_to(storage.resolve())
    assert not (storage.parent / "etc").exists()


def test_odd_names_through_the_endpoint(client, draft):
    body = post(client, draft, [("røntgen 画像\x07.png", image_bytes("PNG"))]).json()
    assert body["accepted"][0]["name"] == "røntgen 画像.png"


# --- Endpoint behaviour ---------------------------------------------------------------------


@pytest.fixture
def danish_reason():
    catalog = trans_real.translation("da")._catalog
    msgid = "the file is empty."
    catalog[msgid] = "filen er tom."
    yield "filen er tom."
    del catalog._catalogs[0][msgid]


def test_json_refusals_are_in_the_request_language(client, draft, danish_reason):
    body = post(client, draft, [("tom.dcm", b"")], lang="da").json()
    assert body["refused"] == [{"name": "tom.dcm", "reason": danish_reason}]
    body = post(client, draft, [("empty.dcm", b"")], lang="en").json()
    assert body["refused"] == [{"name": "empty.dcm", "reason": "the file is empty."}]


def test_x_requested_with_also_gets_json(client, draft):
    response = post(
        client, draft, [("a.png", image_bytes("PNG"))], json_=False, HTTP_X_REQUESTED_WITH="x"
    )
    assert response["Content-Type"] == "application/json"


def test_without_javascript_redirects_back_with_messages(client, draft):
    response = post(
        client,
        draft,
        [("a.png", image_bytes("PNG")), ("b.jpg", b"not a photo at all")],
        json_=False,
        HTTP_REFERER="http://testserver/da/booking/step/3/",
    )
    assert response.status_code == 303
    assert response["Location"] == "http://testserver/da/booking/step/3/"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts[0] == "1 file was received."
    assert texts[1].startswith("b.jpg was not accepted: this kind of file cannot be sent")
    assert draft.uploads.count() == 1


def test_foreign_referer_is_not_followed(client, draft):
    response = post(
        client,
        draft,
        [("a.png", image_bytes("PNG"))],
        json_=False,
        HTTP_REFERER="https://evil.example/",
    )
    assert response.status_code == 303
    assert response["Location"] == f"/upload/{draft.pk}/"


def test_csrf_stays_on(draft, storage):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/upload/{draft.pk}/", {"files": [Named("a.png", image_bytes("PNG"))]})
    assert response.status_code == 403
    assert not draft.uploads.exists()
    assert incoming_files(storage) == [] and stored_files(storage) == []


def test_no_files_chosen(client, draft):
    response = client.post(
        f"/upload/{draft.pk}/", {"csrfmiddlewaretoken": CSRF}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error"]


def test_get_is_not_allowed(client, draft):
    assert client.get(f"/upload/{draft.pk}/").status_code == 405


def test_files_survive_an_error_elsewhere(client, draft):
    """Files are kept on the draft as soon as they arrive, whatever the rest of the
    form does later."""
    post(client, draft, [("a.png", image_bytes("PNG"))])
    draft.refresh_from_db()
    assert draft.uploads.count() == 1
    post(client, draft, [("b.png", image_bytes("PNG"))])
    assert draft.uploads.count() == 2


def test_widget_renders_without_javascript(draft):
    from django.template.loader import render_to_string

    upload = save_upload(booking=draft, uploaded_file=Named("a.png", image_bytes("PNG")))
    html = render_to_string(
        "booking/includes/upload_widget.html",
        {"upload_url": "/upload/1/", "uploads": [upload], "csrf_token": CSRF},
    )
    assert 'enctype="multipart/form-data"' in html
    assert "webkitdirectory" in html and "multiple" in html
    assert 'aria-live="polite"' in html and "<progress" in html
    assert "a.png" in html


def not_exempt_view(request, pk):
    """A view the CSRF middleware checks first: the body is parsed before handle_upload."""
    return handle_upload(request, get_object_or_404(Booking, pk=pk))


urlpatterns.insert(0, path("plain-upload/<int:pk>/", not_exempt_view))


def test_view_without_accepts_uploads_still_works(client, draft, storage, caplog):
    response = client.post(
        f"/plain-upload/{draft.pk}/",
        {"csrfmiddlewaretoken": CSRF, "files": [Named("a.png", image_bytes("PNG"))]},
        HTTP_ACCEPT="application/json",
    )
    assert response.json()["accepted"][0]["kind"] == "png"
    assert "accepts_uploads" in caplog.text
    assert incoming_files(storage) == []
