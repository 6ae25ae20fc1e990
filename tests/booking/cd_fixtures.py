"""A realistic hospital CD, made with pydicom and numpy: offline and deterministic.

`build_cd(folder)` writes what a Danish hospital burns for a patient; `zip_cd(folder, target)`
zips it as the patient would before uploading. Used by tests/booking/test_clinical_cd.py (a
small version) and bench/imaging.py (the full one: 300 CT slices of 512 x 512).

The CD's layout is pydicom's File-set layout (pydicom.fileset.FileSet writes the DICOMDIR
and names the files): DICOMDIR in the root, files in PT000000/STxxxxxx/SExxxxxx/IMxxxxxx
(SRxxxxxx for the structured report, EDxxxxxx for the encapsulated PDF), so each series
folder holds a file named IM000000. Beside them: REPORT.PDF, AUTORUN.INF, README.HTM and
the CD's viewer program (VIEWER/VIEWER.EXE and .DLL files starting with "MZ").

Every DICOM file carries the same patient in ISO_IR 100 (Latin-1) with æøå, a birth date,
a sex, an institution and PATIENT_ID, which looks like a Danish CPR number (the product
shows it to doctors but must never store it). `patient=` overrides name, birth date and sex
so a test can make a CD of somebody else.

The four studies:

* CT of the lumbar spine: a topogram (localiser) with PixelSpacing 1.0 x 0.5 mm (row x
  column) showing round markers, and `ct_slices` axial slices of `size` x `size`, 16-bit
  signed with RescaleIntercept -1024, padding outside the field of view, two windows with
  explanations, ImagePositionPatient / ImageOrientationPatient / PixelSpacing. All are
  compressed with JPEG 2000 Lossless (pylibjpeg-openjpeg's encoder through
  Dataset.compress). The slices are written in a shuffled order (IM000000 is not the first
  slice) and some have no InstanceNumber. The study also holds a Basic Text SR (headings,
  findings text, a CODE and a NUM in "mm") and an Encapsulated PDF.
* MR of the knee: an enhanced multi-frame MR (20 frames, per-frame PlanePositionSequence,
  shared PixelMeasuresSequence and window) and a classic MR series in Explicit VR Big
  Endian (pydicom 3 still writes it; the pixel bytes are swapped here, as pydicom leaves
  them as they are).
* Radiographs of the knee: a CR in MONOCHROME1 with a window; a DX with ImagerPixelSpacing
  and a VOI LUT (no window); a second DX in Deflated Explicit VR Little Endian.
* Ultrasound of the shoulder: a colour clip (RGB, 800 x 600, `us_frames` frames, RLE
  Lossless: hospitals use JPEG baseline, which pydicom cannot encode), a long clip of
  `long_frames` frames at `long_size` (native RGB, to exercise sampling), a flat-colour
  secondary capture screenshot (1280 x 1024 RGB of one colour: it compresses about
  1000:1 in a zip) and a damaged image (cut off inside its pixel data, as a CD read with
  errors leaves it): the one file the product should refuse, see DAMAGED_DESCRIPTION.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.fileset import FileSet, RecordNode
from pydicom.pixels.encoders import RLELosslessEncoder
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from tests.booking.dicom_fixtures import pdf_of

PATIENT = ("Jørgensen^Åse", "19490312", "F")
PATIENT_ID = "0312491234"  # looks like a CPR number: never stored by the product
INSTITUTION = "Røntgen og Skanning, Sygehus Vestfjord, Ærøskøbing"
CHARSET = "ISO_IR 100"

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4.1"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_IMAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray, for presentation
US_MULTIFRAME_IMAGE = "1.2.840.10008.5.1.4.1.1.3.1"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

# What the tests look for.
CT_STUDY_DESCRIPTION = "CT LUMBALCOLUMNA"
TOPOGRAM_DESCRIPTION = "Topogram 0.6 T20s"
TOPOGRAM_SPACING = (1.0, 0.5)  # mm between rows, mm between columns
CT_SERIES_DESCRIPTION = "Lumbal 1.0 Br40"
CT_WINDOWS = (("50", "400", "BLØDDELE"), ("500", "2000", "KNOGLE"))
ENHANCED_MR_DESCRIPTION = "t2_tse_sag enhanced"
ENHANCED_MR_FRAMES = 20
BIG_ENDIAN_MR_DESCRIPTION = "t1_se_tra"
BIG_ENDIAN_MR_SLICES = 5
CR_DESCRIPTION = "Knæ ap stående"
DX_DESCRIPTION = "Knæ ap VOI LUT"
DEFLATED_DESCRIPTION = "Knæ lateral"
US_CLIP_DESCRIPTION = "Skulder farve-doppler"
US_CLIP_SIZE = (800, 600)  # columns x rows
LONG_CLIP_DESCRIPTION = "Skulder lang sekvens"
SCREENSHOT_DESCRIPTION = "Skærmbillede"
SCREENSHOT_SIZE = (1280, 1024)
DAMAGED_DESCRIPTION = "Skulder enkeltbillede"
SR_TITLE = "Radiologisk beskrivelse"
SR_SERIES_DESCRIPTION = "Beskrivelse"
PDF_SERIES_DESCRIPTION = "Beskrivelse PDF"
SR_FINDING = "Diskret diskusprolaps i niveau L4-L5 uden rodpåvirkning. Ingen tegn på fraktur."
SR_IMPRESSION = "Lette degenerative forandringer. Ingen spinalstenose."
SR_SITE = "Lumbar spine"
SR_MEASUREMENT = ("Spinal canal diameter", "14.2", "mm")
PDF_TITLE = "Beskrivelse CT lumbalcolumna"
PDF_TEXT = "Beskrivelse: CT af lumbalcolumna uden kontrast."
LOOSE_PDF_TEXT = "Henvisning og svar fra Sygehus Vestfjord."
# The small CD of the page tests: every kind of file, processed in seconds.
SMALL_CD = {"ct_slices": 12, "size": 64, "us_frames": 6, "long_frames": 130, "long_size": (32, 24)}
VIEWER_FILES = (
    "VIEWER/VIEWER.EXE",
    "VIEWER/DCMCORE.DLL",
    "VIEWER/QT5CORE.DLL",
    "VIEWER/MSVCP140.DLL",
)


@dataclass
class _Study:
    uid: str
    date: str
    description: str
    body_part: str
    number: str


@dataclass
class _Series:
    uid: str
    number: int
    modality: str
    description: str


class _Cd:
    """The File-set under construction, and where its UIDs come from."""

    def __init__(self, folder: Path, seed: int, patient: tuple[str, str, str]):
        self.folder = folder
        self.seed = seed
        self.name, self.birth_date, self.sex = patient
        self.fileset = FileSet()
        self.fileset.ID = "HOSPITALCD"
        self.fileset.UID = self.uid("fileset")
        self.damaged_uid = ""  # the file cut off once the File-set is written

    def uid(self, *parts) -> str:
        """A UID that depends only on the seed and `parts`: the CD is the same every time."""
        return generate_uid(entropy_srcs=[str(self.seed), *map(str, parts)])

    def study(self, key: str, date: str, description: str, body_part: str, number: int):
        return _Study(self.uid("study", key), date, description, body_part, str(number))

    def series(self, study: _Study, number: int, modality: str, description: str):
        return _Series(self.uid("series", study.uid, number), number, modality, description)

    def dataset(
        self,
        sop_class: str,
        study: _Study,
        series: _Series,
        key,
        *,
        number: int | None = 1,
        syntax: str = ExplicitVRLittleEndian,
    ) -> Dataset:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = self.uid("instance", series.uid, key)
        meta.TransferSyntaxUID = syntax
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = CHARSET
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyDate = study.date
        ds.SeriesDate = study.date
        ds.ContentDate = study.date
        ds.StudyTime = "101500"
        ds.ContentTime = "101500"
        ds.AccessionNumber = f"VF{study.number}{self.seed:04d}"
        ds.Modality = series.modality
        ds.Manufacturer = "Made-up Medical"
        ds.InstitutionName = INSTITUTION
        ds.ReferringPhysicianName = "Læge^Anne"
        ds.StudyDescription = study.description
        ds.SeriesDescription = series.description
        ds.PatientName = self.name
        ds.PatientID = PATIENT_ID
        ds.PatientBirthDate = self.birth_date
        ds.PatientSex = self.sex
        ds.BodyPartExamined = study.body_part
        ds.StudyInstanceUID = study.uid
        ds.SeriesInstanceUID = series.uid
        ds.StudyID = study.number
        ds.SeriesNumber = series.number
        if number is not None:
            ds.InstanceNumber = number
        return ds

    def add(self, ds: Dataset, study: _Study, series: _Series, leaf: str = "IMAGE") -> None:
        """Stage `ds` in the File-set with PATIENT / STUDY / SERIES / `leaf` records.

        Custom records, because pydicom's own IMAGE record requires InstanceNumber, which
        some slices of this CD lack (as on real CDs).
        """
        patient = Dataset()
        patient.DirectoryRecordType = "PATIENT"
        patient.SpecificCharacterSet = CHARSET
        patient.PatientName = ds.PatientName
        patient.PatientID = ds.PatientID
        patient.PatientBirthDate = ds.PatientBirthDate
        patient.PatientSex = ds.PatientSex
        record = Dataset()
        record.DirectoryRecordType = "STUDY"
        record.SpecificCharacterSet = CHARSET
        record.StudyDate = study.date
        record.StudyTime = "101500"
        record.StudyDescription = study.description
        record.StudyInstanceUID = study.uid
        record.StudyID = study.number
        record.AccessionNumber = ds.AccessionNumber
        series_record = Dataset()
        series_record.DirectoryRecordType = "SERIES"
        series_record.Modality = series.modality
        series_record.SeriesInstanceUID = series.uid
        series_record.SeriesNumber = series.number
        item = Dataset()
        item.DirectoryRecordType = leaf
        item.ReferencedSOPInstanceUIDInFile = ds.SOPInstanceUID
        if "InstanceNumber" in ds:
            item.InstanceNumber = ds.InstanceNumber
        for keyword in (
            "CompletionFlag",
            "VerificationFlag",
            "ContentDate",
            "ContentTime",
            "ConceptNameCodeSequence",
            "MIMETypeOfEncapsulatedDocument",
        ):
            if leaf != "IMAGE" and keyword in ds:
                setattr(item, keyword, ds[keyword].value)
        nodes = [RecordNode(r) for r in (patient, record, series_record, item)]
        for parent, child in zip(nodes, nodes[1:], strict=False):
            child.parent = parent
        self.fileset.add_custom(ds, nodes[-1])


# --- Pixels ---------------------------------------------------------------------------------


def _grid(rows: int, columns: int):
    y, x = np.mgrid[-1 : 1 : rows * 1j, -1 : 1 : columns * 1j]
    return y.astype(np.float32), x.astype(np.float32)


def ct_slice_hu(size: int, z_mm: float, rng) -> np.ndarray:
    """HU of an axial slice of the lower back: body, muscles, a vertebra or a disc, gas."""
    y, x = _grid(size, size)
    hu = np.full((size, size), -1000.0, dtype=np.float32)
    body = (x / 0.8) ** 2 + (y / 0.6) ** 2 < 1
    hu[body] = -90  # fat
    hu[(x / 0.65) ** 2 + ((y + 0.05) / 0.45) ** 2 < 1] = 45  # muscle and organs
    # Vertebral bodies 30 mm high with 8 mm discs between them.
    in_disc = (z_mm % 38.0) > 30.0
    vertebra = (x / 0.14) ** 2 + ((y - 0.2) / 0.11) ** 2 < 1
    hu[vertebra] = 80 if in_disc else 280
    cortex = vertebra & ((x / 0.12) ** 2 + ((y - 0.2) / 0.09) ** 2 > 1)
    if not in_disc:
        hu[cortex] = 900
    canal = (x / 0.06) ** 2 + ((y - 0.4) / 0.05) ** 2 < 1
    hu[canal] = 10
    gas = ((x + 0.3 + 0.05 * np.sin(z_mm / 20)) / 0.07) ** 2 + ((y + 0.2) / 0.05) ** 2 < 1
    hu[gas] = -950
    hu += rng.normal(0, 10, hu.shape).astype(np.float32)
    return hu


def _topogram_hu(rows: int, columns: int) -> np.ndarray:
    """A frontal localiser with three round markers: circles in mm, ellipses in pixels."""
    y, x = _grid(rows, columns)
    hu = np.full((rows, columns), -1000.0, dtype=np.float32)
    hu[np.abs(x) < 0.7] = 0
    hu[np.abs(x) < 0.12] = 400  # the spine
    row_mm, column_mm = TOPOGRAM_SPACING
    height_mm, width_mm = rows * row_mm, columns * column_mm
    radius_mm = min(height_mm, width_mm) * 0.06
    yy, xx = np.mgrid[0:rows, 0:columns]
    for cy, cx in ((0.25, 0.25), (0.5, 0.75), (0.75, 0.4)):
        dy = (yy + 0.5) * row_mm - cy * height_mm
        dx = (xx + 0.5) * column_mm - cx * width_mm
        hu[dy**2 + dx**2 < radius_mm**2] = 2000  # a metal marker
    return hu


def _set_pixels(ds: Dataset, *, rows, columns, frames=1, bits=16, stored=16, signed=False):
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = bits
    ds.BitsStored = stored
    ds.HighBit = stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames


def _set_rgb(ds: Dataset, *, rows, columns, frames=1):
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames


def _jpeg2000(ds: Dataset, stored: np.ndarray) -> None:
    """JPEG 2000 Lossless through pylibjpeg-openjpeg; the instance keeps its (seeded) UID."""
    ds.compress(JPEG2000Lossless, stored, encoding_plugin="pylibjpeg", generate_instance_uid=False)


def _us_frame(rows: int, columns: int, index: int, frames: int) -> np.ndarray:
    """An ultrasound sector in grey with a colour-Doppler patch that moves over the clip.

    The speckle comes in 16-pixel runs so that RLE keeps the clip a realistic size.
    """
    y, x = _grid(rows, columns)
    frame = np.zeros((rows, columns, 3), dtype=np.uint8)
    radius = np.sqrt(x**2 + (y + 1.1) ** 2)
    angle = np.arctan2(x, y + 1.1)
    sector = (radius > 0.3) & (radius < 2.0) & (np.abs(angle) < 0.6)
    band = (np.floor(radius * 12 + index * 0.1) % 3).astype(np.uint8)
    texture = np.repeat(
        np.random.default_rng(index).integers(40, 140, (rows, -(-columns // 16)), dtype=np.uint8),
        16,
        axis=1,
    )[:, :columns]
    grey = (texture + band * 20).astype(np.uint8)
    for channel in range(3):
        frame[..., channel][sector] = grey[sector]
    phase = index / max(frames, 1)
    blob = ((x - 0.2 + 0.3 * phase) / 0.12) ** 2 + ((y - 0.1) / 0.08) ** 2 < 1
    frame[blob & sector] = (200, 30, 30) if (index // 8) % 2 == 0 else (30, 60, 210)
    frame[: rows // 20, : columns // 4] = (230, 230, 230)  # the burned-in header bar
    return frame


# --- Documents -------------------------------------------------------------------------------


def pdf_document(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing `lines` in Helvetica (Latin-1 text)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " ".join(f"({escape(line)}) '" for line in lines)
    stream = f"BT /F1 12 Tf 16 TL 72 780 Td {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return pdf_of(objects, header=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _content(value_type: str, name: Dataset, **values) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = value_type
    item.ConceptNameCodeSequence = Sequence([name])
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _basic_text_sr(cd: _Cd, study: _Study, series: _Series) -> Dataset:
    """A radiology report as Basic Text SR: two headed sections, text, a code, a measurement."""
    ds = cd.dataset(BASIC_TEXT_SR, study, series, "sr")
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = Sequence([_code("18748-4", "LN", SR_TITLE)])
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    observer = Dataset()
    observer.VerifyingObserverName = "Røntgenlæge^Mette"
    observer.VerifyingOrganization = INSTITUTION
    observer.VerificationDateTime = f"{study.date}143000"
    observer.VerifyingObserverIdentificationCodeSequence = Sequence()
    ds.VerifyingObserverSequence = Sequence([observer])
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()
    name, value, unit = SR_MEASUREMENT
    measured = Dataset()
    measured.NumericValue = value
    measured.MeasurementUnitsCodeSequence = Sequence([_code(unit, "UCUM", unit)])
    findings = _content(
        "CONTAINER",
        _code("121070", "DCM", "Findings"),
        ContinuityOfContent="SEPARATE",
        ContentSequence=Sequence(
            [
                _content("TEXT", _code("121071", "DCM", "Finding"), TextValue=SR_FINDING),
                _content(
                    "CODE",
                    _code("363698007", "SCT", "Finding site"),
                    ConceptCodeSequence=Sequence([_code("122496007", "SCT", SR_SITE)]),
                ),
                _content(
                    "NUM",
                    _code("81827009", "SCT", name),
                    MeasuredValueSequence=Sequence([measured]),
                ),
            ]
        ),
    )
    impression = _content(
        "CONTAINER",
        _code("121072", "DCM", "Impressions"),
        ContinuityOfContent="SEPARATE",
        ContentSequence=Sequence(
            [_content("TEXT", _code("121073", "DCM", "Impression"), TextValue=SR_IMPRESSION)]
        ),
    )
    ds.ContentSequence = Sequence([findings, impression])
    return ds


def _encapsulated_pdf(cd: _Cd, study: _Study, series: _Series) -> Dataset:
    ds = cd.dataset(ENCAPSULATED_PDF, study, series, "pdf")
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = PDF_TITLE
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf_document([PDF_TITLE, "", PDF_TEXT, SR_FINDING])
    return ds


# --- The studies ----------------------------------------------------------------------------


def _ct_study(cd: _Cd, ct_slices: int, size: int) -> None:
    study = cd.study("ct", "20241105", CT_STUDY_DESCRIPTION, "LSPINE", 1)

    topogram = cd.series(study, 1, "CT", TOPOGRAM_DESCRIPTION)
    rows, columns = max(size // 2, 8), size
    ds = cd.dataset(CT_IMAGE, study, topogram, "topogram")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.PixelSpacing = list(TOPOGRAM_SPACING)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.ImagePositionPatient = [-columns * TOPOGRAM_SPACING[1] / 2, 0, 0]
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = "50", "500"
    _set_pixels(ds, rows=rows, columns=columns, signed=True)
    stored = (_topogram_hu(rows, columns) + 1024).astype(np.int16)
    _jpeg2000(ds, stored)
    cd.add(ds, study, topogram)

    axial = cd.series(study, 2, "CT", CT_SERIES_DESCRIPTION)
    spacing = round(360.0 / size, 4)  # a 36 cm field of view at any size
    y, x = _grid(size, size)
    outside = x**2 + y**2 > 0.98**2
    rng = np.random.default_rng(cd.seed + 1)
    without_number = set(rng.choice(ct_slices, size=max(1, ct_slices // 7), replace=False))
    for k in rng.permutation(ct_slices):  # files are named in the order they are added
        k = int(k)
        z = -120.0 - k * 1.0
        number = None if k in without_number else k + 1
        ds = cd.dataset(CT_IMAGE, study, axial, f"slice{k}", number=number)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SliceThickness = "1.0"
        ds.KVP = "120"
        ds.PixelSpacing = [spacing, spacing]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-180.0, -180.0, z]
        ds.SliceLocation = z
        ds.AcquisitionTime = f"1016{k // 60 % 60:02d}.{k % 60:02d}"
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
        ds.WindowCenter = [w[0] for w in CT_WINDOWS]
        ds.WindowWidth = [w[1] for w in CT_WINDOWS]
        ds.WindowCenterWidthExplanation = [w[2] for w in CT_WINDOWS]
        _set_pixels(ds, rows=size, columns=size, signed=True)
        ds.PixelPaddingValue = -2000
        stored = ct_slice_hu(size, z, np.random.default_rng(cd.seed * 1000 + k)) + 1024
        stored[outside] = -2000
        _jpeg2000(ds, stored.round().astype(np.int16))
        cd.add(ds, study, axial)

    report = cd.series(study, 90, "SR", SR_SERIES_DESCRIPTION)
    cd.add(_basic_text_sr(cd, study, report), study, report, "SR DOCUMENT")
    document = cd.series(study, 91, "DOC", PDF_SERIES_DESCRIPTION)
    cd.add(_encapsulated_pdf(cd, study, document), study, document, "ENCAP DOC")


def _mr_study(cd: _Cd, size: int) -> None:
    study = cd.study("mr", "20250210", "MR KNÆ HØJRE", "KNEE", 2)
    matrix = min(size, 256)
    spacing = round(160.0 / matrix, 4)
    y, x = _grid(matrix, matrix)

    def knee(position: float) -> np.ndarray:
        values = np.full((matrix, matrix), 20.0, dtype=np.float32)
        values[(x / 0.7) ** 2 + (y / 0.9) ** 2 < 1] = 500  # soft tissue
        values[((x + 0.1) / 0.3) ** 2 + ((y + 0.45 - 0.01 * position) / 0.35) ** 2 < 1] = 900
        values[((x + 0.1) / 0.28) ** 2 + ((y - 0.5) / 0.32) ** 2 < 1] = 850
        values[np.abs(y - 0.05) < 0.04] = 1400  # joint fluid
        return values

    enhanced = cd.series(study, 1, "MR", ENHANCED_MR_DESCRIPTION)
    ds = cd.dataset(ENHANCED_MR_IMAGE, study, enhanced, "enhanced")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.ContentQualification = "PRODUCT"
    ds.AcquisitionDateTime = f"{study.date}091000"
    _set_pixels(ds, rows=matrix, columns=matrix, frames=ENHANCED_MR_FRAMES, stored=12)
    rng = np.random.default_rng(cd.seed + 2)
    frames = []
    per_frame = []
    for i in range(ENHANCED_MR_FRAMES):
        position = -30.0 + 3.0 * i
        noisy = knee(position) + rng.normal(0, 15, (matrix, matrix))
        frames.append(noisy.clip(0, 4095).astype(np.uint16))
        item = Dataset()
        plane = Dataset()
        plane.ImagePositionPatient = [position, -80.0, 80.0]
        item.PlanePositionSequence = Sequence([plane])
        content = Dataset()
        content.StackID = "1"
        content.InStackPositionNumber = i + 1
        content.DimensionIndexValues = [1, i + 1]
        item.FrameContentSequence = Sequence([content])
        per_frame.append(item)
    ds.PixelData = np.stack(frames).tobytes()
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [spacing, spacing]
    measures.SliceThickness = "3.0"
    shared.PixelMeasuresSequence = Sequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    shared.PlaneOrientationSequence = Sequence([orientation])
    window = Dataset()
    window.WindowCenter = "700"
    window.WindowWidth = "1400"
    window.WindowCenterWidthExplanation = "MR"
    shared.FrameVOILUTSequence = Sequence([window])
    transform = Dataset()
    transform.RescaleIntercept = "0"
    transform.RescaleSlope = "1"
    transform.RescaleType = "US"
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    cd.add(ds, study, enhanced)

    classic = cd.series(study, 2, "MR", BIG_ENDIAN_MR_DESCRIPTION)
    for i in range(BIG_ENDIAN_MR_SLICES):
        ds = cd.dataset(
            MR_IMAGE, study, classic, f"be{i}", number=i + 1, syntax=ExplicitVRBigEndian
        )
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "SE"]
        ds.ScanningSequence, ds.SequenceVariant = "SE", "NONE"
        ds.ScanOptions, ds.MRAcquisitionType = "", "2D"
        ds.EchoTime, ds.RepetitionTime = "12", "550"
        ds.SliceThickness = "4.0"
        ds.PixelSpacing = [spacing, spacing]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-80.0, -80.0, 20.0 - 4.0 * i]
        ds.WindowCenter, ds.WindowWidth = "600", "1200"
        _set_pixels(ds, rows=matrix, columns=matrix, stored=12)
        values = knee(4.0 * i).clip(0, 4095).astype(np.uint16)
        ds.PixelData = values.astype(">u2").tobytes()  # big-endian bytes, as the syntax says
        cd.add(ds, study, classic)


def _radiograph_study(cd: _Cd, size: int) -> None:
    study = cd.study("xr", "20230620", "RØ KNÆ BILATERAL", "KNEE", 3)
    rows, columns = size * 5, size * 4  # portrait, 2560 x 2048 for the full CD
    y, x = _grid(rows, columns)
    leg = (np.abs(x + 0.4) < 0.3) | (np.abs(x - 0.4) < 0.3)
    bone = ((np.abs(x) - 0.4) / 0.15) ** 2 + (y / 1.3) ** 2 < 1  # femur and tibia, both legs
    joint = np.abs(y) < 0.02
    attenuation = 0.05 + 0.5 * leg + 0.9 * (bone & ~joint)

    def brightness(rng) -> np.ndarray:
        """What the radiograph shows: bone white, soft tissue grey, air dark (12 bits)."""
        values = 300 + attenuation * 2200 + rng.normal(0, 20, attenuation.shape)
        return values.clip(0, 4095).astype(np.uint16)

    rng = np.random.default_rng(cd.seed + 3)
    cr = cd.series(study, 1, "CR", CR_DESCRIPTION)
    ds = cd.dataset(CR_IMAGE, study, cr, "cr")
    ds.ImagerPixelSpacing = [0.1, 0.1]
    ds.ViewPosition = "AP"
    # MONOCHROME1: high values are shown dark.
    _set_pixels(ds, rows=rows, columns=columns, stored=12)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.WindowCenter, ds.WindowWidth = "2100", "3600"
    ds.PixelData = (4095 - brightness(rng)).astype(np.uint16).tobytes()
    cd.add(ds, study, cr)

    dx = cd.series(study, 2, "DX", DX_DESCRIPTION)
    ds = cd.dataset(DX_IMAGE, study, dx, "dx")
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImagerPixelSpacing = [0.143, 0.143]
    ds.ViewPosition = "AP"
    _set_pixels(ds, rows=rows, columns=columns, stored=12)
    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 12]
    curve = 4095 / (1 + np.exp(-(np.arange(4096) - 2300) / 350))
    lut.add_new("LUTData", "US", curve.round().astype(np.uint16).tolist())
    lut.LUTExplanation = "NORMAL"
    ds.VOILUTSequence = Sequence([lut])
    ds.PixelData = brightness(rng).tobytes()
    cd.add(ds, study, dx)

    lateral = cd.series(study, 3, "DX", DEFLATED_DESCRIPTION)
    ds = cd.dataset(DX_IMAGE, study, lateral, "lateral", syntax=DeflatedExplicitVRLittleEndian)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImagerPixelSpacing = [0.143, 0.143]
    ds.ViewPosition = "LL"
    ds.WindowCenter, ds.WindowWidth = "1900", "3400"
    _set_pixels(ds, rows=rows, columns=columns, stored=12)
    ds.PixelData = brightness(rng).tobytes()
    cd.add(ds, study, lateral)


def _rle_frames(frames, rows: int, columns: int) -> bytes:
    """RLE Lossless, one frame at a time (a clip never sits in memory decoded)."""
    encoded = [
        RLELosslessEncoder.encode(
            frame,
            rows=rows,
            columns=columns,
            samples_per_pixel=3,
            bits_allocated=8,
            bits_stored=8,
            pixel_representation=0,
            photometric_interpretation="RGB",
            planar_configuration=0,
            number_of_frames=1,
        )
        for frame in frames
    ]
    return encapsulate(encoded)


def _ultrasound_study(cd: _Cd, us_frames: int, long_frames: int, long_size) -> None:
    study = cd.study("us", "20250115", "UL SKULDER VENSTRE", "SHOULDER", 4)

    clip = cd.series(study, 1, "US", US_CLIP_DESCRIPTION)
    columns, rows = US_CLIP_SIZE
    ds = cd.dataset(US_MULTIFRAME_IMAGE, study, clip, "clip", syntax=RLELossless)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.FrameTime = "33.3"
    ds.CineRate = 30
    ds.FrameIncrementPointer = Tag("FrameTime")
    _set_rgb(ds, rows=rows, columns=columns, frames=us_frames)
    ds.PixelData = _rle_frames(
        (_us_frame(rows, columns, i, us_frames) for i in range(us_frames)), rows, columns
    )
    ds["PixelData"].VR = "OB"
    cd.add(ds, study, clip)

    long_clip = cd.series(study, 2, "US", LONG_CLIP_DESCRIPTION)
    columns, rows = long_size
    ds = cd.dataset(US_MULTIFRAME_IMAGE, study, long_clip, "long")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.FrameTime = "40"
    ds.FrameIncrementPointer = Tag("FrameTime")
    _set_rgb(ds, rows=rows, columns=columns, frames=long_frames)
    ds.PixelData = b"".join(
        _us_frame(rows, columns, i, long_frames).tobytes() for i in range(long_frames)
    )
    cd.add(ds, study, long_clip)

    screenshot = cd.series(study, 3, "OT", SCREENSHOT_DESCRIPTION)
    columns, rows = SCREENSHOT_SIZE
    ds = cd.dataset(SECONDARY_CAPTURE, study, screenshot, "screenshot")
    ds.ConversionType = "WSD"
    _set_rgb(ds, rows=rows, columns=columns)
    ds.PixelData = bytes((24, 40, 64)) * (rows * columns)
    cd.add(ds, study, screenshot)

    damaged = cd.series(study, 4, "US", DAMAGED_DESCRIPTION)
    columns, rows = US_CLIP_SIZE
    ds = cd.dataset(US_IMAGE, study, damaged, "damaged")
    _set_rgb(ds, rows=rows, columns=columns)
    ds.PixelData = _us_frame(rows, columns, 0, 1).tobytes()
    cd.add(ds, study, damaged)
    cd.damaged_uid = ds.SOPInstanceUID


# --- The CD ----------------------------------------------------------------------------------

AUTORUN = "[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\nicon=VIEWER\\VIEWER.EXE,0\r\n"
README = (
    "<!DOCTYPE html>\r\n<html><head><title>Billeder fra Sygehus Vestfjord</title></head>\r\n"
    "<body><h1>Dine billeder</h1><p>Start VIEWER\\VIEWER.EXE for at se billederne.</p>"
    "</body></html>\r\n"
)


def _program(name: str, rng) -> bytes:
    """A Windows program or library: "MZ", a PE header offset, then bytes."""
    header = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"\x80\x00\x00\x00"
    )
    size = 64 * 1024 if name.endswith(".EXE") else 16 * 1024
    return header + rng.integers(0, 256, size, dtype=np.uint8).tobytes()


def build_cd(
    folder: Path,
    *,
    ct_slices: int = 300,
    size: int = 512,
    us_frames: int = 90,
    seed: int = 0,
    patient: tuple[str, str, str] = PATIENT,
    long_frames: int = 200,
    long_size: tuple[int, int] = (160, 120),
) -> Path:
    """Write the CD described in the module's docstring into `folder` and return it.

    `long_size` is columns x rows. The damaged file is written whole and then cut off
    inside its pixel data, so the DICOMDIR still lists it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cd = _Cd(folder, seed, patient)
    _ct_study(cd, ct_slices, size)
    _mr_study(cd, size)
    _radiograph_study(cd, size)
    _ultrasound_study(cd, us_frames, long_frames, long_size)
    cd.fileset.write(folder)

    damaged = next(
        folder / instance.FileID
        for instance in cd.fileset
        if instance.SOPInstanceUID == cd.damaged_uid
    )
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) - len(data) // 3])

    (folder / "REPORT.PDF").write_bytes(
        pdf_document([SR_TITLE, "", LOOSE_PDF_TEXT, SR_FINDING, SR_IMPRESSION])
    )
    (folder / "AUTORUN.INF").write_text(AUTORUN, encoding="ascii", newline="")
    (folder / "README.HTM").write_text(README, encoding="latin-1", newline="")
    rng = np.random.default_rng(seed + 4)
    for name in VIEWER_FILES:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_program(name, rng))
    return folder


CD_DATE = (2025, 2, 11, 9, 30, 0)


def zip_cd(folder: Path, target: Path, *, prefix: str = "") -> Path:
    """Zip the CD as a patient would (every file, deflated, paths as on the CD)."""
    folder, target = Path(folder), Path(target)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                # A fixed date: the same CD gives the same zip, byte for byte.
                entry = zipfile.ZipInfo(prefix + path.relative_to(folder).as_posix(), CD_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as source, archive.open(entry, "w") as sink:
                    shutil.copyfileobj(source, sink, 1024 * 1024)
    return target


def cd_headers(folder: Path) -> dict[str, Dataset]:
    """Every DICOM file of the CD (path inside the CD -> header without pixels), DICOMDIR
    and the damaged file included."""
    folder = Path(folder)
    headers = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            handle.seek(128)
            if handle.read(4) != b"DICM":
                continue
        headers[path.relative_to(folder).as_posix()] = pydicom.dcmread(
            path, stop_before_pixels=True
        )
    return headers
