"""booking/imaging/reports.py: structured reports as readable lines, encapsulated PDFs."""

import io
from pathlib import Path

import pytest
from django.utils import translation
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pypdf import PdfReader, PdfWriter

from booking.imaging import reports
from booking.imaging.dicom import read_header
from booking.imaging.reports import (
    ENCAPSULATED_PDF,
    ReportError,
    encapsulated_pdf,
    is_encapsulated_pdf,
    is_sr,
    read_sr,
    report_title,
)
from tests.booking.dicom_fixtures import bundled

BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"

# The fixtures are malformed on purpose (bad dates, unknown character sets, long values):
# pydicom warns about them while reading, as it should.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom")


@pytest.fixture(autouse=True)
def in_english():
    """Reasons are checked in English; the default language is Danish."""
    with translation.override("en"):
        yield


# --- Building files ------------------------------------------------------------------


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def content(value_type: str, concept: str | None, children=(), relation="CONTAINS", **tags):
    item = Dataset()
    item.RelationshipType = relation
    item.ValueType = value_type
    if concept is not None:
        item.ConceptNameCodeSequence = Sequence([code("C" + str(len(concept)), "99X", concept)])
    for key, value in tags.items():
        setattr(item, key, value)
    if children:
        item.ContinuityOfContent = "SEPARATE" if value_type == "CONTAINER" else None
        item.ContentSequence = Sequence(list(children))
    if item.get("ContinuityOfContent") is None and "ContinuityOfContent" in item:
        del item.ContinuityOfContent
    return item


def num(concept: str, value: str, unit: Dataset) -> Dataset:
    measured = Dataset()
    measured.NumericValue = value
    measured.MeasurementUnitsCodeSequence = Sequence([unit])
    return content("NUM", concept, MeasuredValueSequence=Sequence([measured]))


def ucum(unit: str, meaning: str) -> Dataset:
    return code(unit, "UCUM", meaning)


def file_meta(sop_class: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def document(sop_class: str, children=(), charset="ISO_IR 192", **tags) -> Dataset:
    ds = Dataset()
    ds.file_meta = file_meta(sop_class)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    if charset:
        ds.SpecificCharacterSet = charset
    for key, value in tags.items():
        setattr(ds, key, value)
    if children:
        ds.ContentSequence = Sequence(list(children))
    return ds


def knee_report() -> Dataset:
    """A Basic Text SR as a radiology department sends it, with a few damaged items."""
    observer = Dataset()
    observer.VerifyingObserverName = "Hansen^Peter^^Dr."
    observer.VerificationDateTime = "20240316101500"
    observer.VerifyingOrganization = "Rigshospitalet"
    image = Dataset()
    image.ReferencedSOPClassUID = CT_IMAGE
    image.ReferencedSOPInstanceUID = generate_uid()
    findings = content(
        "CONTAINER",
        "Findings",
        [
            content("TEXT", "Finding", TextValue="Meniscus tear.\r\nNo effusion.\x07"),
            content(
                "CODE",
                "Finding site",
                ConceptCodeSequence=Sequence([code("72696002", "SCT", "Knee joint")]),
            ),
            content("CODE", "Damaged code"),  # no ConceptCodeSequence: skipped
            num("Length", "12.5", ucum("mm", "millimeter")),
            num("Area", "3.2", ucum("cm2", "square centimeter")),
            num("Ratio", "0.8", ucum("1", "no units")),
            num("Index", "1.2", ucum("{ratio}", "ratio")),
            num("Glucose", "95", ucum("mg/dL", "milligram per deciliter")),
            num("Density", "40", code("112031", "DCM", "Hounsfield unit")),
            content("NUM", "Empty measurement"),  # no value: skipped
            content(
                "CONTAINER",
                "Measurements",
                [content("TEXT", "Comment", TextValue="Measured on sagittal PD.")],
            ),
        ],
    )
    no_type = Dataset()  # no ValueType at all: skipped, its children still read
    no_type.RelationshipType = "CONTAINS"
    no_type.ContentSequence = Sequence([content("TEXT", "Orphan", TextValue="Still here.")])
    return document(
        BASIC_TEXT_SR,
        [
            findings,
            content("CONTAINER", "Impression", [content("TEXT", None, TextValue="Tear.")]),
            content("DATE", "Date of prior study", Date="20230101"),
            content("TIME", "Time of study", Time="143005.123"),
            content("DATETIME", "Signed", DateTime="20240316101500+0100"),
            content("PNAME", "Referring physician", PersonName="Sørensen^Lise"),
            content("IMAGE", None, ReferencedSOPSequence=Sequence([image])),
            no_type,
        ],
        Modality="SR",
        ValueType="CONTAINER",
        ConceptNameCodeSequence=Sequence([code("11528-7", "LN", "Radiology Report")]),
        ContinuityOfContent="SEPARATE",
        CompletionFlag="COMPLETE",
        VerificationFlag="VERIFIED",
        VerifyingObserverSequence=Sequence([observer]),
        ContentDate="20240316",
        ContentTime="101500",
    )


def as_file(ds: Dataset, tmp_path) -> Path:
    path = tmp_path / f"{generate_uid()}.dcm"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    path.write_bytes(out.getvalue())
    return path


def reread(ds: Dataset, tmp_path) -> Dataset:
    """The dataset as processing sees it: written, then read back by read_header (deferred)."""
    return read_header(as_file(ds, tmp_path))[0]


def rows(result: dict) -> list[tuple]:
    return [(ln["level"], ln["kind"], ln["label"], ln["value"]) for ln in result["lines"]]


# --- SOP classes ---------------------------------------------------------------------


def test_sop_classes():
    assert is_sr(BASIC_TEXT_SR)
    assert is_sr("1.2.840.10008.5.1.4.1.1.88.22")  # Enhanced SR
    assert not is_sr("1.2.840.10008.5.1.4.1.1.88")  # the prefix without its dot
    assert not is_sr(CT_IMAGE)
    assert not is_sr(None)
    assert is_encapsulated_pdf(ENCAPSULATED_PDF)
    assert not is_encapsulated_pdf("1.2.840.10008.5.1.4.1.1.104.2")  # CDA
    assert not is_encapsulated_pdf(ENCAPSULATED_PDF + ".1")


# --- Structured reports --------------------------------------------------------------


def test_basic_text_sr_reads_as_lines(tmp_path):
    result = read_sr(reread(knee_report(), tmp_path))

    assert result["title"] == "Radiology Report"
    assert result["truncated"] is False
    assert rows(result) == [
        (0, "meta", "Completion", "Complete"),
        (0, "meta", "Verification", "Verified"),
        (0, "meta", "Verified by", "Hansen, Dr. Peter (2024-03-16 10:15:00)"),
        (0, "meta", "Report date", "2024-03-16 10:15:00"),
        (0, "heading", "Findings", ""),
        (1, "text", "Finding", "Meniscus tear.\nNo effusion."),
        (1, "code", "Finding site", "Knee joint"),
        (1, "num", "Length", "12.5 mm"),
        (1, "num", "Area", "3.2 cm2"),
        (1, "num", "Ratio", "0.8"),
        (1, "num", "Index", "1.2"),
        (1, "num", "Glucose", "95 mg/dL"),
        (1, "num", "Density", "40 Hounsfield unit"),
        (1, "heading", "Measurements", ""),
        (2, "text", "Comment", "Measured on sagittal PD."),
        (0, "heading", "Impression", ""),
        (1, "text", "", "Tear."),
        (0, "date", "Date of prior study", "2023-01-01"),
        (0, "time", "Time of study", "14:30:05"),
        (0, "datetime", "Signed", "2024-03-16 10:15:00 +01:00"),
        (0, "pname", "Referring physician", "Sørensen, Lise"),
        (0, "reference", "", "(image reference)"),
        (1, "text", "Orphan", "Still here."),
    ]


def test_pydicoms_sample_sr_reads_as_lines():
    ds, _info = read_header(bundled("test-SR.dcm"))

    result = read_sr(ds)

    assert result["title"] == "Diagnosis"
    assert result["truncated"] is False
    lines = rows(result)
    assert (0, "meta", "Verified by", "Riesmeier, Jörg (2001-02-13 18:47:46)") in lines
    assert (1, "num", "Diameter", "3 Length Unit") in lines
    assert (0, "text", "Code", "Sample Text\nA\nB\nC") in lines
    assert (1, "date", "Date", "2000-12-06") in lines
    assert (2, "reference", "Key Image", "(image reference)") in lines


def test_meta_labels_are_msgids_translated_when_shown():
    # Stored in English, shown in the reader's language (the page translates them).
    assert reports.LABEL_VERIFICATION == "Verification"
    assert reports.REFERENCES["IMAGE"] == "(image reference)"


def test_a_numeric_value_qualifier_stands_in_for_a_missing_value(tmp_path):
    item = content(
        "NUM",
        "Volume",
        MeasuredValueSequence=Sequence([]),
        NumericValueQualifierCodeSequence=Sequence([code("114006", "DCM", "Measurement failure")]),
    )
    result = read_sr(reread(document(BASIC_TEXT_SR, [item]), tmp_path))
    assert rows(result) == [(0, "num", "Volume", "Measurement failure")]


def test_sr_without_charset_and_utf8_text_is_read_as_utf8(tmp_path):
    item = content("TEXT", "Finding", TextValue="x")
    item.add(DataElement(0x0040A160, "UT", "Røntgen af knæ: ingen fraktur.".encode()))
    result = read_sr(reread(document(BASIC_TEXT_SR, [item], charset=None), tmp_path))
    assert rows(result) == [(0, "text", "Finding", "Røntgen af knæ: ingen fraktur.")]


def test_sr_in_latin1_keeps_its_letters(tmp_path):
    item = content("TEXT", "Fund", TextValue="Rift i menisken, ødem.")
    result = read_sr(reread(document(BASIC_TEXT_SR, [item], charset="ISO_IR 100"), tmp_path))
    assert rows(result) == [(0, "text", "Fund", "Rift i menisken, ødem.")]


def test_text_keeps_its_lines_and_loses_control_characters(tmp_path):
    text = "Line one.\r\n\r\n\r\n\r\nLine\ttwo.\x1b\u202e\rLine three."
    item = content("TEXT", "Finding", TextValue=text)
    result = read_sr(reread(document(BASIC_TEXT_SR, [item]), tmp_path))
    assert result["lines"][0]["value"] == "Line one.\n\nLine two.\nLine three."


def test_unreadable_dates_are_shown_as_written(tmp_path):
    items = [
        content("DATE", "Prior", Date="2023"),
        content("TIME", "At", Time="99"),
        content("DATE", "Empty", Date=""),  # nothing at all: skipped
    ]
    result = read_sr(reread(document(BASIC_TEXT_SR, items), tmp_path))
    assert rows(result) == [(0, "date", "Prior", "2023"), (0, "time", "At", "99")]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("143005", "14:30:05"),
        ("1430", "14:30"),
        ("14", "14:00"),
        ("14:30:05", "14:30:05"),
        ("235960.5", "23:59:60"),
        ("240000", ""),
        ("1460", ""),
        ("14305", ""),
        ("", ""),
    ],
)
def test_format_tm(value, shown):
    assert reports.format_tm(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("20240316101500", "2024-03-16 10:15:00"),
        ("20240316101500.123456-0500", "2024-03-16 10:15:00 -05:00"),
        ("202403161015", "2024-03-16 10:15"),
        ("20240316", "2024-03-16"),
        ("20241316", ""),
        ("2024031610150", ""),
        ("yesterday", ""),
    ],
)
def test_format_dt(value, shown):
    assert reports.format_dt(value) == shown


def test_sr_with_no_content_is_refused(tmp_path):
    ds = document(
        BASIC_TEXT_SR,
        ConceptNameCodeSequence=Sequence([code("11528-7", "LN", "Radiology Report")]),
        VerificationFlag="UNVERIFIED",
    )
    with pytest.raises(ReportError) as caught:
        read_sr(reread(ds, tmp_path))
    assert caught.value.reason.msgid == "the structured report holds no readable content."


def test_sr_whose_items_are_all_damaged_is_refused(tmp_path):
    ds = document(BASIC_TEXT_SR, [content("CODE", "Site"), content("NUM", "Length")])
    with pytest.raises(ReportError):
        read_sr(reread(ds, tmp_path))


def flat_report(count: int) -> Dataset:
    return document(
        BASIC_TEXT_SR,
        [content("TEXT", f"Item {i}", TextValue=f"Text {i}.") for i in range(count)],
    )


def test_item_cap_boundary(tmp_path):
    ds = reread(flat_report(5), tmp_path)

    exact = read_sr(ds, max_items=5)
    assert exact["truncated"] is False
    assert len(exact["lines"]) == 5

    short = read_sr(ds, max_items=4)
    assert short["truncated"] is True
    assert [ln["label"] for ln in short["lines"]] == ["Item 0", "Item 1", "Item 2", "Item 3"]


def nested(depth: int) -> Dataset:
    item = content("TEXT", f"Depth {depth - 1}", TextValue="deepest")
    for level in range(depth - 2, -1, -1):
        item = content("CONTAINER", f"Depth {level}", [item])
    return document(BASIC_TEXT_SR, [item])


def test_depth_cap_boundary(tmp_path):
    ds = reread(nested(4), tmp_path)  # levels 0 to 3

    exact = read_sr(ds, max_depth=4)
    assert exact["truncated"] is False
    assert [ln["level"] for ln in exact["lines"]] == [0, 1, 2, 3]

    short = read_sr(ds, max_depth=3)
    assert short["truncated"] is True
    assert [ln["level"] for ln in short["lines"]] == [0, 1, 2]


def test_character_cap_cuts_the_text_and_stops(tmp_path):
    ds = reread(flat_report(3), tmp_path)  # "Item 0" + "Text 0." = 13 characters each
    assert read_sr(ds, max_chars=39)["truncated"] is False

    result = read_sr(ds, max_chars=34)

    assert result["truncated"] is True
    assert rows(result) == [
        (0, "text", "Item 0", "Text 0."),
        (0, "text", "Item 1", "Text 1."),
        (0, "text", "Item 2", "Te"),
    ]
    assert sum(len(ln["label"]) + len(ln["value"]) for ln in result["lines"]) == 34


def test_a_deeply_nested_hostile_sr_stops_at_the_caps(tmp_path):
    ds = reread(nested(60), tmp_path)
    result = read_sr(ds)
    assert result["truncated"] is True
    assert max(ln["level"] for ln in result["lines"]) == 19


# --- Encapsulated PDF ----------------------------------------------------------------


def small_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_document(data: bytes, *, mime="application/pdf", **tags) -> Dataset:
    ds = document(ENCAPSULATED_PDF, charset="ISO_IR 192", Modality="DOC", **tags)
    if mime is not None:
        ds.MIMETypeOfEncapsulatedDocument = mime
    if len(data) % 2:
        data += b"\0"  # DICOM pads to an even length
    ds.EncapsulatedDocument = data
    return ds


def test_encapsulated_pdf_gives_the_pdf(tmp_path):
    pdf = small_pdf()
    ds = reread(pdf_document(pdf, DocumentTitle="Røntgenbeskrivelse"), tmp_path)

    data = encapsulated_pdf(ds, max_bytes=1024 * 1024)

    assert data == pdf.rstrip(b"\0")
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert not data.endswith(b"\0")
    assert report_title(ds) == "Røntgenbeskrivelse"


def test_padding_is_removed(tmp_path):
    pdf = small_pdf()
    ds = reread(pdf_document(pdf + b"\0\0\0\0"), tmp_path)
    assert encapsulated_pdf(ds, max_bytes=1024 * 1024) == pdf.rstrip(b"\0")


def test_stated_document_length_is_used():
    pdf = small_pdf()
    ds = pdf_document(pdf + b"\n%junk")
    ds.EncapsulatedDocumentLength = len(pdf)
    assert encapsulated_pdf(ds, max_bytes=1024 * 1024) == pdf.rstrip(b"\0")


def test_no_mime_type_is_read_as_pdf(tmp_path):
    pdf = small_pdf()
    ds = reread(pdf_document(pdf, mime=None), tmp_path)
    assert encapsulated_pdf(ds, max_bytes=1024 * 1024).startswith(b"%PDF")


def test_wrong_mime_type_is_refused(tmp_path):
    ds = reread(pdf_document(b"<ClinicalDocument/>", mime="text/xml"), tmp_path)
    with pytest.raises(ReportError) as caught:
        encapsulated_pdf(ds, max_bytes=1024 * 1024)
    reason = caught.value.reason
    assert reason.params == {"mime": "text/xml"}
    assert str(reason) == "the document inside the DICOM file is not a PDF (text/xml)."


def test_pdf_mime_type_with_other_content_is_refused(tmp_path):
    ds = reread(pdf_document(b"MZ\x90\0 not a pdf"), tmp_path)
    with pytest.raises(ReportError) as caught:
        encapsulated_pdf(ds, max_bytes=1024 * 1024)
    assert "not a PDF" in str(caught.value.reason)


@pytest.mark.parametrize("data", [b"", b"\0\0\0\0"])
def test_empty_document_is_refused(tmp_path, data):
    ds = pdf_document(b"")
    ds.EncapsulatedDocument = data
    with pytest.raises(ReportError) as caught:
        encapsulated_pdf(reread(ds, tmp_path), max_bytes=1024)
    assert caught.value.reason.msgid == "the DICOM file holds no document."


def test_missing_document_is_refused():
    ds = pdf_document(b"")
    del ds.EncapsulatedDocument
    with pytest.raises(ReportError):
        encapsulated_pdf(ds, max_bytes=1024)


def test_size_cap_boundary_in_memory():
    pdf = small_pdf()
    ds = pdf_document(pdf)
    size = len(ds.EncapsulatedDocument)
    assert encapsulated_pdf(ds, max_bytes=size).startswith(b"%PDF")
    with pytest.raises(ReportError) as caught:
        encapsulated_pdf(ds, max_bytes=size - 1)
    assert "larger than" in str(caught.value.reason)


def test_large_deferred_document_is_refused_without_being_read(tmp_path):
    pdf = small_pdf(pages=200)
    assert len(pdf) > 16 * 1024  # deferred by read_header
    path = as_file(pdf_document(pdf), tmp_path)
    ds, _info = read_header(path)
    element = ds.get_item("EncapsulatedDocument", keep_deferred=True)
    assert element.value is None
    path.unlink()  # reading the value now would fail with FileNotFoundError

    with pytest.raises(ReportError) as caught:
        encapsulated_pdf(ds, max_bytes=element.length - 1)

    assert "larger than" in str(caught.value.reason)
    assert ds.get_item("EncapsulatedDocument", keep_deferred=True).value is None


def test_large_deferred_document_within_the_cap_is_read(tmp_path):
    pdf = small_pdf(pages=200)
    ds = reread(pdf_document(pdf), tmp_path)
    length = ds.get_item("EncapsulatedDocument", keep_deferred=True).length
    data = encapsulated_pdf(ds, max_bytes=length)
    assert data == pdf.rstrip(b"\0")
    assert len(PdfReader(io.BytesIO(data)).pages) == 200


def test_report_title_falls_back_to_the_concept_name(tmp_path):
    titled = pdf_document(
        small_pdf(),
        ConceptNameCodeSequence=Sequence([code("18748-4", "LN", "Diagnostic imaging report")]),
    )
    assert report_title(reread(titled, tmp_path)) == "Diagnostic imaging report"
    assert report_title(reread(pdf_document(small_pdf()), tmp_path)) == ""
