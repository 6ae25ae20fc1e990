"""Reading DICOM images safely and rendering them as 8-bit previews.

Pure functions (no models, no database): booking/imaging/processing.py decides what to read
and where the results go; this module reads one file and turns its frames into
PNG previews and WebP thumbnails.

Safety: the caller has already sniffed the content (booking.filetypes.sniff_kind)
before `read_header` calls ``dcmread(force=True)``; the header is read with the
large elements deferred, and the size of what would be decoded
(rows x columns x samples x frames, and its bytes) is checked against
settings.DICOM_MAX_PIXELS *before* any pixel data is decoded. Frames are decoded
one at a time from the file (pydicom.pixels.pixel_array with an index), so memory
stays at about one frame whatever the file's length.

The header is not believed either: a deflated file (Deflated Explicit VR Little
Endian) is inflated here in chunks within DICOM_MAX_INFLATED_BYTES before pydicom
sees it (pydicom would inflate it whole, with no limit); a JPEG 2000 codestream's
own size (its SIZ marker) must be Rows x Columns before it is decoded; and every
decoded frame must have exactly the header's shape.

Pixel pipeline per frame: modality LUT (Rescale Slope/Intercept or a Modality LUT,
from the functional groups of enhanced images when present), then the window
(Window Center/Width from the frame's or shared functional groups or the top
level, or a VOI LUT), else a 0.5-99.5 percentile stretch; MONOCHROME1 inverted;
colour converted to RGB (YBR by pydicom's convert_color_space while decoding,
PALETTE COLOR through its LUT).
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
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 50_000_000  # values decoded per file (rows x columns x samples x frames)
DEFAULT_MAX_FRAMES = 300  # frames of one multi-frame file that get a preview
PREVIEW_SIZE = 1024  # long side of a preview, pixels
THUMBNAIL_SIZE = 160
PERCENTILES = (0.5, 99.5)
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
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

# Standard CT window presets (Hounsfield units), as data for the viewer.
WINDOW_PRESETS = [
    {"key": "soft_tissue", "label": _("Soft tissue"), "center": 40, "width": 400},
    {"key": "bone", "label": _("Bone"), "center": 400, "width": 1800},
    {"key": "lung", "label": _("Lung"), "center": -600, "width": 1500},
    {"key": "brain", "label": _("Brain"), "center": 40, "width": 80},
    {"key": "spine", "label": _("Spine (soft tissue)"), "center": 50, "width": 250},
]


def max_pixels() -> int:
    return int(getattr(settings, "DICOM_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def max_frames() -> int:
    return int(getattr(settings, "DICOM_MAX_FRAMES", DEFAULT_MAX_FRAMES))


def max_inflated_bytes() -> int:
    return int(getattr(settings, "DICOM_MAX_INFLATED_BYTES", DEFAULT_MAX_INFLATED_BYTES))


class DicomError(Exception):
    """This file cannot be used; `reason` says why (for staff)."""

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
    # What the pixels are read from when not the file itself: the inflated copy of a
    # deflated file (an in-memory or unnamed temporary file, gone when released).
    source: object = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        # Sent between processes (the processing's child reports to its parent):
        # the inflated copy stays behind with the process that reads the pixels.
        return {**self.__dict__, "source": None}


@dataclass
class RenderedFrame:
    frame: int
    rows: int
    columns: int
    window_center: float | None
    window_width: float | None
    preview: bytes  # PNG
    thumbnail: bytes  # WebP
    preview_format: str = "png"
    thumbnail_format: str = "webp"


@dataclass
class RenderResult:
    info: DicomInfo
    frames: list[RenderedFrame] = field(default_factory=list)
    skipped_frames: int = 0


# --- Header ---------------------------------------------------------------------


def _text(ds, keyword: str, limit: int) -> str:
    try:
        value = ds.get(keyword)
    except Exception:
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = "\\".join(str(v) for v in value)
    text = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return text[:limit]


def _int(ds, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        return int(value)
    except Exception:
        return None


def parse_da(value) -> date | None:
    """A DICOM DA (YYYYMMDD, or the old YYYY.MM.DD) as a date; None when unusable."""
    text = str(value or "").strip().replace(".", "").replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


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
    sop_class = str(
        ds.get("SOPClassUID", "") or (meta.get("MediaStorageSOPClassUID", "") if meta else "")
    )
    info = DicomInfo(
        is_dicomdir=sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds,
        has_pixels=any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")),
        study_uid=_text(ds, "StudyInstanceUID", 64),
        series_uid=_text(ds, "SeriesInstanceUID", 64),
        sop_uid=_text(ds, "SOPInstanceUID", 64),
        study_date=parse_da(ds.get("StudyDate"))
        or parse_da(ds.get("SeriesDate"))
        or parse_da(ds.get("AcquisitionDate")),
        modality=_text(ds, "Modality", 16).upper(),
        body_part=_text(ds, "BodyPartExamined", 64),
        study_description=_text(ds, "StudyDescription", 200),
        series_description=_text(ds, "SeriesDescription", 200),
        series_number=_int(ds, "SeriesNumber"),
        instance_number=_int(ds, "InstanceNumber"),
        rows=_int(ds, "Rows") or 0,
        columns=_int(ds, "Columns") or 0,
        frames=max(1, _int(ds, "NumberOfFrames") or 1),
        samples=_int(ds, "SamplesPerPixel") or 1,
        bits_allocated=_int(ds, "BitsAllocated") or 0,
        photometric=_text(ds, "PhotometricInterpretation", 20).upper(),
        transfer_syntax=DEFLATED_SYNTAX
        if source is not None
        else (str(meta.get("TransferSyntaxUID", "")) if meta else ""),
        source=source,
    )
    return ds, info


def check_decodable(info: DicomInfo) -> int:
    """Refuse, from the header alone, what must not be decoded; returns the frames to render."""
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
    frames = min(info.frames, max_frames())
    limit = max_pixels()
    values = info.rows * info.columns * info.samples * frames
    per_frame_bytes = info.rows * info.columns * info.samples * max(1, info.bits_allocated // 8)
    if values > limit or per_frame_bytes * frames > limit * 4:
        raise DicomError(
            _(
                "the DICOM image is too large to preview "
                "(%(rows)d x %(columns)d, %(frames)d frames)."
            )
            % {"rows": info.rows, "columns": info.columns, "frames": info.frames}
        )
    return frames


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
    exactly Rows x Columns; its pixels count against DICOM_MAX_PIXELS too.
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
            if rows * columns * components > max_pixels():
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
    if value is None:
        return None
    try:
        if isinstance(value, str | bytes):
            return float(value)
        if hasattr(value, "__len__"):
            return float(value[0]) if len(value) else None
        return float(value)
    except (TypeError, ValueError):
        return None


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
    return _group_item(ds, "PerFrameFunctionalGroupsSequence", frame, inner) or _group_item(
        ds, "SharedFunctionalGroupsSequence", None, inner
    )


def rescale_for(ds, frame: int) -> tuple[float, float] | None:
    """(slope, intercept) from the functional groups, else the top level; None when absent."""
    item = _functional(ds, frame, "PixelValueTransformationSequence")
    for source in (item, ds):
        if source is None:
            continue
        slope, intercept = (
            _first(source.get("RescaleSlope")),
            _first(source.get("RescaleIntercept")),
        )
        if slope is not None or intercept is not None:
            slope = 1.0 if slope is None or slope == 0 or not math.isfinite(slope) else slope
            intercept = 0.0 if intercept is None or not math.isfinite(intercept) else intercept
            return slope, intercept
    return None


def window_for(ds, frame: int) -> tuple[float, float] | None:
    """(center, width) from the frame's VOI functional group, the shared one, or the top level."""
    item = _functional(ds, frame, "FrameVOILUTSequence")
    for source in (item, ds):
        if source is None:
            continue
        center, width = _first(source.get("WindowCenter")), _first(source.get("WindowWidth"))
        if (
            center is not None
            and width is not None
            and math.isfinite(center)
            and math.isfinite(width)
            and width >= 1
        ):
            return center, width
    return None


def apply_modality(arr: np.ndarray, ds, frame: int) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        try:
            return apply_modality_lut(arr, ds).astype(np.float32, copy=False)
        except Exception as exc:
            logger.info("modality LUT ignored: %s", exc)
    rescale = rescale_for(ds, frame)
    out = arr.astype(np.float32)
    if rescale is not None:
        slope, intercept = rescale
        if slope != 1.0:
            out *= np.float32(slope)
        if intercept != 0.0:
            out += np.float32(intercept)
    return out


def percentile_window(values: np.ndarray) -> tuple[float, float]:
    """(center, width) stretching the 0.5-99.5 percentiles (a sample of big images)."""
    flat = values.ravel()
    if flat.size > 1_000_000:
        flat = flat[:: flat.size // 1_000_000 + 1]
    finite = flat[np.isfinite(flat)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, PERCENTILES)
    if high <= low:
        low, high = float(finite.min()), float(finite.max())
    width = max(float(high - low), 1.0)
    return float(low) + width / 2, width


def window_to_8bit(values: np.ndarray, center: float, width: float) -> np.ndarray:
    low = center - width / 2
    scaled = (values - np.float32(low)) * np.float32(255.0 / width)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def render_gray(arr: np.ndarray, ds, frame: int, photometric: str):
    """One monochrome frame → (uint8 array, center, width) in modality units."""
    values = apply_modality(arr, ds, frame)
    window = window_for(ds, frame)
    if window is None and "VOILUTSequence" in ds:
        try:
            from pydicom.pixels import apply_voi_lut

            values = apply_voi_lut(values, ds).astype(np.float32, copy=False)
        except Exception as exc:
            logger.info("VOI LUT ignored: %s", exc)
    center, width = window if window is not None else percentile_window(values)
    image = window_to_8bit(values, center, width)
    if photometric == "MONOCHROME1":
        np.subtract(255, image, out=image)
    return image, center, width


def render_colour(arr: np.ndarray, ds, photometric: str) -> np.ndarray:
    """One colour frame → uint8 RGB. pixel_array already converted YBR to RGB."""
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise DicomError(_("the DICOM colour image could not be converted."))
    if arr.dtype == np.uint8:
        return arr
    top = float(arr.max()) or 1.0
    return (arr.astype(np.float32) * np.float32(255.0 / top)).clip(0, 255).astype(np.uint8)


# --- Images -----------------------------------------------------------------------


def encode_previews(image: Image.Image) -> tuple[bytes, bytes]:
    """(PNG preview ≤ 1024 px, WebP thumbnail ≤ 160 px), no metadata."""
    preview = image.copy()
    if max(preview.size) > PREVIEW_SIZE:
        preview.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    preview.save(out, "PNG", compress_level=3)
    thumb = preview.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    small = io.BytesIO()
    thumb.save(small, "WEBP", quality=80)
    return out.getvalue(), small.getvalue()


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


def render_file(path, ds=None, info: DicomInfo | None = None) -> RenderResult:
    """Previews of the frames of one DICOM file (at most DICOM_MAX_FRAMES).

    Raises DicomError (with the reason) when nothing can be shown; a frame that
    fails after the first is counted in `skipped_frames`.
    """
    if ds is None or info is None:
        ds, info = read_header(path)
    frames = check_decodable(info)
    source = info.source if info.source is not None else path
    check_codestream_sizes(source, ds, info)
    result = RenderResult(info=info, skipped_frames=info.frames - frames)
    photometric = info.photometric or ("RGB" if info.samples == 3 else "MONOCHROME2")
    for frame in range(frames):
        try:
            arr = _decode_frame(source, ds, frame if info.frames > 1 else None)
            if arr.ndim == 3 and info.samples == 1:  # one frame asked; some plugins keep the axis
                arr = arr[0]
            _check_shape(arr, info)
            if info.samples == 1 and photometric != "PALETTE COLOR":
                gray, center, width = render_gray(arr, ds, frame, photometric)
                image = Image.fromarray(gray, "L")
            else:
                rgb = render_colour(arr, ds, photometric)
                image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
                center = width = None
            preview, thumbnail = encode_previews(image)
        except DicomError:
            raise
        except MemoryError as exc:
            raise DicomError(_("the DICOM image is too large to preview.")) from exc
        except Exception as exc:
            logger.info("DICOM frame %s not decoded: %s", frame, exc)
            if frame == 0:
                raise DicomError(
                    _(
                        "the DICOM image could not be decoded (damaged, incomplete or an "
                        "unsupported compression)."
                    )
                ) from exc
            result.skipped_frames += 1
            continue
        result.frames.append(
            RenderedFrame(
                frame=frame,
                rows=info.rows,
                columns=info.columns,
                window_center=center,
                window_width=width,
                preview=preview,
                thumbnail=thumbnail,
            )
        )
    return result


def render_windowed(source, frame: int, center: float, width: float) -> bytes:
    """A PNG preview of one monochrome frame in the given window (the viewer's presets).

    `source` is a path or a binary file; the same caps apply as for processing.
    """
    ds, info = read_header(source)
    check_decodable(info)
    if info.samples != 1:
        raise DicomError(_("window presets apply to monochrome images only."))
    if info.source is not None:
        source = info.source
    elif hasattr(source, "seek"):
        source.seek(0)
    check_codestream_sizes(source, ds, info)
    arr = _decode_frame(source, ds, frame if info.frames > 1 else None)
    if arr.ndim == 3:
        arr = arr[0]
    _check_shape(arr, info)
    image = window_to_8bit(apply_modality(arr, ds, frame), center, width)
    if info.photometric == "MONOCHROME1":
        np.subtract(255, image, out=image)
    preview, _thumbnail = encode_previews(Image.fromarray(image, "L"))
    return preview


def modality_choice(modality: str) -> str:
    """The booking's scan_modality for a DICOM Modality ('' when it has no match)."""
    return {"CT": "ct", "MR": "mr", "CR": "xray", "DX": "xray", "DR": "xray"}.get(
        (modality or "").upper(), ""
    )
