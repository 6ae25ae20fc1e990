"""Radiology reports inside DICOM files: structured reports (SR) and encapsulated PDFs.

Pure functions (no models, no database). booking/imaging/processing.py sends an SR to
`read_sr`, which turns its content tree into readable lines (headings, text, codes,
measurements with units), and an Encapsulated PDF to `encapsulated_pdf`, whose bytes
then take the same safe path as any PDF report.

Both kinds of file come from outside, so neither is believed: the SR walk is capped in
items, depth and characters and skips an item it cannot read; the PDF's size is checked
from its element's length before the value is read.

What the lines keep is stored and shown later, possibly in another language. Lines of
kind "meta" (the document's flags and authors) and "reference" (an image or another
document the report points to) hold English msgids as label and value (marked with
gettext_noop): a page translates them when it shows them. Other lines hold the file's
own words.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_noop

from booking.imaging import identity
from booking.imaging.dicom import parse_da
from booking.imaging.notes import Note
from booking.imaging.notes import note as _

SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
MAX_LABEL = 200
UNDEFINED_LENGTH = 0xFFFFFFFF

# What an SR item that points elsewhere is shown as (kind "reference"); UIDREF included.
REFERENCES = {
    "IMAGE": gettext_noop("(image reference)"),
    "COMPOSITE": gettext_noop("(reference to another document)"),
    "WAVEFORM": gettext_noop("(waveform reference)"),
    "SCOORD": gettext_noop("(region in an image)"),
    "SCOORD3D": gettext_noop("(region in space)"),
    "TCOORD": gettext_noop("(points in time)"),
    "UIDREF": gettext_noop("(UID reference)"),
}
FLAGS = {
    "VERIFIED": gettext_noop("Verified"),
    "UNVERIFIED": gettext_noop("Not verified"),
    "COMPLETE": gettext_noop("Complete"),
    "PARTIAL": gettext_noop("Partial"),
}
LABEL_VERIFICATION = gettext_noop("Verification")
LABEL_COMPLETION = gettext_noop("Completion")
LABEL_VERIFIED_BY = gettext_noop("Verified by")
LABEL_AUTHOR = gettext_noop("Author")
LABEL_CONTENT_DATE = gettext_noop("Report date")


def is_sr(sop_class) -> bool:
    return str(sop_class or "").strip().startswith(SR_PREFIX)


def is_encapsulated_pdf(sop_class) -> bool:
    return str(sop_class or "").strip() == ENCAPSULATED_PDF


class ReportError(Exception):
    """This report cannot be used; `reason` (a Note) says why, for staff."""

    def __init__(self, reason: Note):
        self.reason = reason
        super().__init__(str(reason.msgid if isinstance(reason, Note) else reason))


# --- Text -----------------------------------------------------------------------------


class _Text:
    """Cleans the file's texts: control characters out, the charset fallback applied."""

    def __init__(self, ds):
        self.latin1 = identity.read_as_latin1(ds)

    def _decoded(self, value) -> str:
        if value is None:
            return ""
        text = str(value)
        return identity.redecode(text) if self.latin1 else text

    def line(self, value) -> str:
        """One line: whitespace collapsed, capped."""
        text = self._decoded(value)
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
        return " ".join(text.split())[:MAX_LABEL]

    def block(self, value) -> str:
        """A text that may have lines of its own (TextValue): its newlines are kept."""
        text = self._decoded(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        text = "".join(
            ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf")
        )
        lines = [" ".join(row.split()) for row in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    def meaning(self, item, sequence: str) -> str:
        """The CodeMeaning of the first item of a code sequence, or ""."""
        try:
            codes = item.get(sequence)
            return self.line(codes[0].get("CodeMeaning")) if codes else ""
        except Exception:
            return ""


# --- Values ---------------------------------------------------------------------------


def _unit(text: _Text, item) -> str:
    """A measurement's unit: the UCUM code itself ("mm", "cm2"), nothing for "1" or "{ratio}"."""
    try:
        units = item.get("MeasurementUnitsCodeSequence")
        if not units:
            return ""
        code = units[0]
        scheme = str(code.get("CodingSchemeDesignator") or "").strip().upper()
        value = text.line(code.get("CodeValue"))
        if scheme == "UCUM" and value:
            if value == "1" or re.fullmatch(r"\{[^{}]*\}", value):
                return ""
            return value
        return text.line(code.get("CodeMeaning")) or value
    except Exception:
        return ""


def _number(text: _Text, item) -> str:
    measured = item.get("MeasuredValueSequence")
    if measured:
        value = measured[0]
        number = text.line(value.get("NumericValue"))
        if not number:
            raise ValueError("NUM without a value")
        unit = _unit(text, value)
        return f"{number} {unit}" if unit else number
    # No value: the qualifier says why ("Not a number", "Value unknown").
    qualifier = text.meaning(item, "NumericValueQualifierCodeSequence")
    if not qualifier:
        raise ValueError("NUM without a value")
    return qualifier


def format_da(value) -> str:
    """A DICOM DA as "YYYY-MM-DD"; "" when unusable."""
    day = parse_da(value)
    return day.isoformat() if day else ""


def format_tm(value) -> str:
    """A DICOM TM (HHMMSS.FFFFFF, or the old HH:MM:SS) as "HH:MM" or "HH:MM:SS"; "" if unusable."""
    text = str(value or "").strip().replace(":", "").split(".", 1)[0]
    if not text.isdigit() or len(text) not in (2, 4, 6):
        return ""
    parts = [text[i : i + 2] for i in range(0, len(text), 2)]
    limits = (23, 59, 60)  # 60: a leap second
    if any(int(part) > limit for part, limit in zip(parts, limits, strict=False)):
        return ""
    if len(parts) == 1:
        parts.append("00")
    return ":".join(parts)


def format_dt(value) -> str:
    """A DICOM DT (YYYYMMDDHHMMSS.FFFFFF&ZZXX) as "YYYY-MM-DD HH:MM:SS +ZZ:XX"; "" when unusable."""
    text = str(value or "").strip()
    match = re.fullmatch(r"(\d{8})(\d{2,6})?(?:\.\d{1,6})?([+-]\d{4})?", text)
    if not match:
        return ""
    day = parse_da(match.group(1))
    if day is None:
        return ""
    out = day.isoformat()
    if match.group(2):
        time = format_tm(match.group(2))
        if not time:
            return ""
        out = f"{out} {time}"
    if match.group(3):
        offset = match.group(3)
        out = f"{out} {offset[:3]}:{offset[3:]}"
    return out


def _value(text: _Text, item, value_type: str) -> tuple[str, str]:
    """(kind, value) of one content item; ValueError when it cannot be read."""
    if value_type == "TEXT":
        value = text.block(item.get("TextValue"))
        if not value:
            raise ValueError("TEXT without text")
        return "text", value
    if value_type == "CODE":
        value = text.meaning(item, "ConceptCodeSequence")
        if not value:
            raise ValueError("CODE without a meaning")
        return "code", value
    if value_type == "NUM":
        return "num", _number(text, item)
    if value_type in ("DATE", "TIME", "DATETIME"):
        keyword, formatter = {
            "DATE": ("Date", format_da),
            "TIME": ("Time", format_tm),
            "DATETIME": ("DateTime", format_dt),
        }[value_type]
        raw = item.get(keyword)
        value = formatter(raw) or text.line(raw)
        if not value:
            raise ValueError(f"{value_type} without a value")
        return value_type.lower(), value
    if value_type == "PNAME":
        value = identity.format_pn(text._decoded(item.get("PersonName")))
        if not value:
            raise ValueError("PNAME without a name")
        return "pname", value
    if value_type in REFERENCES:
        return "reference", REFERENCES[value_type]
    raise ValueError(f"value type {value_type!r} not shown")


# --- Structured reports ---------------------------------------------------------------


def _meta_lines(text: _Text, ds) -> list[dict]:
    """The document's flags, authors and date, as lines of kind "meta"."""
    lines = []

    def add(label, value):
        if value:
            lines.append({"level": 0, "kind": "meta", "label": label, "value": value})

    for keyword, label in (
        ("CompletionFlag", LABEL_COMPLETION),
        ("VerificationFlag", LABEL_VERIFICATION),
    ):
        try:
            flag = text.line(ds.get(keyword)).upper()
        except Exception:
            continue
        add(label, FLAGS.get(flag, flag))
    try:
        for observer in ds.get("VerifyingObserverSequence") or []:
            name = identity.format_pn(text._decoded(observer.get("VerifyingObserverName")))
            when = format_dt(observer.get("VerificationDateTime"))
            add(LABEL_VERIFIED_BY, f"{name} ({when})" if name and when else name)
    except Exception:
        pass  # the flags and names are a courtesy: the content is what matters
    try:
        for author in ds.get("AuthorObserverSequence") or []:
            name = identity.format_pn(text._decoded(author.get("PersonName")))
            add(LABEL_AUTHOR, name or text.line(author.get("DeviceObserverName")))
    except Exception:
        pass
    try:
        day = parse_da(ds.get("ContentDate"))
        if day is not None:
            time = format_tm(ds.get("ContentTime"))
            add(LABEL_CONTENT_DATE, f"{day.isoformat()} {time}" if time else day.isoformat())
    except Exception:
        pass
    return lines


def _children(item) -> list:
    try:
        return list(item.get("ContentSequence") or [])
    except Exception:
        return []


def read_sr(ds, *, max_items: int = 2000, max_depth: int = 20, max_chars: int = 200_000) -> dict:
    """A structured report's content as readable lines.

    Returns {"title": str, "lines": [{"level", "kind", "label", "value"}, ...],
    "truncated": bool}. The title is the document's concept name. Lines come in
    document order: first the document's flags and authors (kind "meta"), then each
    content item at its depth (level 0 for the document's own items): CONTAINER as a
    "heading", TEXT as "text", CODE as "code", NUM as "num" ("12.5 mm"), DATE, TIME
    and DATETIME in ISO form, PNAME as a formatted name, and IMAGE, COMPOSITE,
    WAVEFORM, SCOORD, SCOORD3D, TCOORD and UIDREF as a short "reference" line. An item
    that cannot be read is skipped (its children are still read); the walk stops at
    `max_items` items, `max_depth` levels or `max_chars` characters, with
    truncated=True. ReportError when the document holds no content at all.
    """
    try:
        text = _Text(ds)
        title = text.meaning(ds, "ConceptNameCodeSequence")
        lines = _meta_lines(text, ds)
        stack = [(item, 0) for item in reversed(_children(ds))]
    except Exception as exc:
        raise ReportError(_("the structured report could not be read.")) from exc
    truncated = False
    visited = 0
    chars = len(title)
    content = 0
    while stack:
        item, level = stack.pop()
        visited += 1
        if visited > max_items:
            truncated = True
            break
        line = None
        try:
            value_type = str(item.get("ValueType") or "").strip().upper()
            label = text.meaning(item, "ConceptNameCodeSequence")
            if value_type == "CONTAINER":
                line = {"level": level, "kind": "heading", "label": label, "value": ""}
            elif value_type:
                kind, value = _value(text, item, value_type)
                line = {"level": level, "kind": kind, "label": label, "value": value}
        except Exception:
            line = None  # malformed: skipped
        if line is not None:
            size = len(line["label"]) + len(line["value"])
            if chars + size > max_chars:
                room = max_chars - chars - len(line["label"])
                if room > 0 and line["value"]:
                    line["value"] = line["value"][:room]
                    lines.append(line)
                    content += 1
                truncated = True
                break
            chars += size
            lines.append(line)
            content += 1
        children = _children(item)
        if children:
            if level + 1 >= max_depth:
                truncated = True
                continue
            stack.extend((child, level + 1) for child in reversed(children))
    if not content and not truncated:
        raise ReportError(_("the structured report holds no readable content."))
    return {"title": title, "lines": lines, "truncated": truncated}


# --- Encapsulated PDF -----------------------------------------------------------------


def _too_large(max_bytes: int) -> ReportError:
    megabytes = max(1, -(-max_bytes // (1024 * 1024)))
    return ReportError(
        _("the PDF inside the DICOM file is larger than %(size)d MB (refused).")
        % {"size": megabytes}
    )


def encapsulated_pdf(ds, *, max_bytes: int) -> bytes:
    """The PDF inside an Encapsulated PDF DICOM file.

    The size is checked from the element's length before its value is read (a
    deferred element stays unread when it is too large). ReportError when the
    document is not a PDF, empty, or over `max_bytes`. The padding NUL bytes DICOM
    adds are removed.
    """
    from pydicom.dataelem import RawDataElement

    try:
        mime = str(ds.get("MIMETypeOfEncapsulatedDocument") or "").strip().lower()
    except Exception:
        mime = ""
    if mime and mime != "application/pdf":
        raise ReportError(
            _("the document inside the DICOM file is not a PDF (%(mime)s).")
            % {"mime": "".join(ch for ch in mime if ch.isprintable())[:64]}
        )
    empty = ReportError(_("the DICOM file holds no document."))
    try:
        element = ds.get_item("EncapsulatedDocument", keep_deferred=True)
    except Exception as exc:
        raise ReportError(_("the DICOM file's document could not be read.")) from exc
    if element is None:
        raise empty
    if isinstance(element, RawDataElement) and element.value is None:
        if element.length == UNDEFINED_LENGTH:
            raise ReportError(_("the DICOM file's document could not be read."))
        if element.length > max_bytes:
            raise _too_large(max_bytes)
        if element.length == 0:
            raise empty
    try:
        data = ds.get_item("EncapsulatedDocument").value
    except Exception as exc:
        raise ReportError(_("the DICOM file's document could not be read.")) from exc
    if not isinstance(data, bytes | bytearray) or not data:
        raise empty
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    data = bytes(data)
    try:
        stated = int(ds.get("EncapsulatedDocumentLength") or 0)
    except (TypeError, ValueError):
        stated = 0
    if 0 < stated <= len(data):
        data = data[:stated]
    data = data.rstrip(b"\0")
    if not data:
        raise empty
    if not data.startswith(b"%PDF"):
        raise ReportError(_("the document inside the DICOM file is not a PDF (damaged)."))
    return data


def report_title(ds) -> str:
    """An encapsulated document's title: DocumentTitle, else its concept name, else ""."""
    try:
        text = _Text(ds)
        return text.line(ds.get("DocumentTitle")) or text.meaning(ds, "ConceptNameCodeSequence")
    except Exception:
        return ""
