"""Unpacking zipped CDs without trusting the zip: streams, byte budgets, one entry at a time.

Python's zipfile trusts the archive's index: a bzip2 or LZMA member is inflated in
one call with no output limit (a 1 KB member can become gigabytes before the first
read returns), and nothing stops many index entries from pointing at the same
bytes. Here zipfile only parses the central directory; each member is then read
from its own local header and decompressed in chunks with an explicit output
limit for every method (stored, deflate, bzip2, LZMA), so refusing a bomb costs
at most its budget plus one chunk.

Members are always addressed by their ZipInfo (their position in `infolist()`),
never by name: two entries may share a name. Every check raises ZipRefused (a
ValueError) whose message is a Note (booking/imaging/notes.py): str() gives the
reason in the active language, the imaging worker keeps its text and parameters.

A high compression ratio alone is no reason to refuse: a flat-colour screenshot of
a few MB squeezes 170:1. What is refused is a squeeze past ZIP_MAX_RATIO that also
unpacks to more than ZIP_RATIO_MIN_BYTES (ratio_limit), and anything past the
absolute caps (ZIP_MAX_TOTAL_BYTES, ZIP_MAX_MEMBER_BYTES), counted in bytes
actually produced.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zipfile
import zlib
from pathlib import Path

from django.conf import settings

from booking.imaging.notes import note as _

CHUNK = 256 * 1024  # bytes decompressed per step, and read per step
LZMA_MAX_DICTIONARY = 64 * 1024 * 1024  # what xz's strongest preset uses
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"
SUPPORTED_METHODS = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}


class ZipRefused(ValueError):
    """The zip, or one of its members, is not unpacked; str() is the reason."""


def max_member_bytes() -> int:
    return int(getattr(settings, "ZIP_MAX_MEMBER_BYTES", settings.UPLOAD_MAX_FILE_BYTES))


def ratio_limit(compressed: int) -> int:
    """The most bytes `compressed` bytes may unpack to, judged by the ratio.

    ZIP_MAX_RATIO times as many, but never less than ZIP_RATIO_MIN_BYTES: a bomb
    harms by the bytes it unpacks to, and below that floor the bytes are few
    whatever the ratio. Used for a whole zip (booking.filetypes.check_zip) and for
    each member while it is unpacked (extract_member).
    """
    return max(max(compressed, 1) * settings.ZIP_MAX_RATIO, settings.ZIP_RATIO_MIN_BYTES)


# --- The layout -------------------------------------------------------------------------


def _data_start(handle, info: zipfile.ZipInfo) -> int:
    """Offset of the member's compressed bytes, from its own local header."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise ZipRefused(_("the zip file is damaged or incomplete."))
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise ZipRefused(_("the zip file is damaged or incomplete."))
    name_length, extra_length = fields[9], fields[10]
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def member_ranges(archive: zipfile.ZipFile) -> list[tuple[int, int, zipfile.ZipInfo]]:
    """(start, end, info) of every entry's local header and data, in file order.

    Raises ZipRefused when two entries overlap (many index entries pointing at one
    member, or members sharing bytes) or an entry reaches into the index.
    """
    end_of_data = getattr(archive, "start_dir", None)
    ranges = []
    with _open_source(archive) as handle:
        if end_of_data is None:
            end_of_data = handle.seek(0, 2)
        for info in archive.infolist():
            start = info.header_offset
            data_start = _data_start(handle, info)
            ranges.append((start, data_start + info.compress_size, info))
    ranges.sort(key=lambda item: item[0])
    previous_end = 0
    for start, end, _info in ranges:
        if start < previous_end:
            raise ZipRefused(
                _("the zip file has entries that share the same data, which real CDs never do.")
            )
        if end > end_of_data:
            raise ZipRefused(_("the zip file is damaged or incomplete."))
        previous_end = end
    return ranges


def check_layout(path) -> None:
    """Refuse a zip whose entries overlap or reach past their data (reads local headers only)."""
    try:
        with zipfile.ZipFile(path) as archive:
            member_ranges(archive)
    except ZipRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ZipRefused(_("the zip file is damaged or incomplete.")) from exc


# --- Streaming one member -----------------------------------------------------------------


class _open_source:
    """The archive's bytes as a fresh handle (its own position, closed after use)."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.handle = None

    def __enter__(self):
        if self.archive.filename and Path(self.archive.filename).exists():
            self.handle = open(self.archive.filename, "rb")  # noqa: SIM115 - closed in __exit__
            return self.handle
        return self.archive.fp  # opened from a file object: share it (one reader at a time)

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()


class _Stored:
    eof = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return data

    def needs_input(self) -> bool:
        return True


class _Bounded:
    """One interface over zlib / bz2 / lzma: decompress(data, max_length) and a backlog."""

    def __init__(self, method: int, first: bytes):
        self.method = method
        self.pending = b""
        if method == zipfile.ZIP_DEFLATED:
            self.engine = zlib.decompressobj(-zlib.MAX_WBITS)
        elif method == zipfile.ZIP_BZIP2:
            self.engine = bz2.BZ2Decompressor()
        else:
            self.engine = _lzma_engine(first)

    @property
    def eof(self) -> bool:
        return self.engine.eof

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self.method == zipfile.ZIP_DEFLATED:
            out = self.engine.decompress(self.engine.unconsumed_tail + data, max_length)
            return out
        return self.engine.decompress(data, max_length)

    def needs_input(self) -> bool:
        if self.method == zipfile.ZIP_DEFLATED:
            return not self.engine.unconsumed_tail
        return self.engine.needs_input


def _lzma_engine(first: bytes):
    """Zip's LZMA: a 4-byte header (version, properties size), properties, raw LZMA1."""
    if len(first) < 4:
        raise ZipRefused(_("the file in the zip is damaged."))
    (props_size,) = struct.unpack("<H", first[2:4])
    props = first[4 : 4 + props_size]
    if len(props) != props_size or props_size < 5:
        raise ZipRefused(_("the file in the zip is damaged."))
    # The decoder allocates the dictionary the stream asks for (up to 4 GiB) at once.
    if struct.unpack("<L", props[1:5])[0] > LZMA_MAX_DICTIONARY:
        raise ZipRefused(_("the file in the zip uses a compression that is not supported."))
    try:
        lzma_filter = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # as zipfile does
    except lzma.LZMAError as exc:
        raise ZipRefused(_("the file in the zip is damaged.")) from exc
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma_filter])


def stream_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, write, *, limit: int) -> int:
    """Decompress one member chunk by chunk into `write(bytes)`; returns the bytes produced.

    Stops with ZipRefused as soon as the output passes what the entry declares or
    `limit`, whichever is smaller: at most `limit` bytes reach `write`. The CRC is
    checked at the end.
    """
    if info.flag_bits & 0x1:
        raise ZipRefused(_("the zip file is protected by a password."))
    if info.compress_type not in SUPPORTED_METHODS:
        raise ZipRefused(_("the file in the zip uses a compression that is not supported."))
    cap = min(info.file_size, limit)
    too_big = _("it unpacks to more than the zip file declares or allows.")
    if info.file_size > limit:
        raise ZipRefused(too_big)
    produced = 0
    crc = 0
    with _open_source(archive) as handle:
        start = _data_start(handle, info)
        handle.seek(start)
        left = info.compress_size
        first = handle.read(min(CHUNK, left))
        left -= len(first)
        if info.compress_type == zipfile.ZIP_LZMA:
            engine = _Bounded(info.compress_type, first)
            first = first[4 + struct.unpack("<H", first[2:4])[0] :]
        elif info.compress_type == zipfile.ZIP_STORED:
            engine = _Stored()
        else:
            engine = _Bounded(info.compress_type, first)
        data = first
        while True:
            # Ask for one byte more than allowed: getting it proves the member lies.
            room = min(CHUNK, cap - produced + 1)
            try:
                chunk = engine.decompress(data, room)
            except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
                raise ZipRefused(_("the file in the zip is damaged.")) from exc
            data = b""
            if chunk:
                if produced + len(chunk) > cap:
                    raise ZipRefused(too_big)
                produced += len(chunk)
                crc = zlib.crc32(chunk, crc)
                write(chunk)
            if engine.eof:
                break
            if engine.needs_input():
                if left > 0:
                    data = handle.read(min(CHUNK, left))
                    if not data:
                        raise ZipRefused(_("the file in the zip is damaged."))
                    left -= len(data)
                elif not chunk:
                    break  # input used up and nothing more held back: size and CRC decide
    if produced != info.file_size or crc != info.CRC:
        raise ZipRefused(_("the file in the zip is damaged."))
    return produced


def extract_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int
) -> int:
    """Unpack one member to `target` within its limits; returns the bytes written.

    The limit is the smallest of: what the entry declares, ZIP_MAX_MEMBER_BYTES,
    the remaining budget of the whole archive, and ratio_limit() of its compressed
    size (ZIP_MAX_RATIO times as many bytes, at least ZIP_RATIO_MIN_BYTES). It is
    enforced on the bytes produced, whatever the index says. `target` is removed
    when the member is refused.
    """
    limit = min(max_member_bytes(), budget, ratio_limit(info.compress_size))
    try:
        with open(target, "wb") as out:
            return stream_member(archive, info, out.write, limit=limit)
    except BaseException:
        Path(target).unlink(missing_ok=True)
        raise


def read_member(path, index: int, *, limit: int | None = None) -> bytes:
    """The bytes of the entry at `index` of infolist() (names can repeat), in memory.

    For small members only (e.g. one DICOM file of a CD); `limit` defaults to
    ZIP_MAX_MEMBER_BYTES.
    """
    parts: list[bytes] = []
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if not 0 <= index < len(infos):
                raise ZipRefused(_("the file in the zip is missing."))
            member_ranges(archive)
            stream_member(
                archive,
                infos[index],
                parts.append,
                limit=max_member_bytes() if limit is None else limit,
            )
    except ZipRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ZipRefused(_("the zip file is damaged or incomplete.")) from exc
    return b"".join(parts)


def read_named_member(path, name: str, *, limit: int | None = None) -> bytes:
    """The bytes of the one entry called `name`; ZipRefused when the name is missing or
    shared by several entries (which of them is meant cannot be known: use the index)."""
    try:
        with zipfile.ZipFile(path) as archive:
            matches = [i for i, info in enumerate(archive.infolist()) if info.filename == name]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ZipRefused(_("the zip file is damaged or incomplete.")) from exc
    if len(matches) != 1:
        raise ZipRefused(
            _("the file in the zip is missing.")
            if not matches
            else _("several files in the zip have this name.")
        )
    return read_member(path, matches[0], limit=limit)
