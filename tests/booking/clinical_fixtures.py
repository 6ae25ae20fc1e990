"""Small DICOM images made with pydicom for the clinical rendering tests, and readers of
what booking/imaging/dicom.py makes of them (PNG chunks, the raw 16-bit values).

Every builder returns an in-memory pydicom Dataset (write it with
tests.booking.dicom_fixtures.write or to_bytes); images stay small (64-256 px) so the
tests are fast. Used by tests/booking/test_dicom_clinical.py.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
STORAGE_FOR = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE, "CR": CR_IMAGE_STORAGE}
AXIAL = [1, 0, 0, 0, 1, 0]  # rows along +x, columns along +y: normal +z
SAGITTAL = [0, 1, 0, 0, 0, -1]  # rows along +y, columns along -z: normal -x


def header(sop_class: str, modality: str, **tags) -> Dataset:
    """A dataset with file meta (Explicit VR Little Endian), UIDs and the given tags."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.StudyDate = "20240315"
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def mono(
    stored: np.ndarray,
    modality: str = "CT",
    *,
    photometric: str = "MONOCHROME2",
    signed: bool = False,
    bits_stored: int = 12,
    **tags,
) -> Dataset:
    """A 16-bit monochrome image (2-D) or multi-frame (3-D) of these stored values."""
    sop_class = tags.pop("sop_class", STORAGE_FOR.get(modality, CT_IMAGE_STORAGE))
    ds = header(sop_class, modality, **tags)
    frames = stored.shape[0] if stored.ndim == 3 else 1
    ds.Rows, ds.Columns = stored.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = stored.astype(np.int16 if signed else np.uint16).tobytes()
    return ds


def ramp(rows: int = 64, columns: int = 64, low: float = 0, high: float = 4095) -> np.ndarray:
    """Stored values rising from `low` to `high`, left to right and top to bottom."""
    y, x = np.mgrid[0:rows, 0:columns]
    return np.rint(low + (high - low) * (x + y) / max(1, rows + columns - 2))


def rgb_clip(frames: int, rows: int, columns: int, **tags) -> Dataset:
    """An 8-bit RGB ultrasound clip without positions; frame i is filled with grey i % 256."""
    ds = header(US_MULTIFRAME_STORAGE, "US", **tags)
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.FrameTime = "33.3"
    levels = (np.arange(frames) % 256).astype(np.uint8)
    ds.PixelData = np.repeat(levels, rows * columns * 3).tobytes()
    return ds


def positioned_stack(frames: int, size: int = 32, *, spacing_mm: float = 2.5) -> Dataset:
    """An enhanced CT whose frames have their own positions (a stack, not a clip).

    Frame i holds stored value 100 * i + 1000 (rescale -1024) and lies at z = 10 + i * spacing.
    """
    stored = np.stack([np.full((size, size), 100 * i + 1000) for i in range(frames)])
    ds = mono(stored, "CT", sop_class=ENHANCED_CT_STORAGE)
    shared = Dataset()
    orientation = Dataset()
    orientation.ImageOrientationPatient = AXIAL
    shared.PlaneOrientationSequence = Sequence([orientation])
    measures = Dataset()
    measures.PixelSpacing = [0.5, 0.5]
    shared.PixelMeasuresSequence = Sequence([measures])
    transform = Dataset()
    transform.RescaleSlope = "1"
    transform.RescaleIntercept = "-1024"
    transform.RescaleType = "HU"
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for i in range(frames):
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [-8.0, -8.0, 10 + i * spacing_mm]
        item.PlanePositionSequence = Sequence([position])
        content = Dataset()
        content.FrameAcquisitionDateTime = f"20240315101{i % 10}00.25"
        item.FrameContentSequence = Sequence([content])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    return ds


def with_voi_lut(ds: Dataset, table: np.ndarray, *, first: int = 0, bits: int = 12) -> Dataset:
    """Give `ds` a VOI LUT (and no window): `table` maps stored value first + i to table[i]."""
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        if keyword in ds:
            delattr(ds, keyword)
    item = Dataset()
    item.add_new(0x00283002, "US", [len(table), first, bits])  # LUT Descriptor
    item.add_new(0x00283006, "US", [int(v) for v in table])  # LUT Data
    ds.VOILUTSequence = Sequence([item])
    return ds


def deflated_bytes(ds: Dataset) -> bytes:
    """The file in Deflated Explicit VR Little Endian (pydicom deflates it when writing)."""
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order (b"IHDR", b"IDAT", ...)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    return kinds


def raw_values(data: bytes, offset: float, scale: float) -> np.ndarray:
    """The modality values carried by a raw PNG: (R * 256 + G) * scale + offset."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float64)
    assert not rgb[..., 2].any(), "the blue channel of a raw PNG is always 0"
    return (rgb[..., 0] * 256 + rgb[..., 1]) * scale + offset
