"""Hostile files: each decoder bounds itself (booking/safezip.py, booking/imaging/dicom.py,
booking.filetypes.check_pdf_complexity).

Scaled-down bombs built here with zipfile, bz2, lzma and zlib. The big ones (tens to
hundreds of MB of output) run only in the PostgreSQL pass; the rest everywhere.
"""

import io
import os
import struct
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pydicom
import pytest
from django.db import connection
from django.utils import translation
from pydicom.uid import DeflatedExplicitVRLittleEndian

from booking import filetypes, safezip
from booking.imaging import dicom, processing
from tests.booking.dicom_fixtures import bundled, ct_dataset, pdf_of, to_bytes

heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- Building hostile zips ---------------------------------------------------------------


def zip_of(entries, method=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, bytes) entries; names may repeat."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": meant
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def zip_of_zeros(path, size: int, method: int, name="DICOM/IM1") -> None:
    """A zip whose one member is `size` zero bytes, compressed while written (never whole)."""
    block = b"\0" * MB
    with zipfile.ZipFile(path, "w", method) as archive, archive.open(name, "w") as member:
        for _ in range(size // MB):
            member.write(block)


def lie_about_size(data: bytes, declared: int) -> bytes:
    """The zip with its (first) entry's uncompressed size set to `declared`, in both headers."""
    data = bytearray(data)
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<L", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, declared)
    return bytes(data)


def many_entries_one_member(data: bytes, copies: int) -> bytes:
    """A one-member zip whose central directory lists that member `copies` times."""
    eocd = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack("<LL", data[eocd + 12 : eocd + 20])
    entry = data[offset : offset + size]
    name_length = struct.unpack("<H", entry[28:30])[0]
    name = entry[46 : 46 + name_length]
    directory = b""
    for copy in range(copies):
        new_name = (name[:-3] + b"%03d" % copy) if name_length >= 3 else name
        directory += entry[:46] + new_name + entry[46 + name_length :]
    end = bytearray(data[eocd:])
    struct.pack_into("<HHLL", end, 8, copies, copies, len(directory), offset)
    return data[:offset] + directory + bytes(end)


class Counter:
    """A write target that keeps only the count, so memory says what the reader holds."""

    def __init__(self):
        self.bytes = 0

    def __call__(self, chunk):
        self.bytes += len(chunk)


def stream_first(path, *, limit):
    written = Counter()
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        try:
            safezip.stream_member(archive, info, written, limit=limit)
        except safezip.ZipRefused as exc:
            return written.bytes, str(exc)
    return written.bytes, None


METHODS = [
    pytest.param(zipfile.ZIP_STORED, id="stored"),
    pytest.param(zipfile.ZIP_DEFLATED, id="deflate"),
    pytest.param(zipfile.ZIP_BZIP2, id="bzip2"),
    pytest.param(zipfile.ZIP_LZMA, id="lzma"),
]


# --- Zip: budgets for every method ------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_member_exactly_at_the_budget_is_unpacked_one_byte_less_refused(method, tmp_path):
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MB + 4 bytes
    path = tmp_path / "cd.zip"
    path.write_bytes(zip_of([("DICOM/IM1", data)], method))
    parts = []
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        assert safezip.stream_member(archive, info, parts.append, limit=len(data)) == len(data)
        assert b"".join(parts) == data
        with pytest.raises(safezip.ZipRefused, match="more than the zip file declares"):
            safezip.stream_member(archive, info, Counter(), limit=len(data) - 1)


@pytest.mark.parametrize("method", METHODS)
def test_lying_index_refused_once_output_passes_the_declared_size(method, tmp_path):
    """The index says 64 KB; the data is 4 MB. Refused after at most 64 KB."""
    path = tmp_path / "liar.zip"
    zip_of_zeros(path, 4 * MB, method)
    path.write_bytes(lie_about_size(path.read_bytes(), 64 * 1024))
    written, refusal = stream_first(path, limit=10**9)
    assert refusal and "more than the zip file declares" in refusal
    assert written <= 64 * 1024


@heavy
@pytest.mark.parametrize(
    ("method", "size", "decoder_state"),
    [
        pytest.param(zipfile.ZIP_BZIP2, 200 * MB, 4 * MB, id="bzip2-200MB"),
        pytest.param(zipfile.ZIP_LZMA, 100 * MB, 9 * MB, id="lzma-100MB"),  # its 8 MB dictionary
        pytest.param(zipfile.ZIP_DEFLATED, 100 * MB, 0, id="deflate-100MB"),
    ],
)
def test_bomb_refused_after_the_budget_with_bounded_memory(method, size, decoder_state, tmp_path):
    """A few KB that expand to 100-200 MB, behind an index that says 1 MB: refused
    after at most the budget, the reader's memory a few chunks (and the decoder's own
    state) whatever the output."""
    path = tmp_path / "bomb.zip"
    zip_of_zeros(path, size, method)
    assert path.stat().st_size < 200 * 1024
    path.write_bytes(lie_about_size(path.read_bytes(), MB))
    budget = MB
    tracemalloc.start()
    try:
        written, refusal = stream_first(path, limit=10 * MB)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refusal and "more than the zip file declares" in refusal
    assert written <= budget
    assert peak < budget + 4 * safezip.CHUNK + decoder_state


@heavy
def test_honest_bomb_over_the_archive_budget_refused_by_extract(tmp_path, settings):
    """An index that tells the truth (64 MB) but more than the budget left: refused
    before a byte is written; the file left behind is removed."""
    path = tmp_path / "honest.zip"
    zip_of_zeros(path, 64 * MB, zipfile.ZIP_BZIP2)
    settings.ZIP_MAX_RATIO = 10**9
    target = tmp_path / "out"
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        with pytest.raises(safezip.ZipRefused):
            safezip.extract_member(archive, info, target, 64 * MB - 1)
        assert not target.exists()
        assert safezip.extract_member(archive, info, target, 64 * MB) == 64 * MB


def test_extract_member_honours_the_member_setting_and_the_ratio(tmp_path, settings):
    data = b"\0" * 100_000
    path = tmp_path / "cd.zip"
    path.write_bytes(zip_of([("IM1", data)], zipfile.ZIP_DEFLATED))
    target = tmp_path / "out"
    settings.ZIP_MAX_RATIO = 10**6
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        settings.ZIP_MAX_MEMBER_BYTES = len(data) - 1
        with pytest.raises(safezip.ZipRefused):
            safezip.extract_member(archive, info, target, 10**9)
        settings.ZIP_MAX_MEMBER_BYTES = len(data)
        assert safezip.extract_member(archive, info, target, 10**9) == len(data)
        assert target.read_bytes() == data
        # Zeros squeeze far past a ratio of 100, and unpack past the bytes floor.
        settings.ZIP_MAX_RATIO = 100
        settings.ZIP_RATIO_MIN_BYTES = len(data) - 1
        with pytest.raises(safezip.ZipRefused):
            safezip.extract_member(archive, info, target, 10**9)


def test_lzma_asking_for_a_huge_dictionary_refused(tmp_path):
    data = bytearray(zip_of([("IM1", b"x" * 1000)], zipfile.ZIP_LZMA))
    local = data.find(b"PK\x03\x04")
    props = local + 30 + 3 + 4  # header, the name "IM1", zip's LZMA header
    assert struct.unpack("<L", data[props + 1 : props + 5])[0] <= safezip.LZMA_MAX_DICTIONARY
    path = tmp_path / "dict.zip"
    path.write_bytes(bytes(data))
    assert stream_first(path, limit=10**6) == (1000, None)
    struct.pack_into("<L", data, props + 1, safezip.LZMA_MAX_DICTIONARY + 1)
    path.write_bytes(bytes(data))
    assert stream_first(path, limit=10**6)[1] == (
        "the file in the zip uses a compression that is not supported."
    )


def test_damaged_member_refused_not_crashing(tmp_path):
    data = bytearray(zip_of([("IM1", bytes(range(256)) * 400)], zipfile.ZIP_BZIP2))
    start = data.find(b"BZh")
    data[start + 10 : start + 40] = bytes(30)
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(data))
    written, refusal = stream_first(path, limit=10**9)
    assert refusal == "the file in the zip is damaged."


# --- Zip: overlapping entries, duplicate names --------------------------------------------


def test_many_entries_pointing_at_one_member_refused(tmp_path):
    one = zip_of([("DICOM/IM1", os.urandom(10_000))])  # no ratio to give it away
    path = tmp_path / "overlap.zip"
    path.write_bytes(many_entries_one_member(one, 100))
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == 100  # Python's zipfile lists them all
    with pytest.raises(ValueError, match="share the same data"):
        filetypes.check_zip(path)
    with pytest.raises(safezip.ZipRefused, match="share the same data"):
        safezip.read_member(path, 1)


def test_one_entry_listed_once_is_not_an_overlap(tmp_path):
    data = os.urandom(10_000)
    path = tmp_path / "one.zip"
    path.write_bytes(many_entries_one_member(zip_of([("DICOM/IM1", data)]), 1))
    assert filetypes.check_zip(path).entries == 1
    assert safezip.read_member(path, 0) == data


def test_entry_reaching_into_the_next_member_refused(tmp_path):
    """The first entry's compressed size covers the second one's header (quoted overlap)."""
    data = bytearray(zip_of([("A", b"a" * 1000), ("B", b"b" * 1000)], zipfile.ZIP_STORED))
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 20, 1500)
    path = tmp_path / "quoted.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="share the same data"):
        filetypes.check_zip(path)


def test_compression_not_supported_refused_at_upload(tmp_path):
    data = bytearray(zip_of([("IM1", b"x" * 100)], zipfile.ZIP_STORED))
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 10, 9)  # deflate64
    path = tmp_path / "d64.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="compression that is not supported"):
        filetypes.check_zip(path)


def test_duplicate_names_each_read_by_its_index(tmp_path):
    first, second = to_bytes(ct_dataset(16, seed=1)), to_bytes(ct_dataset(24, seed=2))
    path = tmp_path / "dupes.zip"
    path.write_bytes(zip_of([("DICOM/IM1", first), ("DICOM/IM1", second)]))
    assert filetypes.check_zip(path).entries == 2
    assert safezip.read_member(path, 0) == first
    assert safezip.read_member(path, 1) == second
    with pytest.raises(safezip.ZipRefused, match="several files"):
        safezip.read_named_member(path, "DICOM/IM1")
    with pytest.raises(safezip.ZipRefused, match="missing"):
        safezip.read_member(path, 2)


def test_unique_name_read_by_name(tmp_path):
    path = tmp_path / "one.zip"
    path.write_bytes(zip_of([("DICOM/IM1", b"one"), ("DICOM/IM2", b"two")]))
    assert safezip.read_named_member(path, "DICOM/IM2") == b"two"


class ListSink(processing.Sink):
    def __init__(self):
        self.results = []

    def add_dicom(self, member, result, ident=None):
        self.results.append((member, result.info.rows))


def test_processing_reads_both_members_of_the_same_name(tmp_path):
    first, second = to_bytes(ct_dataset(16, seed=1)), to_bytes(ct_dataset(24, seed=2))
    path = tmp_path / "dupes.zip"
    path.write_bytes(zip_of([("DICOM/IM1", first), ("DICOM/IM1", second)]))
    sink = ListSink()
    work = tmp_path / "work"
    work.mkdir()
    outcome = processing.process_path(path, sink, work_dir=work)
    assert outcome.images == 2 and not outcome.refused
    assert sorted(rows for _member, rows in sink.results) == [16, 24]


def test_processing_refuses_overlapping_entries(tmp_path):
    one = zip_of([("DICOM/IM1", to_bytes(ct_dataset(16)))])
    path = tmp_path / "overlap.zip"
    path.write_bytes(many_entries_one_member(one, 50))
    work = tmp_path / "work"
    work.mkdir()
    outcome = processing.process_path(path, ListSink(), work_dir=work)
    assert outcome.images == 0
    assert any("share the same data" in str(line) for line in outcome.refused)


# --- DICOM: deflate with a cap ---------------------------------------------------------------


def deflated(ds) -> bytes:
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def inflated_size(data: bytes) -> int:
    """Bytes of the dataset after the file meta of a deflated file."""
    from pydicom.filereader import _read_file_meta_info, read_preamble

    handle = io.BytesIO(data)
    read_preamble(handle, True)
    _read_file_meta_info(handle)
    return len(zlib.decompress(handle.read(), -zlib.MAX_WBITS))


def large_blank_ct(size: int):
    ds = ct_dataset(16)
    ds.Rows = ds.Columns = size
    ds.PixelData = np.zeros((size, size), np.uint16).tobytes()
    return ds


def test_deflated_dicom_over_the_cap_refused_before_pydicom_inflates(tmp_path, settings):
    data = deflated(large_blank_ct(1024))  # 2 MB of pixels in a few KB
    assert len(data) < 20_000
    path = tmp_path / "dfl.dcm"
    path.write_bytes(data)
    size = inflated_size(data)
    settings.DICOM_MAX_INFLATED_BYTES = size - 1
    with pytest.raises(dicom.DicomError, match="unpacks to more than"):
        dicom.read_header(path)
    settings.DICOM_MAX_INFLATED_BYTES = size  # exactly at the cap: read and rendered
    ds, info = dicom.read_header(path)
    assert info.transfer_syntax == DeflatedExplicitVRLittleEndian
    result = dicom.render_file(path, ds, info)
    assert len(result.frames) == 1 and result.frames[0].rows == 1024


@heavy
def test_deflated_bomb_refused_with_bounded_memory(tmp_path, settings):
    """200 MB of pixels in ~200 KB, against a cap of 64 MB: refused, and the inflated
    bytes never held in memory (past a few MB they go to an unnamed temporary file)."""
    data = deflated(large_blank_ct(10_000))
    assert len(data) < 400_000
    path = tmp_path / "bomb.dcm"
    path.write_bytes(data)
    del data
    settings.DICOM_MAX_INFLATED_BYTES = 64 * MB
    tracemalloc.start()
    try:
        with pytest.raises(dicom.DicomError, match="unpacks to more than"):
            dicom.read_header(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * dicom.INFLATED_IN_MEMORY + 4 * dicom.INFLATE_CHUNK


def test_header_of_a_deflated_file_travels_between_processes():
    import pickle

    _ds, info = dicom.read_header(bundled("image_dfl.dcm"))
    assert info.source is not None
    copy = pickle.loads(pickle.dumps(info))
    assert copy.source is None and (copy.rows, copy.transfer_syntax) == (512, info.transfer_syntax)


def test_pydicoms_deflated_sample_still_accepted(settings):
    path = bundled("image_dfl.dcm")
    data = path.read_bytes()
    settings.DICOM_MAX_INFLATED_BYTES = inflated_size(data)
    ds, info = dicom.read_header(path)
    result = dicom.render_file(path, ds, info)
    assert (result.frames[0].rows, result.frames[0].columns) == (512, 512)
    # From memory too (the viewer's presets read a member of a zip).
    assert dicom.render_windowed(io.BytesIO(data), 0, 128, 256).startswith(b"\x89PNG")
    settings.DICOM_MAX_INFLATED_BYTES = inflated_size(data) - 1
    with pytest.raises(dicom.DicomError):
        dicom.read_header(path)


# --- DICOM: the decoded size is the header's ------------------------------------------------


def _saved(ds) -> io.BytesIO:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    out.seek(0)
    return out


def _no_decoding(monkeypatch):
    calls = []
    monkeypatch.setattr(dicom, "_decode_frame", lambda *args, **kwargs: calls.append(1))
    return calls


def test_jpeg2000_with_a_lying_header_refused_before_decoding(monkeypatch):
    ds = pydicom.dcmread(bundled("JPEG2000.dcm"))
    assert (ds.Rows, ds.Columns) == (1024, 256)
    ds.Rows = ds.Columns = 64
    calls = _no_decoding(monkeypatch)
    with pytest.raises(dicom.DicomError, match="does not match the size"):
        dicom.render_file(_saved(ds))
    with pytest.raises(dicom.DicomError, match="does not match the size"):
        dicom.render_windowed(_saved(ds), 0, 40, 400)
    assert calls == []


def test_jpeg2000_with_a_true_header_rendered():
    result = dicom.render_file(bundled("JPEG2000.dcm"))
    assert (result.frames[0].rows, result.frames[0].columns) == (1024, 256)


def test_jpeg2000_size_read_from_the_codestream():
    ds = pydicom.dcmread(bundled("JPEG2000.dcm"))
    fragment = next(dicom._fragment_heads(bundled("JPEG2000.dcm"), ds))
    assert dicom.jpeg2000_size(fragment) == (1024, 256, 1)
    assert dicom.jpeg2000_size(b"\xff\xd8\xff\xe0" + b"\0" * 60) is None


def test_jpeg2000_over_the_pixel_cap_refused_before_decoding(monkeypatch, settings):
    calls = _no_decoding(monkeypatch)
    settings.DICOM_MAX_FRAME_PIXELS = 1024 * 256 - 1
    with pytest.raises(dicom.DicomError, match="too large"):
        dicom.render_file(bundled("JPEG2000.dcm"))
    assert calls == []


def test_decoded_array_of_another_size_refused(monkeypatch):
    """Whatever the codec: the frame that comes out must have the header's shape."""
    big = np.zeros((200, 200), np.uint16)
    monkeypatch.setattr(dicom, "_decode_frame", lambda *args, **kwargs: big)
    with pytest.raises(dicom.DicomError, match="does not match the size"):
        dicom.render_file(_saved(ct_dataset(16)))
    right = np.zeros((16, 16), np.uint16)
    monkeypatch.setattr(dicom, "_decode_frame", lambda *args, **kwargs: right)
    assert len(dicom.render_file(_saved(ct_dataset(16))).frames) == 1


def test_pixel_cap_exactly_at_the_limit(settings):
    """The cap is per frame: frames are decoded one at a time."""
    info = dicom.DicomInfo(
        has_pixels=True, rows=100, columns=50, frames=2, samples=1, bits_allocated=16
    )
    settings.DICOM_MAX_FRAME_PIXELS = 100 * 50
    assert dicom.check_decodable(info) == [0, 1]
    settings.DICOM_MAX_FRAME_PIXELS = 100 * 50 - 1
    with pytest.raises(dicom.DicomError, match="too large"):
        dicom.check_decodable(info)


# --- PDF: nested drawings ----------------------------------------------------------------------


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def nested_pdf(levels: int, fanout: int, pages: int = 1) -> bytes:
    """One page drawing form 1, each form drawing the next `fanout` times: fanout**levels."""
    first_form = 4 + pages
    kids = b" ".join(b"%d 0 R" % (3 + page) for page in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
    ]
    for _page in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents %d 0 R "
            b"/Resources << /XObject << /F0 %d 0 R >> >> >>" % (3 + pages, first_form)
        )
    objects.append(_stream(b"/F0 Do"))
    for level in range(levels):
        number = first_form + level
        if level == levels - 1:
            content, resources = b"0 0 1 1 re f", b""
        else:
            content = b"q /F1 Do Q " * fanout
            resources = b"/Resources << /XObject << /F1 %d 0 R >> >>" % (number + 1)
        objects.append(
            _stream(content, b"/Type /XObject /Subtype /Form /BBox [0 0 200 200] " + resources)
        )
    return pdf_of(objects)


def _pdf(tmp_path, data: bytes):
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    filetypes.check_pdf(path, len(data))  # the upload's sniff accepts it
    return path


def test_nested_drawings_refused_by_arithmetic(tmp_path):
    path = _pdf(tmp_path, nested_pdf(levels=12, fanout=10))  # 10**11 drawings in ~2 KB
    assert path.stat().st_size < 4096
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(path)


def test_form_drawing_itself_refused(tmp_path):
    data = pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
            b"/Resources << /XObject << /F0 5 0 R >> >> >>",
            _stream(b"/F0 Do"),
            _stream(
                b"/F0 Do",
                b"/Subtype /Form /BBox [0 0 9 9] /Resources << /XObject << /F0 5 0 R >> >>",
            ),
        ]
    )
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(_pdf(tmp_path, data))


def test_drawing_cost_exactly_at_the_cap_passes(tmp_path, settings):
    path = _pdf(tmp_path, nested_pdf(levels=3, fanout=10))
    cost = filetypes.check_pdf_complexity(path)
    page, middle, top, leaf = len(b"/F0 Do"), len(b"q /F1 Do Q " * 10), None, len(b"0 0 1 1 re f")
    top = middle + 10 * (middle + 10 * leaf)
    assert cost == page + top  # each form counted each time it is drawn
    settings.PDF_MAX_CONTENT_BYTES = cost
    assert filetypes.check_pdf_complexity(path) == cost
    settings.PDF_MAX_CONTENT_BYTES = cost - 1
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(path)


def test_page_cap(tmp_path, settings):
    path = _pdf(tmp_path, nested_pdf(levels=1, fanout=1, pages=3))
    settings.PDF_MAX_PAGES = 3
    filetypes.check_pdf_complexity(path)
    settings.PDF_MAX_PAGES = 2
    with pytest.raises(ValueError, match="more than 2 pages"):
        filetypes.check_pdf_complexity(path)


def test_time_budget(tmp_path, settings):
    path = _pdf(tmp_path, nested_pdf(levels=2, fanout=2))
    settings.PDF_MAX_SECONDS = 0
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(path)


def test_huge_embedded_image_refused(tmp_path, settings):
    data = pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
            b"/Resources << /XObject << /Im0 5 0 R >> >> >>",
            _stream(b"q 200 0 0 200 0 0 cm /Im0 Do Q"),
            _stream(
                b"\0" * 10,
                b"/Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8",
            ),
        ]
    )
    path = _pdf(tmp_path, data)
    settings.PDF_MAX_IMAGE_PIXELS = 100000 * 100000 - 1
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(path)
    settings.PDF_MAX_IMAGE_PIXELS = 100000 * 100000
    filetypes.check_pdf_complexity(path)


def test_flate_bomb_in_a_content_stream_refused(tmp_path, settings):
    bomb = zlib.compress(b" " * (4 * MB), 9)
    data = pdf_of(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb + b"\nendstream",
        ]
    )
    path = _pdf(tmp_path, data)
    settings.PDF_MAX_CONTENT_BYTES = MB
    with pytest.raises(ValueError, match="too complex"):
        filetypes.check_pdf_complexity(path)
    settings.PDF_MAX_CONTENT_BYTES = 4 * MB
    assert filetypes.check_pdf_complexity(path) == 4 * MB


def test_ordinary_report_passes_and_the_sniff_reads_only_the_tail(tmp_path):
    from tests.booking.test_imaging import pdf_bytes

    data = pdf_bytes()
    path = _pdf(tmp_path, data)
    assert 0 < filetypes.check_pdf_complexity(path) < 100
    # The sniff reads at most 2 KB: a marker further back does not count.
    padded = tmp_path / "padded.pdf"
    padded.write_bytes(data + b"%" + b" " * 4096 + b"\n")
    with pytest.raises(ValueError, match="damaged"):
        filetypes.check_pdf(padded, padded.stat().st_size)


# --- Through the processing ---------------------------------------------------------------------


def test_processing_refuses_each_hostile_dicom_alone(tmp_path, settings):
    """A zipped CD with a deflated bomb and a lying JPEG 2000 beside a good slice: the
    two are refused with their reasons, the good one still becomes an image."""
    bomb = deflated(large_blank_ct(1024))
    settings.DICOM_MAX_INFLATED_BYTES = inflated_size(bomb) - 1
    liar = pydicom.dcmread(bundled("JPEG2000.dcm"))
    liar.Rows = liar.Columns = 64
    path = tmp_path / "cd.zip"
    path.write_bytes(
        zip_of(
            [
                ("DICOM/BOMB", bomb),
                ("DICOM/LIAR", _saved(liar).getvalue()),
                ("DICOM/GOOD", to_bytes(ct_dataset(16))),
            ]
        )
    )
    work = tmp_path / "work"
    work.mkdir()
    sink = ListSink()
    outcome = processing.process_path(path, sink, work_dir=work)
    assert outcome.images == 1 and [rows for _m, rows in sink.results] == [16]
    refused = "\n".join(str(line) for line in outcome.refused)
    assert "DICOM/BOMB: the compressed DICOM file unpacks to more than" in refused
    assert "DICOM/LIAR: the DICOM image's data does not match the size" in refused


# --- Progressive JPEGs: the web process never holds a whole coefficient image -----------


def jpeg_file(tmp_path, *, progressive: bool, size=(400, 300), truncate=False):
    from PIL import Image

    path = tmp_path / ("progressive.jpg" if progressive else "baseline.jpg")
    Image.new("RGB", size, (120, 80, 40)).save(path, "JPEG", progressive=progressive)
    if truncate:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path


def test_a_large_progressive_jpeg_is_left_to_the_worker_without_decoding(
    tmp_path, settings, monkeypatch
):
    from PIL import Image

    from booking.filetypes import check_image, progressive_decode_bytes

    path = jpeg_file(tmp_path, progressive=True, truncate=True)
    with Image.open(path) as image:
        needed = progressive_decode_bytes(image)
    assert needed == 400 * 300 * 3 * 2
    settings.UPLOAD_IMAGE_CHECK_BYTES = needed - 1  # one byte short: not decoded here

    def no_decoding(self):
        raise AssertionError("the web process decoded a large progressive JPEG")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    check_image(path, "jpeg")  # accepted from its header; the worker decides


def test_a_progressive_jpeg_within_the_budget_is_still_checked_at_upload(tmp_path, settings):
    from booking.filetypes import check_image

    path = jpeg_file(tmp_path, progressive=True, truncate=True)
    settings.UPLOAD_IMAGE_CHECK_BYTES = 400 * 300 * 3 * 2  # exactly enough: decoded here
    with pytest.raises(ValueError):
        check_image(path, "jpeg")


def test_a_baseline_jpeg_is_always_checked_at_upload(tmp_path, settings):
    from booking.filetypes import check_image

    settings.UPLOAD_IMAGE_CHECK_BYTES = 1
    with pytest.raises(ValueError):
        check_image(jpeg_file(tmp_path, progressive=False, truncate=True), "jpeg")
    check_image(jpeg_file(tmp_path, progressive=False), "jpeg")
