"""What a file is, judged by its content, and whether it is safe to keep.

Pure checks on a file on disk, used when a file arrives (booking/uploads.py) and
again for each member of a zipped CD when it is processed (booking/imaging/). The
name and the browser's content type are never trusted.

Each check raises ValueError whose message is a Note (booking/imaging/notes.py): the
English text and its parameters, put into words in the active language by str().
The upload form shows str(exc) to the patient at once; the imaging worker keeps the
Note as it is, so staff read it in their own language later.
"""

import logging
import posixpath
import re
import time
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext

from booking import safezip
from booking.imaging.notes import note as _

logger = logging.getLogger(__name__)

HEADER_BYTES = 512

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def clean_original_name(name: str) -> str:
    """The file's own name for display: no path parts, no control characters, ≤ 255 chars."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _WINDOWS_DRIVE.sub("", name)
    # Control, format (e.g. right-to-left override), surrogate and unassigned characters.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if not name:
        name = gettext("unnamed file")  # a name, not a reason: plain text
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and 0 < len(ext) <= 10
        name = f"{stem[: 254 - len(ext)]}.{ext}" if keep_ext else name[:255]
    return name


# --- Content sniffing ------------------------------------------------------------

# Value representations of DICOM's explicit-VR encoding.
_DICOM_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
    b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
}  # fmt: skip
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

EXTENSIONS = {
    "dicom": ".dcm",
    "zip": ".zip",
    "jpeg": ".jpg",
    "png": ".png",
    "heic": ".heic",
    "pdf": ".pdf",
}


def _looks_like_bare_dicom(head: bytes, size: int) -> bool:
    """A DICOM file without the 128-byte preamble (common on CDs): its first element
    is a little-endian tag of group 0x0002 (file meta) or 0x0008 (identifying)."""
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    element = int.from_bytes(head[2:4], "little")
    if group not in (0x0002, 0x0008) or element > 0x1FFF:
        return False
    if head[4:6] in _DICOM_VRS:  # explicit VR
        return True
    length = int.from_bytes(head[4:8], "little")  # implicit VR: a 32-bit length
    return length == 0xFFFFFFFF or 8 + length <= size


def sniff_kind(head: bytes, size: int) -> str | None:
    """The Upload.Kind of a file from its first bytes, or None when not allowed."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "heic"
    if _looks_like_bare_dicom(head, size):
        return "dicom"
    return None


# --- Files of a CD that are not needed -----------------------------------------------

# What left_out_as() answers.
VIEWER_PROGRAM = "viewer"
SYSTEM_FILE = "system"

# A hospital CD carries, beside the images, a viewer program so that it opens on any
# computer: Windows programs and libraries, autorun and settings files, a web viewer
# (HTML, scripts, styles, fonts), Java archives, installers, a Mac .app folder's parts.
_VIEWER_EXTENSIONS = {
    # programs, libraries, installers
    "exe", "dll", "ocx", "sys", "drv", "cpl", "scr", "com", "bat", "cmd", "vbs", "ps1",
    "sh", "msi", "msp", "mst", "cab", "jar", "class", "dylib", "so", "dmg", "pdb", "tlb",
    # setup and settings
    "inf", "ini", "cfg", "conf", "config", "manifest", "reg", "lic", "xml", "xsl",
    "xslt", "xsd", "dtd", "json", "lng",
    # a web viewer
    "html", "htm", "xhtml", "js", "mjs", "css", "map", "swf", "svg", "woff", "woff2",
    "ttf", "otf", "eot",
    # help, icons, resources; the parts of a Mac .app folder
    "chm", "hlp", "pak", "ico", "cur", "ani", "icns", "nib", "strings", "plist", "car",
}  # fmt: skip
_VIEWER_NAMES = {"pkginfo", "coderesources", "autorun"}  # Mac .app parts without extension
# The viewer's own documents (a PDF manual is kept: a PDF may be the report).
_VIEWER_DOCUMENT_STEMS = {
    "readme", "read_me", "read me", "license", "licence", "eula", "copying", "notice",
    "notices", "changelog", "version", "third_party_notices", "thirdpartynotices",
}  # fmt: skip
_VIEWER_DOCUMENT_EXTENSIONS = {"txt", "rtf"}
# Archives that hold programs, never scans: a zip named so is the viewer, not a zipped CD.
_PROGRAM_ARCHIVES = {"jar", "war", "ear", "apk", "xpi"}
# Files a computer adds to folders by itself (Windows, macOS) and a CD's lock file.
_SYSTEM_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", "lockfile"}
# Programs by content: Windows (MZ), Linux (ELF), Mac (Mach-O, 32/64-bit, either
# byte order, and universal), Java classes, Windows cabinets.
_PROGRAM_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"MSCF",
)


def left_out_as(name: str, head: bytes, kind: str | None) -> str | None:
    """Whether a file may be left out quietly, and why: VIEWER_PROGRAM, SYSTEM_FILE or None.

    Patients choose a CD's whole folder; its viewer program is no image and needs no
    refusal line each (the upload says once that it was left out). Content decides
    first: anything sniff_kind accepts (`kind`) is kept whatever its name, except a
    Java archive (a zip by content). Otherwise a program is known by its first bytes
    (MZ for .exe and .dll, ELF, Mach-O), the rest of the viewer by its name. Anything
    else (a Word file, a TIFF, a video) is refused as before: the patient may have
    meant to send it. `name` is the file's name as sent; a folder part is ignored.
    """
    # The name as sent: clean_original_name() drops the leading dot of ".DS_Store".
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    if kind is not None:
        return VIEWER_PROGRAM if kind == "zip" and extension in _PROGRAM_ARCHIVES else None
    if base in _SYSTEM_NAMES or base.startswith("._"):  # "._x": macOS's AppleDouble files
        return SYSTEM_FILE
    if head.startswith(_PROGRAM_MAGIC):
        return VIEWER_PROGRAM
    if extension in _VIEWER_EXTENSIONS or base in _VIEWER_NAMES:
        return VIEWER_PROGRAM
    if extension in _VIEWER_DOCUMENT_EXTENSIONS and stem in _VIEWER_DOCUMENT_STEMS:
        return VIEWER_PROGRAM
    return None


# --- Checks by kind ---------------------------------------------------------------


@dataclass
class ZipSummary:
    entries: int = 0
    total_bytes: int = 0
    nested_archives: list[str] = field(default_factory=list)


NESTED_ARCHIVE = re.compile(r"\.(zip|7z|rar|tar|tgz|gz|bz2|xz|iso)$", re.IGNORECASE)


def _unsafe_member(name: str) -> bool:
    path = name.replace("\\", "/")
    if path.startswith("/") or _WINDOWS_DRIVE.match(path) or "\x00" in path:
        return True
    normal = posixpath.normpath(path)
    return normal == ".." or normal.startswith("../")


def check_zip(path: Path) -> ZipSummary:
    """Read the central directory and local headers (nothing is unpacked); refuse unsafe zips.

    Raises ValueError with the patient-facing reason.
    """
    summary = ZipSummary()
    compressed = 0
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        logger.info("zip refused as damaged: %s", exc)
        raise ValueError(_("the zip file is damaged or incomplete.")) from exc
    if len(infos) > settings.ZIP_MAX_ENTRIES:
        raise ValueError(
            _("the zip file holds more than %(count)d files.") % {"count": settings.ZIP_MAX_ENTRIES}
        )
    for info in infos:
        if _unsafe_member(info.filename):
            raise ValueError(_("the zip file holds a path that points outside its folder."))
        if info.flag_bits & 0x1:
            raise ValueError(_("the zip file is protected by a password."))
        if info.is_dir():
            continue
        if info.compress_type not in safezip.SUPPORTED_METHODS:
            raise ValueError(_("the zip file uses a compression that is not supported."))
        summary.entries += 1
        summary.total_bytes += info.file_size
        compressed += info.compress_size
        if NESTED_ARCHIVE.search(info.filename):
            summary.nested_archives.append(info.filename)
    if summary.total_bytes > settings.ZIP_MAX_TOTAL_BYTES:
        raise ValueError(
            _("unpacked, the zip file would take more than %(size)s.")
            % {"size": size_text(settings.ZIP_MAX_TOTAL_BYTES)}
        )
    # Judged by bytes, not by the ratio alone: a flat-colour screenshot of a few MB
    # squeezes 170:1 and is harmless; only a squeeze that also unpacks to more than
    # ZIP_RATIO_MIN_BYTES is refused.
    if summary.total_bytes > safezip.ratio_limit(compressed):
        raise ValueError(
            _("the zip file unpacks to far more than its own size, which scan images never do.")
        )
    # The sizes above are the index's word; overlapping entries (one member's bytes
    # listed many times) are refused here, and while unpacking no member gives more
    # than its entry declares (booking/safezip.py), so the bytes written stay within
    # what was judged here.
    safezip.check_layout(path)
    return summary


def size_text(size: int) -> str:
    """A size in whole units ("4 GB", "1536 MB", "1000 B"), the same in every language.

    A Note keeps its parameters as they are and is shown later, perhaps in another
    language: filesizeformat's "4,0 GB" (Danish) would then appear on an English page.
    """
    for unit, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor and (size % factor == 0 or size >= 10 * factor):
            return f"{round(size / factor)} {unit}"
    return f"{size} B"


def check_image(path: Path, kind: str) -> None:
    """Cheap integrity check of a JPEG/PNG (truncated or garbage data → ValueError).

    PNG: Pillow's verify() reads every chunk and checks its CRC. JPEG: decoded at
    1/8 scale (draft mode), which reads all the data but uses little memory for a
    baseline JPEG. A progressive JPEG is different: the decoder keeps every DCT
    coefficient of the whole image (2 bytes per sample), so one above
    UPLOAD_IMAGE_CHECK_BYTES is only checked from its header here and decoded by
    the imaging worker, inside its limits (booking/imaging/sandbox.py).
    Image.MAX_IMAGE_PIXELS stays on: a decompression bomb raises too.
    """
    from PIL import Image

    damaged = _("the image is damaged or incomplete.")
    try:
        with Image.open(path) as image:
            expected = {"jpeg": "JPEG", "png": "PNG"}[kind]
            if image.format != expected:
                raise ValueError(damaged)
            if kind == "png":
                image.verify()
            elif progressive_decode_bytes(image) > settings.UPLOAD_IMAGE_CHECK_BYTES:
                return  # the worker decodes it, inside its limits
            else:
                image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except ValueError:
        raise
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, bombs...)
        logger.info("image refused as damaged: %s", exc)
        raise ValueError(damaged) from exc


def progressive_decode_bytes(image) -> int:
    """Memory a progressive JPEG's decoder holds for its coefficients (0 for baseline)."""
    if not (image.info.get("progressive") or image.info.get("progression")):
        return 0
    return image.width * image.height * len(image.getbands()) * 2


def check_pdf(path: Path, size: int) -> None:
    """The upload's cheap check: the end-of-file marker in the last 2 KB (nothing is parsed)."""
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 2048))
        tail = handle.read(2048)
    if b"%%EOF" not in tail:
        raise ValueError(_("the PDF file is damaged or incomplete."))


# A form or image drawn by name ("/Fm0 Do"), a pattern used as a colour ("/P0 scn").
_PDF_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do\b")
_PDF_PATTERN = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*(?:scn|SCN)\b")


class _PdfCost:
    """The first page's drawing cost, with nested forms expanded as a renderer would.

    A form drawn twice costs twice: a few KB of forms drawing each other ten times,
    ten levels deep, is billions of operations for a renderer, and is caught here
    by arithmetic (each form's cost is remembered) before anything is drawn.
    """

    def __init__(self, *, max_bytes: int, max_image_pixels: int, deadline: float):
        self.max_bytes = max_bytes
        self.max_image_pixels = max_image_pixels
        self.deadline = deadline
        self.known: dict[tuple[int, int], int] = {}

    def too_complex(self):
        return ValueError(_("the PDF is too complex to preview safely."))

    def content(self, data: bytes, resources, stack: frozenset) -> int:
        if time.monotonic() > self.deadline:
            raise self.too_complex()
        total = len(data)
        for regex, kind in ((_PDF_DO, "/XObject"), (_PDF_PATTERN, "/Pattern")):
            names = regex.findall(data)
            if not names:
                continue
            table = _pdf_dict(resources.get(kind) if resources else None)
            for name in names:
                total += self.named(table, "/" + name.decode("latin-1"), resources, stack)
                if total > self.max_bytes:
                    raise self.too_complex()
        if total > self.max_bytes:
            raise self.too_complex()
        return total

    def named(self, table, name: str, resources, stack: frozenset) -> int:
        if table is None or name not in table:
            return 0
        reference = table.raw_get(name) if hasattr(table, "raw_get") else table[name]
        key = (reference.idnum, reference.generation) if hasattr(reference, "idnum") else None
        if key is not None:
            if key in stack:
                raise self.too_complex()  # a form that draws itself
            if key in self.known:
                return self.known[key]
        target = reference.get_object()
        cost = 0
        if target.get("/Subtype") == "/Image":
            pixels = _pdf_int(target.get("/Width")) * _pdf_int(target.get("/Height"))
            if pixels > self.max_image_pixels:
                raise self.too_complex()
            cost = 64
        elif hasattr(target, "get_data"):  # a form, or a tiling pattern's own drawing
            inner = _pdf_dict(target.get("/Resources")) or resources
            inner_stack = stack | {key} if key is not None else stack
            cost = self.content(target.get_data(), inner, inner_stack)
        if key is not None:
            self.known[key] = cost
        return cost


def _pdf_dict(value):
    if value is None:
        return None
    value = value.get_object()
    return value if hasattr(value, "raw_get") else None


def _pdf_streams(value) -> list:
    """A page's /Contents as its streams (one, or an array), never parsed into operators."""
    if value is None:
        return []
    value = value.get_object()
    if hasattr(value, "get_data"):
        return [value]
    if isinstance(value, list):
        return [item.get_object() for item in value if hasattr(item.get_object(), "get_data")]
    return []


def _pdf_int(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def check_pdf_complexity(path) -> int:
    """Refuse, before rendering, a PDF that would take too long or too much memory to draw.

    Reads the document's structure with pypdf (pure Python, nothing run or drawn),
    every decompression capped at PDF_MAX_CONTENT_BYTES: at most PDF_MAX_PAGES
    pages; the first page's content streams, its annotations' appearances and
    every form and pattern they draw, counted each time drawn, at most
    PDF_MAX_CONTENT_BYTES; no image over PDF_MAX_IMAGE_PIXELS; all within
    PDF_MAX_SECONDS. Returns the first page's drawing cost; raises ValueError with
    the reason.
    """
    from pypdf import PdfReader, apply_configuration

    max_bytes = int(settings.PDF_MAX_CONTENT_BYTES)
    cost = _PdfCost(
        max_bytes=max_bytes,
        max_image_pixels=int(settings.PDF_MAX_IMAGE_PIXELS),
        deadline=time.monotonic() + float(settings.PDF_MAX_SECONDS),
    )
    stream_cap = max_bytes + 1
    limits = {
        "zlib_maximum_output_length": stream_cap,
        "lzw_maximum_output_length": stream_cap,
        "run_length_maximum_output_length": stream_cap,
        "array_based_stream_maximum_output_length": stream_cap,
        "jbig2_maximum_output_length": stream_cap,
    }
    try:
        with apply_configuration(**limits), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(str(path), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return 0  # the renderer cannot open it either, and says so
            pages = len(reader.pages)
            if pages > settings.PDF_MAX_PAGES:
                raise ValueError(
                    _("the PDF has more than %(count)d pages.") % {"count": settings.PDF_MAX_PAGES}
                )
            if pages == 0:
                return 0
            page = reader.pages[0]
            resources = _pdf_dict(page.get("/Resources"))
            total = 0
            for stream in _pdf_streams(page.get("/Contents")):
                total += cost.content(stream.get_data(), resources, frozenset())
                if total > max_bytes:
                    raise cost.too_complex()
            for annotation in page.get("/Annots") or []:
                appearance = _pdf_dict(_pdf_dict(annotation.get_object()).get("/AP"))
                normal = appearance.get("/N") if appearance else None
                if normal is not None and hasattr(normal.get_object(), "get_data"):
                    total += cost.named({"/N": normal}, "/N", resources, frozenset())
                    if total > max_bytes:
                        raise cost.too_complex()
    except ValueError:
        raise
    except RecursionError as exc:
        raise cost.too_complex() from exc
    except Exception as exc:  # pypdf raises many kinds, LimitReachedError included
        if type(exc).__name__ == "LimitReachedError":
            raise cost.too_complex() from exc
        logger.info("PDF structure unreadable: %s", exc)
        raise ValueError(_("the PDF could not be opened (damaged or password-protected).")) from exc
    return total
