"""Realistic DICOM files made with pydicom, and paths of pydicom's bundled test files.

Used by tests/booking/test_dicom.py, test_imaging.py and bench/imaging.py.
Only bundled files are used (offline): `bundled(name)` skips when one is missing
instead of letting pydicom try to download it.
"""

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

TEST_FILES = Path(os.path.dirname(pydicom.__file__)) / "data" / "test_files"

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"


def bundled(name: str) -> Path:
    import pytest

    path = TEST_FILES / name
    if not path.exists():
        pytest.skip(f"pydicom's bundled test file {name} is missing")
    return path


def _base(sop_class: str, modality: str, *, study_uid=None, series_uid=None, **tags) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = modality
    ds.PatientName = "Test^Patient"
    ds.PatientID = "TEST-0001"
    ds.StudyDate = tags.pop("StudyDate", "20240315")
    ds.SeriesNumber = tags.pop("SeriesNumber", 1)
    ds.InstanceNumber = tags.pop("InstanceNumber", 1)
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def _pixels(ds: Dataset, array: np.ndarray, *, signed: bool, photometric="MONOCHROME2") -> None:
    frames = array.shape[0] if array.ndim == 3 else 1
    ds.Rows, ds.Columns = array.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12 if not signed else 16
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = array.astype(np.int16 if signed else np.uint16).tobytes()


def smooth_ct_slice(size=512, seed=0, z=0.0) -> np.ndarray:
    """Stored values of a body-like CT slice: air, soft tissue, a bone ring, a lung, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    hu = np.full((size, size), -1000.0)
    body = (x / 0.85) ** 2 + (y / 0.65) ** 2 < 1
    hu[body] = 40
    lung = ((x - 0.35) / 0.25) ** 2 + (y / 0.35) ** 2 < 1
    hu[lung] = -800
    radius = np.sqrt(x**2 + (y + 0.3) ** 2)
    hu[(radius > 0.08 + 0.01 * z) & (radius < 0.13 + 0.01 * z)] = 900
    hu += rng.normal(0, 12, hu.shape)
    return (hu + 1024).clip(0, 4095)  # stored = HU - intercept(-1024)


def ct_dataset(size=512, *, study_uid=None, series_uid=None, number=1, seed=0) -> Dataset:
    """A CT slice with rescale (-1024) and a soft-tissue window (40/400)."""
    ds = _base(
        CT_IMAGE_STORAGE,
        "CT",
        study_uid=study_uid,
        series_uid=series_uid,
        InstanceNumber=number,
        StudyDescription="CT THORAX",
        SeriesDescription="Thorax 1.0 B30f",
        BodyPartExamined="CHEST",
        SliceThickness="1.0",
        PixelSpacing=[0.7, 0.7],
        ImagePositionPatient=[-180, -180, -number * 1.0],
        ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        RescaleIntercept="-1024",
        RescaleSlope="1",
        WindowCenter="40",
        WindowWidth="400",
        KVP="120",
    )
    _pixels(ds, smooth_ct_slice(size, seed, number).astype(np.uint16), signed=False)
    return ds


def cr_monochrome1_dataset(size=256) -> Dataset:
    """A CR in MONOCHROME1 (high values are dark) with a window."""
    ds = _base(
        CR_IMAGE_STORAGE,
        "CR",
        StudyDate="20230101",
        BodyPartExamined="KNEE",
        WindowCenter="2048",
        WindowWidth="4096",
    )
    gradient = np.tile(np.linspace(0, 4095, size), (size, 1))
    _pixels(ds, gradient.astype(np.uint16), signed=False, photometric="MONOCHROME1")
    return ds


def enhanced_mr_dataset(frames=4, size=64) -> Dataset:
    """A multi-frame enhanced MR whose window is only in the functional groups."""
    ds = _base(ENHANCED_MR_STORAGE, "MR", BodyPartExamined="KNEE", StudyDate="20250102")
    stack = np.stack([np.full((size, size), 100 * (i + 1)) for i in range(frames)])
    stack[:, : size // 2, :] += 1000  # upper half bright
    _pixels(ds, stack.astype(np.uint16), signed=False)
    shared = Dataset()
    transform = Dataset()
    transform.RescaleSlope = "2"
    transform.RescaleIntercept = "0"
    transform.RescaleType = "US"
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for i in range(frames):
        item = Dataset()
        voi = Dataset()
        voi.WindowCenter = str(2 * (100 * (i + 1) + 500))  # between the halves
        voi.WindowWidth = "10"
        item.FrameVOILUTSequence = Sequence([voi])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    return ds


def to_bytes(ds: Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def write(ds: Dataset, path) -> Path:
    path = Path(path)
    path.write_bytes(to_bytes(ds))
    return path


def zip_tree(folder: Path, target: Path, *, prefix: str = "") -> Path:
    """Zip a folder as a patient would zip a CD."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                archive.write(path, prefix + str(path.relative_to(folder)))
    return target


def ct_cd_zip(target: Path, count: int, size=512) -> Path:
    """A zipped 'CD' of one CT series: DICOMDIR-less DICOM/ folder plus viewer files."""
    study, series = generate_uid(), generate_uid()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("AUTORUN.INF", "[autorun]\nopen=viewer.exe\n")
        archive.writestr("VIEWER/viewer.exe", b"MZ" + b"\0" * 1000)
        for number in range(1, count + 1):
            ds = ct_dataset(size, study_uid=study, series_uid=series, number=number, seed=number)
            archive.writestr(f"DICOM/IM{number:05d}", to_bytes(ds))
    return target


def pdf_of(objects: list[bytes], header: bytes = b"%PDF-1.7\n") -> bytes:
    """A PDF with these objects (1 is the catalog) and a correct cross-reference table."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
