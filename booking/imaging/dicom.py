"""Reading DICOM images safely and rendering them as previews a doctor can decide on.

Pure functions (no models, no database): booking/imaging/processing.py decides what to read
and where the results go; this module reads one file and turns its frames into
PNG previews, WebP thumbnails, one PNG per window preset and a 16-bit copy of the values
for the viewer's free window/level.

Safety: the caller has already sniffed the content (booking.filetypes.sniff_kind)
before `read_header` calls ``dcmread(force=True)``; the header is read with the
large elements deferred, and the size of one frame (rows x columns x samples, and its
bytes) is checked against settings.DICOM_MAX_FRAME_PIXELS *before* any pixel data is
decoded. Frames are decoded one at a time from the file (pydicom.pixels.pixel_array
with an index), so memory stays at about one frame whatever the file's length; the
number of frames is bounded separately: a long clip or stack is sampled evenly
(DICOM_MAX_CLIP_FRAMES, DICOM_MAX_FRAMES), which is not an error.

The header is not believed either: a deflated file (Deflated Explicit VR Little
Endian) is inflated here in chunks within DICOM_MAX_INFLATED_BYTES before pydicom
sees it (pydicom would inflate it whole, with no limit); a JPEG 2000 codestream's
own size (its SIZ marker) must be Rows x Columns before it is decoded; and every
decoded frame must have exactly the header's shape.

Pixel pipeline per monochrome frame (PS3.3 C.11): the modality LUT (Rescale
Slope/Intercept or a Modality LUT, from the functional groups of enhanced images when
present) is applied once; every window preset of the frame is then drawn from those
same values by `apply_window` (LINEAR, LINEAR_EXACT or SIGMOID, onto 0..255), or a VOI
LUT by pydicom's apply_voi_lut mapped from its own output range; MONOCHROME1 is
inverted last. Colour is converted to RGB (YBR by pydicom while decoding, PALETTE
COLOR through its LUT) and gets no window presets.

Geometry: every image made here shows true proportions (pixel spacing or aspect
ratio), the shorter physical side enlarged, the long side at most PREVIEW_SIZE.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

try:  # optional: a faster deflate for the many PNGs of a CD
    from isal import isal_zlib
except ImportError:  # pragma: no cover - the fallback is zlib
    isal_zlib = None
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from PIL import Image

from booking.imaging.notes import note as _

logger = logging.getLogger(__name__)

DEFAULT_MAX_FRAME_PIXELS = 50_000_000  # values of one frame (rows x columns x samples)
DEFAULT_MAX_FRAMES = 1000  # frames of one multi-frame stack that get a preview
DEFAULT_MAX_CLIP_FRAMES = 120  # frames of one clip (cine without positions) that get a preview
PREVIEW_SIZE = 1024  # long side of a preview, pixels
THUMBNAIL_SIZE = 160
PERCENTILES = (0.5, 99.5)
PERCENTILE_SAMPLE = 1 << 17  # values a percentile is estimated from (a regular sample)
PREVIEW_PNG_LEVEL = 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RENDITION_PNG_LEVEL = 1  # renditions and raw values: many per frame, speed first
ASPECT_LIMITS = (0.1, 10.0)  # a pixel aspect ratio outside is a damaged header
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
SR_SOP_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
ENCAPSULATED_PDF_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.104.1"
DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"
DEFAULT_MAX_INFLATED_BYTES = 512 * 1024 * 1024
INFLATE_CHUNK = 256 * 1024
INFLATED_IN_MEMORY = 4 * 1024 * 1024  # a larger inflated copy goes to an unnamed temp file
# JPEG 2000 (lossless, lossy, part 2) and High-Throughput JPEG 2000.
JPEG2000_SYNTAXES = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.92",
    "1.2.840.10008.1.2.4.93",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}

# Standard CT window presets (Hounsfield units), offered on CT only.
WINDOW_PRESETS = [
    {"key": "soft_tissue", "label": gettext_lazy("Soft tissue"), "center": 40, "width": 400},
    {"key": "bone", "label": gettext_lazy("Bone"), "center": 400, "width": 1800},
    {"key": "lung", "label": gettext_lazy("Lung"), "center": -600, "width": 1500},
    {"key": "brain", "label": gettext_lazy("Brain"), "center": 40, "width": 80},
    {"key": "spine", "label": gettext_lazy("Spine (soft tissue)"), "center": 50, "width": 250},
]


def max_frame_pixels() -> int:
    """Values one frame may hold. The older DICOM_MAX_PIXELS (which counted a whole file)
    still bounds a frame where only it is set, so a stricter deployment stays strict."""
    fallback = getattr(settings, "DICOM_MAX_PIXELS", DEFAULT_MAX_FRAME_PIXELS)
    return int(getattr(settings, "DICOM_MAX_FRAME_PIXELS", fallback))


def max_frames() -> int:
    return int(getattr(settings, "DICOM_MAX_FRAMES", DEFAULT_MAX_FRAMES))


def max_clip_frames() -> int:
    return int(getattr(settings, "DICOM_MAX_CLIP_FRAMES", DEFAULT_MAX_CLIP_FRAMES))


def max_inflated_bytes() -> int:
    return int(getattr(settings, "DICOM_MAX_INFLATED_BYTES", DEFAULT_MAX_INFLATED_BYTES))


class DicomError(Exception):
    """This file cannot be used; `reason` (a Note) says why, for staff."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(str(reason))


@dataclass
class DicomInfo:
    """What the header says, read before any pixel is decoded."""

    is_dicomdir: bool = False
    has_pixels: bool = False
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    study_date: date | None = None
    modality: str = ""
    body_part: str = ""
    study_description: str = ""
    series_description: str = ""
    series_number: int | None = None
    instance_number: int | None = None
    rows: int = 0
    columns: int = 0
    frames: int = 1
    samples: int = 1
    bits_allocated: int = 0
    photometric: str = ""
    transfer_syntax: str = ""
    sop_class: str = ""
    kind: str = "other"  # "image", "sr", "pdf", "dicomdir" or "other"
    pixel_spacing: tuple[float, float] | None = None  # (row, column) spacing in mm
    aspect: float = 1.0  # a pixel's height / width
    normal: tuple[float, float, float] | None = None  # unit normal of the image plane
    windows: list[tuple[float, float, str]] = field(default_factory=list)  # c, w, explanation
    voi_function: str = "LINEAR"
    has_voi_lut: bool = False
    is_clip: bool = False  # several frames and no per-frame positions: a cine loop
    acquisition: str = ""  # sortable "YYYYMMDDHHMMSS.ffffff", "" when unknown
    # What the pixels are read from when not the file itself: the inflated copy of a
    # deflated file (an in-memory or unnamed temporary file, gone when released).
    source: object = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        # Sent between processes (the processing's child reports to its parent):
        # the inflated copy stays behind with the process that reads the pixels.
        return {**self.__dict__, "source": None}


@dataclass
class RenderedFrame:
    """One frame made ready for the viewer; `frame` is its index in the file."""

    frame: int
    rows: int
    columns: int
    window_center: float | None  # the default preset's (None for a VOI LUT and colour)
    window_width: float | None
    preview: bytes = field(repr=False)  # PNG in the default preset, true proportions
    thumbnail: bytes = field(repr=False)  # WebP
    preview_format: str = "png"
    thumbnail_format: str = "webp"
    position: float | None = None  # along the slice normal, mm
    acquisition: str = ""
    invert: bool = False  # MONOCHROME1: high values dark
    presets: list[dict] = field(default_factory=list)
    default_code: str = ""
    renditions: dict[str, bytes] = field(default_factory=dict, repr=False)  # code -> PNG
    # 16-bit modality values as RGB PNG (R high byte, G low byte); value = v * scale + offset.
    raw: bytes | None = field(default=None, repr=False)
    raw_offset: float = 0.0
    raw_scale: float = 1.0


@dataclass
class RenderResult:
    info: DicomInfo
    frames: list[RenderedFrame] = field(default_factory=list)
    skipped_frames: int = 0  # frames that could not be decoded
    sampled_from: int = 0  # the file's frame count when only a sample was rendered


# --- Header ---------------------------------------------------------------------


def _get(ds, keyword: str):
    """ds.get that never raises (a malformed element reads as absent)."""
    try:
        return ds.get(keyword)
    except Exception:
        return None


def _text(ds, keyword: str, limit: int) -> str:
    value = _get(ds, keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = "\\".join(str(v) for v in value)
    text = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return text[:limit]


def _texts(value, limit: int = 64) -> list[str]:
    """Each value of a multi-valued text element, printable and trimmed."""
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    items = value.split("\\") if isinstance(value, str) else list(value)
    return ["".join(ch for ch in str(v) if ch.isprintable()).strip()[:limit] for v in items]


def _int(ds, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        return int(value)
    except Exception:
        return None


def _numbers(value) -> list[float | None]:
    """Each value of a (multi-valued) number element as a finite float, None where not one."""
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        items = value.split("\\")
    elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        items = list(value)
    else:
        items = [value]
    out: list[float | None] = []
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            number = None
        out.append(number if number is not None and math.isfinite(number) else None)
    return out


def parse_da(value) -> date | None:
    """A DICOM DA (YYYYMMDD, or the old YYYY.MM.DD) as a date; None when unusable."""
    text = str(value or "").strip().replace(".", "").replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def sortable_time(date_text, time_text="") -> str:
    """A DA and a TM as "YYYYMMDDHHMMSS.ffffff" (compared as text); "" without a date.

    A missing or unreadable time counts as midnight; the old HH:MM:SS form is read too.
    """
    day = parse_da(date_text)
    if day is None:
        return ""
    clock, _dot, fraction = str(time_text or "").strip().replace(":", "").partition(".")
    if not clock.isdigit() or len(clock) > 6:
        clock, fraction = "", ""
    if not fraction.isdigit():
        fraction = ""
    return f"{day:%Y%m%d}{clock.ljust(6, '0')}.{fraction[:6].ljust(6, '0')}"


def sortable_datetime(value) -> str:
    """A DICOM DT (YYYYMMDDHHMMSS.FFFFFF&ZZXX) as `sortable_time` gives it; "" when unusable.

    The UTC offset is dropped: the files of one series come from one machine.
    """
    text = str(value or "").strip()
    for sign in "+-":
        at = text.find(sign, 8)
        if at >= 0:
            text = text[:at]
    return sortable_time(text[:8], text[8:])


def _group_item(ds, sequence: str, index: int | None, inner: str):
    """The first item of `inner` in the frame's (index) or shared functional group."""
    try:
        groups = ds.get(sequence)
        if not groups:
            return None
        item = groups[index] if index is not None and index < len(groups) else groups[0]
        inner_seq = item.get(inner)
        return inner_seq[0] if inner_seq else None
    except Exception:
        return None


def _functional(ds, frame: int, inner: str):
    """`inner` of the frame's functional group, else of the shared group (enhanced files)."""
    return _group_item(ds, "PerFrameFunctionalGroupsSequence", frame, inner) or _group_item(
        ds, "SharedFunctionalGroupsSequence", None, inner
    )


def _spacing(value) -> tuple[float, float] | None:
    numbers = _numbers(value)
    if len(numbers) != 2 or None in numbers or min(numbers) <= 0:
        return None
    return numbers[0], numbers[1]


def pixel_spacing_of(ds) -> tuple[float, float] | None:
    """(row, column) spacing in mm: PixelSpacing, the functional groups', ImagerPixelSpacing."""
    found = _spacing(_get(ds, "PixelSpacing"))
    if found is None:
        for item in (
            _group_item(ds, "SharedFunctionalGroupsSequence", None, "PixelMeasuresSequence"),
            _group_item(ds, "PerFrameFunctionalGroupsSequence", 0, "PixelMeasuresSequence"),
        ):
            found = _spacing(_get(item, "PixelSpacing")) if item is not None else None
            if found is not None:
                break
    return found or _spacing(_get(ds, "ImagerPixelSpacing"))


def aspect_of(ds, spacing: tuple[float, float] | None) -> float:
    """A pixel's height / width: from the spacing, else PixelAspectRatio; 1.0 when unsure."""
    if spacing is not None:
        ratio = spacing[0] / spacing[1]
    else:
        numbers = _numbers(_get(ds, "PixelAspectRatio"))
        if len(numbers) != 2 or None in numbers or min(numbers) <= 0:
            return 1.0
        ratio = numbers[0] / numbers[1]
    low, high = ASPECT_LIMITS
    return ratio if math.isfinite(ratio) and low <= ratio <= high else 1.0


def normal_of(orientation) -> tuple[float, float, float] | None:
    """The unit normal (row direction x column direction) of an ImageOrientationPatient."""
    numbers = _numbers(orientation)
    if len(numbers) != 6 or None in numbers:
        return None
    cross = np.cross(np.array(numbers[:3]), np.array(numbers[3:]))
    length = float(np.linalg.norm(cross))
    if not math.isfinite(length) or length < 1e-6:
        return None  # parallel or zero directions: no plane
    return tuple(float(v) / length for v in cross)


def _frame_normal(ds, frame: int, info: DicomInfo):
    item = _functional(ds, frame, "PlaneOrientationSequence")
    found = normal_of(_get(item, "ImageOrientationPatient")) if item is not None else None
    return found or info.normal


def frame_position(ds, info: DicomInfo, frame: int) -> float | None:
    """Where the frame lies along the slice normal (ImagePositionPatient . normal), in mm.

    Enhanced files give a position per frame (PlanePositionSequence); RT Dose and similar
    stacks give offsets along the normal (GridFrameOffsetVector); else the top level's.
    """
    normal = _frame_normal(ds, frame, info)
    if normal is None:
        return None
    item = _functional(ds, frame, "PlanePositionSequence")
    numbers = _numbers(_get(item, "ImagePositionPatient")) if item is not None else []
    offset = 0.0
    if len(numbers) != 3 or None in numbers:
        numbers = _numbers(_get(ds, "ImagePositionPatient"))
        offsets = _numbers(_get(ds, "GridFrameOffsetVector")) if info.frames > 1 else []
        if len(offsets) >= info.frames and None not in offsets:
            offset = offsets[frame] - offsets[0]  # relative or absolute: both start at frame 0
    if len(numbers) != 3 or None in numbers:
        return None
    return float(np.dot(numbers, normal)) + offset


def windows_of(item) -> list[tuple[float, float, str]]:
    """Every (center, width, explanation) the item states, width >= 1 (PS3.3 C.11.2.1.2)."""
    centers = _numbers(_get(item, "WindowCenter"))
    widths = _numbers(_get(item, "WindowWidth"))
    explanations = _texts(_get(item, "WindowCenterWidthExplanation"))
    found = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        if center is None or width is None or width < 1:
            continue
        explanation = explanations[index] if index < len(explanations) else ""
        found.append((center, width, explanation))
    return found


def voi_function_of(item, default: str = "LINEAR") -> str:
    text = _text(item, "VOILUTFunction", 16).upper() if item is not None else ""
    return text if text in VOI_FUNCTIONS else default


def _has_voi_lut(ds) -> bool:
    try:
        items = ds.get("VOILUTSequence")
        return bool(items) and "LUTDescriptor" in items[0] and "LUTData" in items[0]
    except Exception:
        return False


def _has_frame_positions(ds, frames: int) -> bool:
    """Whether each frame of a multi-frame file has its own place (a stack, not a clip)."""
    offsets = _numbers(_get(ds, "GridFrameOffsetVector"))
    if len(offsets) >= frames and None not in offsets:
        return True
    return (
        _group_item(ds, "PerFrameFunctionalGroupsSequence", 0, "PlanePositionSequence") is not None
    )


def acquisition_of(ds) -> str:
    """When the image was acquired, sortable; the content's time when that is all there is."""
    found = sortable_datetime(_text(ds, "AcquisitionDateTime", 40))
    for date_key, time_key in (
        ("AcquisitionDate", "AcquisitionTime"),
        ("ContentDate", "ContentTime"),
    ):
        if found:
            break
        found = sortable_time(_text(ds, date_key, 16), _text(ds, time_key, 20))
    return found


def frame_acquisition(ds, info: DicomInfo, frame: int) -> str:
    item = _group_item(ds, "PerFrameFunctionalGroupsSequence", frame, "FrameContentSequence")
    found = sortable_datetime(_text(item, "FrameAcquisitionDateTime", 40)) if item else ""
    return found or info.acquisition


def kind_of(sop_class: str, is_dicomdir: bool, has_pixels: bool) -> str:
    if is_dicomdir:
        return "dicomdir"
    if sop_class.startswith(SR_SOP_CLASS_PREFIX):
        return "sr"
    if sop_class == ENCAPSULATED_PDF_SOP_CLASS:
        return "pdf"
    return "image" if has_pixels else "other"


def _inflated_copy(path):
    """The file re-encoded without deflate, inflated with a byte cap; None when not deflated.

    pydicom inflates the Deflated Explicit VR Little Endian syntax in one call with
    no output limit (a 1 MB file can become gigabytes). Here the file meta is read
    as it is, the rest inflated chunk by chunk up to DICOM_MAX_INFLATED_BYTES, and
    written after a new file meta saying Explicit VR Little Endian.
    """
    from pydicom.filebase import DicomFileLike
    from pydicom.filereader import _read_file_meta_info, read_preamble
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian

    owned = not hasattr(path, "read")
    handle = open(path, "rb") if owned else path  # noqa: SIM115 - closed below
    position = None if owned else handle.tell()
    try:
        handle.seek(0)
        try:
            read_preamble(handle, True)
            meta = _read_file_meta_info(handle)
        except Exception:
            return None  # not readable as a file with meta: dcmread decides
        if str(meta.get("TransferSyntaxUID", "")) != DEFLATED_SYNTAX:
            return None
        copy = tempfile.SpooledTemporaryFile(max_size=INFLATED_IN_MEMORY)  # noqa: SIM115
        try:
            copy.write(b"\0" * 128 + b"DICM")
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            write_file_meta_info(DicomFileLike(copy), meta, enforce_standard=False)
            _inflate(handle, copy.write, max_inflated_bytes())
        except DicomError:
            copy.close()
            raise
        except Exception as exc:
            copy.close()
            logger.info("deflated DICOM unreadable: %s", exc)
            raise DicomError(_("the DICOM file is damaged or incomplete.")) from exc
        copy.seek(0)
        return copy
    finally:
        if owned:
            handle.close()
        else:
            handle.seek(position)


def _inflate(handle, write, cap: int) -> int:
    """Raw-deflate `handle` from its position into `write`, refusing past `cap` bytes."""
    engine = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    while not engine.eof:
        data = engine.unconsumed_tail or handle.read(INFLATE_CHUNK)
        # One byte more than allowed is enough to know the file is over the cap.
        chunk = engine.decompress(data, min(INFLATE_CHUNK, cap - produced + 1))
        if not data and not chunk:
            break  # the stream ends without its end marker: what came out is read as is
        produced += len(chunk)
        if produced > cap:
            raise DicomError(
                _("the compressed DICOM file unpacks to more than %(size)d MB (refused).")
                % {"size": cap // (1024 * 1024)}
            )
        write(chunk)
    return produced


def read_header(path):
    """(dataset, DicomInfo) of a file already sniffed as DICOM; DicomError when unreadable.

    Elements over 16 KB (the pixel data) are deferred: read only when decoded. A
    deflated file is inflated first, within DICOM_MAX_INFLATED_BYTES (info.source).
    """
    import pydicom

    source = _inflated_copy(path)
    try:
        ds = pydicom.dcmread(source or path, force=True, defer_size=16 * 1024)
        # Force the parsing of every (non-deferred) element now, inside the try.
        keys = list(ds.keys())
    except Exception as exc:
        logger.info("DICOM header unreadable: %s", exc)
        raise DicomError(_("the DICOM file is damaged or incomplete.")) from exc
    if not keys:
        raise DicomError(_("the file holds no DICOM data."))
    meta = getattr(ds, "file_meta", None)
    sop_class = "".join(
        ch
        for ch in str(
            _get(ds, "SOPClassUID")
            or (meta.get("MediaStorageSOPClassUID", "") if meta else "")
            or ""
        )
        if ch.isprintable()
    ).strip()[:64]
    is_dicomdir = sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds
    has_pixels = any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))
    frames = max(1, _int(ds, "NumberOfFrames") or 1)
    spacing = pixel_spacing_of(ds)
    orientation = _get(ds, "ImageOrientationPatient")
    if orientation is None:
        item = _functional(ds, 0, "PlaneOrientationSequence")
        orientation = _get(item, "ImageOrientationPatient") if item is not None else None
    info = DicomInfo(
        is_dicomdir=is_dicomdir,
        has_pixels=has_pixels,
        study_uid=_text(ds, "StudyInstanceUID", 64),
        series_uid=_text(ds, "SeriesInstanceUID", 64),
        sop_uid=_text(ds, "SOPInstanceUID", 64),
        study_date=parse_da(_get(ds, "StudyDate"))
        or parse_da(_get(ds, "SeriesDate"))
        or parse_da(_get(ds, "AcquisitionDate")),
        modality=_text(ds, "Modality", 16).upper(),
        body_part=_text(ds, "BodyPartExamined", 64),
        study_description=_text(ds, "StudyDescription", 200),
        series_description=_text(ds, "SeriesDescription", 200),
        series_number=_int(ds, "SeriesNumber"),
        instance_number=_int(ds, "InstanceNumber"),
        rows=_int(ds, "Rows") or 0,
        columns=_int(ds, "Columns") or 0,
        frames=frames,
        samples=_int(ds, "SamplesPerPixel") or 1,
        bits_allocated=_int(ds, "BitsAllocated") or 0,
        photometric=_text(ds, "PhotometricInterpretation", 20).upper(),
        transfer_syntax=DEFLATED_SYNTAX
        if source is not None
        else (str(meta.get("TransferSyntaxUID", "")) if meta else ""),
        sop_class=sop_class,
        kind=kind_of(sop_class, is_dicomdir, has_pixels),
        pixel_spacing=spacing,
        aspect=aspect_of(ds, spacing),
        normal=normal_of(orientation),
        windows=windows_of(ds),
        voi_function=voi_function_of(ds),
        has_voi_lut=_has_voi_lut(ds),
        is_clip=frames > 1 and not _has_frame_positions(ds, frames),
        acquisition=acquisition_of(ds),
        source=source,
    )
    return ds, info


def sample_frames(total: int, count: int) -> list[int]:
    """`count` frame indices spread evenly over 0 .. total - 1, first and last included.

    Rounded half up in integers, so the indices are strictly increasing.
    """
    if total <= count:
        return list(range(total))
    if count <= 1:
        return [0]
    step_num, step_den = total - 1, count - 1
    return [(2 * i * step_num + step_den) // (2 * step_den) for i in range(count)]


def check_decodable(info: DicomInfo) -> list[int]:
    """Refuse, from the header alone, what must not be decoded; returns the frames to render.

    The cap is per frame (frames are decoded one at a time); the number of frames is
    bounded apart: a clip beyond DICOM_MAX_CLIP_FRAMES and any other file beyond
    DICOM_MAX_FRAMES are sampled evenly.
    """
    if info.is_dicomdir:
        raise DicomError(_("a DICOMDIR is an index of the CD, not an image."))
    if not info.has_pixels:
        raise DicomError(
            _("the DICOM file holds no image (e.g. a structured report or a dose report).")
        )
    if info.rows <= 0 or info.columns <= 0:
        raise DicomError(_("the DICOM file does not say the size of its image."))
    if info.samples not in (1, 3) or info.bits_allocated not in (1, 8, 16, 32, 64):
        raise DicomError(_("the DICOM image has a pixel format that cannot be shown."))
    limit = max_frame_pixels()
    values = info.rows * info.columns * info.samples
    frame_bytes = values * max(1, info.bits_allocated // 8)
    if values > limit or frame_bytes > limit * 4:
        raise DicomError(
            _(
                "the DICOM image is too large to preview "
                "(%(rows)d x %(columns)d, %(frames)d frames)."
            )
            % {"rows": info.rows, "columns": info.columns, "frames": info.frames}
        )
    cap = min(max_clip_frames(), max_frames()) if info.is_clip else max_frames()
    return sample_frames(info.frames, max(1, cap))


def _size_refusal(info: DicomInfo):
    return DicomError(
        _("the DICOM image's data does not match the size its header states (refused).")
    )


def _fragment_heads(source, ds, head: int = 512):
    """The first bytes of each fragment of encapsulated pixel data, read without the rest.

    Walks the item headers (8 bytes each) from the file, seeking over the data, so
    a fragment of hundreds of MB costs one seek.
    """
    element = ds.get_item(0x7FE00010, keep_deferred=True)
    if element is None:
        return
    value = element.value
    if value is not None:
        if not isinstance(value, bytes | bytearray):
            return
        handle, owned, start = io.BytesIO(value), False, 0
    else:
        start = getattr(element, "value_tell", None)
        if start is None:
            return
        owned = not hasattr(source, "read")
        handle = open(source, "rb") if owned else source  # noqa: SIM115 - closed below
    position = None if owned else handle.tell()
    try:
        handle.seek(start)
        first = True
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return
            group, elem, length = struct.unpack("<HHL", header)
            if (group, elem) != (0xFFFE, 0xE000) or length == 0xFFFFFFFF:
                return  # the sequence delimiter (or damage: the decoder will say so)
            where = handle.tell()
            if not first:
                yield handle.read(min(head, length))
            first = False  # the first item is the Basic Offset Table
            handle.seek(where + length)
    finally:
        if owned:
            handle.close()
        elif position is not None:
            handle.seek(position)


def jpeg2000_size(fragment: bytes) -> tuple[int, int, int] | None:
    """(rows, columns, components) from a JPEG 2000 codestream's SIZ marker, or None.

    A raw codestream starts with SOC (FF4F) then SIZ (FF51); a JP2 file (rare in
    DICOM) has the codestream a few boxes in.
    """
    at = 0 if fragment.startswith(b"\xff\x4f\xff\x51") else -1
    if at < 0 and fragment[4:8] == b"jP  ":
        at = fragment.find(b"\xff\x4f\xff\x51")
    if at < 0 or len(fragment) < at + 2 + 40:
        return None
    siz = fragment[at + 2 :]
    xsiz, ysiz, xosiz, yosiz = struct.unpack(">4L", siz[6:22])
    (components,) = struct.unpack(">H", siz[38:40])
    return max(0, ysiz - yosiz), max(0, xsiz - xosiz), components


def check_codestream_sizes(source, ds, info: DicomInfo) -> None:
    """Refuse a JPEG 2000 image whose codestream's size is not the header's, before decoding.

    The decoder allocates what the codestream says (a header of 64 x 64 can hide
    12000 x 12000), so every codestream's SIZ marker is read first and must give
    exactly Rows x Columns; its pixels count against DICOM_MAX_FRAME_PIXELS too.
    """
    if info.transfer_syntax not in JPEG2000_SYNTAXES:
        return
    try:
        for fragment in _fragment_heads(source, ds):
            size = jpeg2000_size(fragment)
            if size is None:
                continue  # a later fragment of the same frame
            rows, columns, components = size
            if (rows, columns) != (info.rows, info.columns):
                raise _size_refusal(info)
            if rows * columns * components > max_frame_pixels():
                raise _size_refusal(info)
    except DicomError:
        raise
    except Exception as exc:
        logger.info("JPEG 2000 fragments unreadable: %s", exc)
        raise DicomError(_("the DICOM file is damaged or incomplete.")) from exc


def _check_shape(arr: np.ndarray, info: DicomInfo) -> None:
    """A decoded frame must have exactly the header's size (any codec can be lied to)."""
    expected = (info.rows, info.columns) if info.samples == 1 else (info.rows, info.columns, 3)
    if tuple(arr.shape) != expected:
        raise _size_refusal(info)


# --- Pixel pipeline ------------------------------------------------------------------


def _first(value):
    numbers = _numbers(value)
    return numbers[0] if numbers else None


def rescale_for(ds, frame: int) -> tuple[float, float] | None:
    """(slope, intercept) from the functional groups, else the top level; None when absent."""
    item = _functional(ds, frame, "PixelValueTransformationSequence")
    for source in (item, ds):
        if source is None:
            continue
        slope, intercept = (
            _first(_get(source, "RescaleSlope")),
            _first(_get(source, "RescaleIntercept")),
        )
        if slope is not None or intercept is not None:
            slope = 1.0 if slope is None or slope == 0 else slope
            intercept = 0.0 if intercept is None else intercept
            return slope, intercept
    return None


def frame_windows(ds, info: DicomInfo, frame: int) -> tuple[list[tuple[float, float, str]], str]:
    """The windows the file states for this frame, and their VOI LUT function.

    An enhanced file's FrameVOILUTSequence (the frame's, else the shared one) wins over
    the top level's, as the standard's functional groups say.
    """
    item = _functional(ds, frame, "FrameVOILUTSequence")
    if item is not None:
        found = windows_of(item)
        if found:
            return found, voi_function_of(item, info.voi_function)
    return info.windows, info.voi_function


def apply_modality(arr: np.ndarray, ds, frame: int) -> np.ndarray:
    """Stored values -> modality values (e.g. Hounsfield units) as float32, a new array."""
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        try:
            return apply_modality_lut(arr, ds).astype(np.float32)
        except Exception as exc:
            logger.info("modality LUT ignored: %s", exc)
    rescale = rescale_for(ds, frame)
    out = arr.astype(np.float32)
    if out.dtype.kind == "f" and arr.dtype.kind == "f":
        # Float pixel data may hold NaN or infinities: they would spoil every window.
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if rescale is not None:
        slope, intercept = rescale
        if slope != 1.0:
            out *= np.float32(slope)
        if intercept != 0.0:
            out += np.float32(intercept)
    return out


def percentile_window(values: np.ndarray) -> tuple[float, float]:
    """(center, width) stretching the 0.5-99.5 percentiles (nearest rank, of a regular sample)."""
    flat = values.ravel()
    if flat.size > PERCENTILE_SAMPLE:
        flat = flat[:: flat.size // PERCENTILE_SAMPLE + 1]
    finite = flat[np.isfinite(flat)]
    if finite.size == 0:
        return 0.0, 1.0
    last = finite.size - 1
    ranks = (round(last * PERCENTILES[0] / 100), round(last * PERCENTILES[1] / 100))
    ordered = np.partition(finite, ranks)  # only these two ranks sorted: a fraction of a sort
    low, high = float(ordered[ranks[0]]), float(ordered[ranks[1]])
    if high <= low:
        low, high = float(finite.min()), float(finite.max())
    width = max(high - low, 1.0)
    return low + width / 2, width


def apply_window(values: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """Modality values -> uint8 through a VOI window, as PS3.3 C.11.2.1.2 and C.11.2.1.3 say.

    LINEAR maps center - 0.5 +- (width - 1) / 2 onto 0..255 (width >= 1), LINEAR_EXACT
    maps center +- width / 2, SIGMOID is 255 / (1 + exp(-4 (x - center) / width)).
    Rounded to the nearest grey level. MONOCHROME1's inversion is the caller's (after).
    """
    function = function if function in VOI_FUNCTIONS else "LINEAR"
    if function == "SIGMOID":
        if not width > 0:
            raise ValueError("a SIGMOID window needs a width > 0")
        work = values - np.float32(center)
        work *= np.float32(-4.0 / width)
        with np.errstate(over="ignore"):
            np.exp(work, out=work)
        work += np.float32(1.0)
        np.divide(np.float32(255.0), work, out=work)
    else:
        if function == "LINEAR":
            if not width >= 1:
                raise ValueError("a LINEAR window needs a width >= 1")
            center, width = center - 0.5, width - 1.0
            if width == 0:  # a threshold: the standard's "x <= c - 0.5" is black
                return np.where(values > center, np.uint8(255), np.uint8(0))
        elif not width > 0:
            raise ValueError("a LINEAR_EXACT window needs a width > 0")
        scale = 255.0 / width
        work = values * np.float32(scale)
        work += np.float32(127.5 - center * scale)  # ((x - c) / w + 0.5) * 255
    work += np.float32(0.5)  # round half up by the truncation below
    np.clip(work, 0, 255, out=work)
    return work.astype(np.uint8)


def apply_lut(values: np.ndarray, ds) -> np.ndarray:
    """The file's VOI LUT (pydicom's apply_voi_lut) mapped from 0 .. 2**bits - 1 to 0..255.

    The LUT's output range is its descriptor's, not the values it happens to hold: the
    file's contrast is shown as it was meant, never stretched again.
    """
    from pydicom.pixels import apply_voi_lut

    bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
    # The LUT is indexed by integers; modality values of integer data are integral.
    indices = np.rint(values).astype(np.int32)
    mapped = apply_voi_lut(indices, ds, prefer_lut=True).astype(np.float32)
    mapped *= np.float32(255.0 / (2**bits - 1))
    mapped += np.float32(0.5)
    np.clip(mapped, 0, 255, out=mapped)
    return mapped.astype(np.uint8)


def is_colour(info: DicomInfo) -> bool:
    return info.samples == 3 or info.photometric == "PALETTE COLOR"


def render_colour(arr: np.ndarray, ds, photometric: str) -> np.ndarray:
    """One colour frame -> uint8 RGB. pixel_array already converted YBR to RGB."""
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise DicomError(_("the DICOM colour image could not be converted."))
    if arr.dtype == np.uint8:
        return arr
    top = float(arr.max()) or 1.0
    return (arr.astype(np.float32) * np.float32(255.0 / top)).clip(0, 255).astype(np.uint8)


def frame_presets(
    info: DicomInfo,
    windows: list[tuple[float, float, str]],
    function: str,
    auto: tuple[float, float],
) -> list[dict]:
    """The windows the viewer offers for one monochrome frame, in the order shown.

    The file's own windows first, its VOI LUT when it states no window, the standard
    Hounsfield presets on CT only (they mean nothing in other units), and always last
    an automatic window from this frame's percentiles.
    """
    presets = []
    for number, (center, width, explanation) in enumerate(windows, start=1):
        if explanation:
            label = explanation
        elif len(windows) > 1:
            label = gettext("Window %(n)d from the file") % {"n": number}
        else:
            label = gettext("Window from the file")
        presets.append(
            {
                "code": f"file{number}",
                "label": label,
                "center": center,
                "width": width,
                "function": function,
            }
        )
    if not windows and info.has_voi_lut:
        presets.append(
            {
                "code": "lut",
                "label": gettext("Lookup table from the file"),
                "center": None,
                "width": None,
                "function": function,
            }
        )
    if info.modality == "CT":
        for item in WINDOW_PRESETS:
            presets.append(
                {
                    "code": item["key"],
                    "label": str(item["label"]),
                    "center": float(item["center"]),
                    "width": float(item["width"]),
                    "function": "LINEAR",
                }
            )
    presets.append(
        {
            "code": "auto",
            "label": gettext("Automatic"),
            "center": auto[0],
            "width": auto[1],
            "function": "LINEAR",
        }
    )
    return presets


def default_code(presets: list[dict]) -> str:
    """The preset the preview shows: the file's first window, else its LUT, else automatic."""
    codes = [preset["code"] for preset in presets]
    for code in ("file1", "lut", "auto"):
        if code in codes:
            return code
    return ""


# --- Geometry and encoding ----------------------------------------------------------------


def display_size(rows: int, columns: int, aspect: float) -> tuple[int, int]:
    """(width, height) in pixels showing true proportions, the long side <= PREVIEW_SIZE.

    The physically shorter pixel side is enlarged (no resolution is lost along the other);
    e.g. 100 rows x 200 columns at 1.0 x 0.5 mm become 200 x 200.
    """
    width, height = float(columns), float(rows)
    if aspect > 1:
        height *= aspect
    elif aspect < 1:
        width /= aspect
    scale = min(1.0, PREVIEW_SIZE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resized_values(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Modality values resampled to `size` (width, height), still float32."""
    if (values.shape[1], values.shape[0]) == size:
        return values
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), "F")
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)


def _resized_image(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _deflate(data: np.ndarray, level: int) -> bytes:
    """zlib-wrapped deflate of the filtered rows.

    At the renditions' fast level, Intel's ISA-L (the `isal` package) is used when it is
    installed: about twice as fast as zlib here, for files about a fifth larger. A 300-slice
    CT writes some 3,000 of these.
    """
    if level <= 1 and isal_zlib is not None:
        return isal_zlib.compress(data, 1)
    engine = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_RLE)
    return engine.compress(data) + engine.flush()


def png_bytes(pixels: np.ndarray, level: int = RENDITION_PNG_LEVEL) -> bytes:
    """8-bit grey (rows x columns) or RGB (rows x columns x 3) as a PNG of three chunks.

    IHDR, IDAT and IEND only: no gamma, colour profile or text, so a browser reads the
    bytes unchanged (the raw values depend on it). Written here rather than by Pillow
    because a frame gets up to ten of these: every row takes the Up filter (each byte
    minus the one above it), computed for the whole image at once, where Pillow tries
    five filters per row, and zlib's run-length strategy suits filtered medical images
    (flat backgrounds, noise elsewhere): four to five times faster than Pillow at level
    1, and smaller.
    """
    height, width = pixels.shape[:2]
    rows = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(height, -1)
    data = np.empty((height, rows.shape[1] + 1), np.uint8)
    data[:, 0] = 2  # filter type Up
    data[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=data[1:, 1:])  # modulo 256, as PNG wants
    colour_type = 2 if pixels.ndim == 3 else 0
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", _deflate(data, level)),
            _chunk(b"IEND", b""),
        )
    )


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    # reducing_gap=1: a box reduction first, then Lanczos over the last step (3x faster).
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS, reducing_gap=1.0)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80)
    return out.getvalue()


def encode_previews(image: Image.Image) -> tuple[bytes, bytes]:
    """(PNG preview, WebP thumbnail <= 160 px) of an image already at its display size."""
    return png_bytes(np.asarray(image), PREVIEW_PNG_LEVEL), _thumbnail(image)


def raw_png(values: np.ndarray, shown: np.ndarray) -> tuple[bytes, float, float]:
    """(PNG, offset, scale) carrying the modality values for the viewer's free window.

    v = round((value - offset) / scale) in 16 bits, R = high byte, G = low byte; offset
    is the frame's minimum and scale at least 1, so integer data comes back exactly as
    v * scale + offset. `shown` is `values` at the display size.
    """
    offset = float(values.min())
    scale = max(1.0, (float(values.max()) - offset) / 65535.0)
    work = shown - np.float32(offset)
    if scale != 1.0:
        work *= np.float32(1.0 / scale)
    work += np.float32(0.5)
    np.clip(work, 0, 65535, out=work)
    levels = work.astype(np.uint16)
    rgb = np.zeros(levels.shape + (3,), np.uint8)
    rgb[..., 0] = levels >> 8
    rgb[..., 1] = levels & 0xFF
    return png_bytes(rgb, RENDITION_PNG_LEVEL), offset, scale


def _inverted(image: np.ndarray, invert: bool) -> np.ndarray:
    if invert:
        np.subtract(np.uint8(255), image, out=image)
    return image


def _preset_pixels(shown: np.ndarray, preset: dict, invert: bool) -> np.ndarray:
    """One window preset of a frame's (display-size) modality values, as 8-bit grey."""
    image = apply_window(shown, preset["center"], preset["width"], preset["function"])
    return _inverted(image, invert)


def render_frame(
    arr: np.ndarray, ds, info: DicomInfo, frame: int, *, renditions: bool = False
) -> RenderedFrame:
    """One decoded frame -> its preview, thumbnail, presets and (monochrome) raw values.

    The modality values are computed once and resampled once; every preset is drawn
    from them, so a rendition never needs the frame decoded again.
    """
    size = display_size(info.rows, info.columns, info.aspect)
    photometric = info.photometric or ("RGB" if info.samples == 3 else "MONOCHROME2")
    common = {
        "frame": frame,
        "rows": info.rows,
        "columns": info.columns,
        "position": frame_position(ds, info, frame),
        "acquisition": frame_acquisition(ds, info, frame),
    }
    if is_colour(info):
        rgb = render_colour(arr, ds, photometric)
        image = _resized_image(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), size)
        preview, thumbnail = encode_previews(image)
        return RenderedFrame(
            **common, window_center=None, window_width=None, preview=preview, thumbnail=thumbnail
        )

    invert = photometric == "MONOCHROME1"
    values = apply_modality(arr, ds, frame)
    windows, function = frame_windows(ds, info, frame)
    presets = frame_presets(info, windows, function, percentile_window(values))
    code = default_code(presets)
    shown = _resized_values(values, size)
    image = None
    if code == "lut":
        try:
            # Like every preset, from the values at display size (a large radiograph: 6x less).
            image = Image.fromarray(_inverted(apply_lut(shown, ds), invert), "L")
        except Exception as exc:
            logger.info("VOI LUT ignored: %s", exc)
            presets = [preset for preset in presets if preset["code"] != "lut"]
            code = default_code(presets)
    chosen = next(preset for preset in presets if preset["code"] == code)
    if image is None:
        image = Image.fromarray(_preset_pixels(shown, chosen, invert), "L")
    preview, thumbnail = encode_previews(image)
    others = {}
    if renditions:
        for preset in presets:
            if preset["code"] not in (code, "lut"):
                others[preset["code"]] = png_bytes(_preset_pixels(shown, preset, invert))
    raw, offset, scale = raw_png(values, shown)
    return RenderedFrame(
        **common,
        window_center=chosen["center"],
        window_width=chosen["width"],
        preview=preview,
        thumbnail=thumbnail,
        invert=invert,
        presets=presets,
        default_code=code,
        renditions=others,
        raw=raw,
        raw_offset=offset,
        raw_scale=scale,
    )


def _decode_frame(path, ds, index: int | None) -> np.ndarray:
    from pydicom.pixels import pixel_array

    meta = getattr(ds, "file_meta", None)
    kwargs = {}
    if not (meta and meta.get("TransferSyntaxUID")):
        # A bare dataset without file meta (older CDs): say how it is encoded.
        import pydicom.uid

        implicit, little = getattr(ds, "original_encoding", (True, True))
        if not little:
            kwargs["transfer_syntax_uid"] = pydicom.uid.ExplicitVRBigEndian
        elif implicit:
            kwargs["transfer_syntax_uid"] = pydicom.uid.ImplicitVRLittleEndian
        else:
            kwargs["transfer_syntax_uid"] = pydicom.uid.ExplicitVRLittleEndian
    return pixel_array(path, index=index, **kwargs)


def _decoded(source, ds, info: DicomInfo, frame: int) -> np.ndarray:
    """One frame decoded from the file, checked against the header's shape."""
    arr = _decode_frame(source, ds, frame if info.frames > 1 else None)
    if arr.ndim == 3 and info.samples == 1:  # one frame asked; some plugins keep the axis
        arr = arr[0]
    _check_shape(arr, info)
    return arr


def render_file(path, ds=None, info: DicomInfo | None = None, *, renditions=False) -> RenderResult:
    """Previews of the frames of one DICOM file (a long clip or stack: an even sample).

    With `renditions`, each monochrome frame also carries a PNG per other window preset.
    Raises DicomError (with the reason) when nothing can be shown; a frame that fails
    after the first is counted in `skipped_frames`.
    """
    if ds is None or info is None:
        ds, info = read_header(path)
    indices = check_decodable(info)
    source = info.source if info.source is not None else path
    check_codestream_sizes(source, ds, info)
    result = RenderResult(info=info, sampled_from=info.frames if len(indices) < info.frames else 0)
    for position, frame in enumerate(indices):
        try:
            rendered = render_frame(
                _decoded(source, ds, info, frame), ds, info, frame, renditions=renditions
            )
        except DicomError:
            raise
        except MemoryError as exc:
            raise DicomError(_("the DICOM image is too large to preview.")) from exc
        except Exception as exc:
            logger.info("DICOM frame %s not decoded: %s", frame, exc)
            if position == 0:
                raise DicomError(
                    _(
                        "the DICOM image could not be decoded (damaged, incomplete or an "
                        "unsupported compression)."
                    )
                ) from exc
            result.skipped_frames += 1
            continue
        result.frames.append(rendered)
    return result


def render_windowed(source, frame: int, center: float, width: float, function="LINEAR") -> bytes:
    """A PNG of one monochrome frame in the given window, exactly as its rendition is made.

    `source` is a path or a binary file; the same caps apply as for processing, and the
    same modality values, geometry and MONOCHROME1 inversion as `render_frame`.
    """
    ds, info = read_header(source)
    check_decodable(info)
    if is_colour(info):
        raise DicomError(_("window presets apply to monochrome images only."))
    if not 0 <= frame < info.frames:
        raise DicomError(_("the DICOM file has no such frame."))
    if info.source is not None:
        source = info.source
    elif hasattr(source, "seek"):
        source.seek(0)
    check_codestream_sizes(source, ds, info)
    values = apply_modality(_decoded(source, ds, info, frame), ds, frame)
    shown = _resized_values(values, display_size(info.rows, info.columns, info.aspect))
    try:
        preset = {"center": float(center), "width": float(width), "function": function}
        image = _preset_pixels(shown, preset, info.photometric == "MONOCHROME1")
    except (TypeError, ValueError) as exc:
        raise DicomError(_("the window cannot be applied to this image.")) from exc
    return png_bytes(image)


def modality_choice(modality: str) -> str:
    """The booking's scan_modality for a DICOM Modality ('' when it has no match)."""
    return {"CT": "ct", "MR": "mr", "CR": "xray", "DX": "xray", "DR": "xray"}.get(
        (modality or "").upper(), ""
    )
