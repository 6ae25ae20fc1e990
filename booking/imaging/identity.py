"""Whose scan it is: the patient named in a DICOM header, and whether that is the booking's patient.

Pure functions (no models, no database). booking/imaging/processing.py reads the
identity of each study with `read_identity(ds)`; the study page compares it with the
booking's patient with `compare(...)` and shows "matches", "differs: check before
use" or "cannot tell".

Names are decoded here rather than by pydicom because pydicom guesses silently: a file
that states no SpecificCharacterSet is read as Latin-1 even when its bytes are UTF-8
("JÃ¸rgensen"). The rule here is stated instead, and the staff see a note when it was
used: with no usable character set, valid UTF-8 is read as UTF-8, anything else as
Latin-1 (ISO_IR 100).

The patient ID is read so that a doctor can see it, but it is never meant to be stored:
Danish patient IDs are often CPR numbers, which the product does not collect.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from booking.imaging.dicom import parse_da
from booking.imaging.notes import Note
from booking.imaging.notes import note as _

MAX_TEXT = 200  # characters kept of each text (the models' field length)
MAX_DEFERRED = 64 * 1024  # a name element larger than this is hostile, not read

MATCHES = "matches"
DIFFERS = "differs"
UNKNOWN = "unknown"

UTF8 = "ISO_IR 192"
LATIN1 = "ISO_IR 100"
ASCII = "ISO_IR 6"

# charset_note values: English msgids without parameters, so that the msgid alone can be
# stored and translated when shown (PatientIdentity.charset_message()).
NO_CHARSET_UTF8 = _("No character set stated; the names were read as UTF-8.")
NO_CHARSET_LATIN1 = _("No character set stated; the names were read as Latin-1.")
UNKNOWN_CHARSET_UTF8 = _("The stated character set is not known; the names were read as UTF-8.")
UNKNOWN_CHARSET_LATIN1 = _("The stated character set is not known; the names were read as Latin-1.")
MISFIT_CHARSET_UTF8 = _("The names do not fit the stated character set; they were read as UTF-8.")
MISFIT_CHARSET_LATIN1 = _(
    "The names do not fit the stated character set; they were read as Latin-1."
)
_CHARSET_NOTES = {
    ("none", UTF8): NO_CHARSET_UTF8,
    ("none", LATIN1): NO_CHARSET_LATIN1,
    ("unknown", UTF8): UNKNOWN_CHARSET_UTF8,
    ("unknown", LATIN1): UNKNOWN_CHARSET_LATIN1,
    ("misfit", UTF8): MISFIT_CHARSET_UTF8,
    ("misfit", LATIN1): MISFIT_CHARSET_LATIN1,
}

# Comparison reasons, for staff.
NAME_DIFFERS = _("The surname differs: %(file)s in the images, %(booking)s in the booking.")
BIRTH_DATE_DIFFERS = _(
    "The birth date differs: %(file)s in the images, %(booking)s in the booking."
)
NO_IDENTITY = _("The file states no patient name or birth date.")
NO_NAME_IN_FILE = _("The images state no patient name.")
NO_NAME_IN_BOOKING = _("The booking has no patient name.")
NO_BIRTH_DATE_IN_FILE = _("The images state no birth date.")
NO_BIRTH_DATE_IN_BOOKING = _("The booking has no birth date.")

# The fields read, and whether a field is a person name (its own delimiters).
_FIELDS = {
    "PatientName": True,
    "PatientID": False,
    "InstitutionName": False,
    "StudyDescription": False,
}


@dataclass
class PatientIdentity:
    """What a DICOM header says about the patient and the study (empty for photos and PDFs)."""

    name: str = ""  # "Family, Given Middle", for display
    family: str = ""
    given: str = ""
    birth_date: date | None = None
    sex: str = ""  # "F", "M", "O" or ""
    institution: str = ""
    patient_id: str = ""  # shown to doctors, never stored
    study_date: date | None = None
    study_description: str = ""
    charset: str = ""  # what the names were decoded with, e.g. "ISO_IR 100"
    charset_note: str = ""  # a msgid above, "" when the file stated a usable character set
    pn: str = ""  # the person name's group that was used, "^"-separated (format_pn reads it)
    charset_stated: str = ""  # SpecificCharacterSet as written in the file

    def is_empty(self) -> bool:
        return not self.name and self.birth_date is None

    def charset_message(self) -> Note | None:
        """The charset note as a Note to show, or None."""
        return Note(self.charset_note) if self.charset_note else None


@dataclass
class Comparison:
    """Is it the booking's patient? `state` is MATCHES, DIFFERS or UNKNOWN; `reasons` say why."""

    state: str
    reasons: list[Note] = field(default_factory=list)


# --- Text ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Control and format characters removed (a name must not reorder or hide text)."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    return " ".join(kept.split())[:MAX_TEXT]


def _first_value(text: str) -> str:
    return text.split("\\", 1)[0]


def _value_of(ds, keyword: str) -> bytes | str | None:
    """The element's undecoded bytes when pydicom has not decoded it yet, else its text.

    Never reads a deferred value larger than MAX_DEFERRED.
    """
    from pydicom.dataelem import RawDataElement
    from pydicom.valuerep import PersonName

    try:
        elem = ds.get_item(keyword, keep_deferred=True)
        if elem is None:
            return None
        if isinstance(elem, RawDataElement):
            if elem.value is not None:
                return bytes(elem.value)
            if not elem.length or elem.length > MAX_DEFERRED:
                return None
            elem = ds.get_item(keyword)  # the deferred value, read and decoded by pydicom
        value = elem.value
    except Exception:
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    if value is None:
        return None
    if isinstance(value, PersonName):
        original = value.original_string
        return bytes(original) if original is not None else str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value)


def _stated_terms(ds) -> list[str]:
    """SpecificCharacterSet's values, spelling mistakes corrected as pydicom does."""
    try:
        value = ds.get("SpecificCharacterSet")
    except Exception:
        return []
    if value is None:
        return []
    values = [value] if isinstance(value, str | bytes) else list(value)
    terms = []
    for term in values:
        term = (term.decode("ascii", "replace") if isinstance(term, bytes) else str(term)).strip()
        term = term.upper()
        if match := re.fullmatch(r"ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)", term):
            term = f"ISO 2022 IR {match.group(1)}"
        elif match := re.fullmatch(r"ISO[ _-]?IR[ _-]?(\d+)", term):
            term = f"ISO_IR {match.group(1)}"
        terms.append(term)
    if terms and not any(terms):
        return []
    return terms


def _python_encodings(terms: list[str]) -> list[str] | None:
    """Python codecs for the stated terms; None when one of them is not known."""
    from pydicom.charset import STAND_ALONE_ENCODINGS, python_encoding

    if any(term not in python_encoding for term in terms):
        return None
    if terms[0] in STAND_ALONE_ENCODINGS:
        terms = terms[:1]  # no code extensions with UTF-8 or GB18030
    else:
        terms = [terms[0]] + [t for t in terms[1:] if t not in STAND_ALONE_ENCODINGS]
    return [python_encoding[term] for term in terms]


def _decode_strict(raw: bytes, encodings: list[str], delimiters: set[int]) -> str:
    """pydicom's charset.decode_bytes, but raising where pydicom would warn and replace.

    Raises UnicodeError, LookupError or ValueError when the bytes do not fit.
    """
    from pydicom.charset import CODES_TO_ENCODINGS, ESC, default_encoding, handled_encodings

    if ESC not in raw:
        return raw.decode(encodings[0])
    parts = []
    for fragment in re.findall(rb"(^[^\x1b]+|\x1b[^\x1b]*)", raw):
        if not fragment.startswith(ESC):
            parts.append(fragment.decode(encodings[0]))
            continue
        length = 4 if fragment.startswith((b"\x1b$(", b"\x1b$)")) else 3
        encoding = CODES_TO_ENCODINGS.get(fragment[:length])
        if encoding is None or (encoding not in encodings and encoding != default_encoding):
            raise ValueError("escape sequence of a character set not stated")
        if encoding in handled_encodings:  # Python's codec reads the escape sequences itself
            parts.append(fragment.decode(encoding))
            continue
        body = fragment[length:]
        # A delimiter switches back to the first character set.
        index = next((i for i, byte in enumerate(body) if byte in delimiters), None)
        if index is None:
            parts.append(body.decode(encoding))
        else:
            parts.append(body[:index].decode(encoding) + body[index:].decode(encodings[0]))
    return "".join(parts)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_latin1(text: str) -> bool:
    return all(ord(ch) < 256 for ch in text)


def _fallback(values: dict[str, bytes | str | None], *, misfit: bool) -> tuple[dict[str, str], str]:
    """Decode without a usable stated character set: (texts, charset used).

    A text pydicom already decoded was decoded as Latin-1 (its default), which keeps
    every byte, so its bytes are recovered by encoding it as Latin-1 again. Plain
    ASCII needs no fallback, unless the stated character set did not fit it
    (`misfit`: escape sequences of a character set the file did not state).
    """
    raw = {}
    for key, value in values.items():
        if isinstance(value, str) and _is_latin1(value):
            value = value.encode("latin-1")
        # else: a text given as such (not read from bytes), kept as it is
        raw[key] = value
    wide = [
        value
        for value in raw.values()
        if isinstance(value, bytes) and (not value.isascii() or b"\x1b" in value)
    ]
    if not wide and not misfit:
        charset = ASCII
    elif wide and all(_is_utf8(value) for value in wide):
        charset = UTF8
    else:
        charset = LATIN1
    codec = "utf-8" if charset == UTF8 else "latin-1"
    texts = {
        key: value.decode(codec) if isinstance(value, bytes) else (value or "")
        for key, value in raw.items()
    }
    return texts, charset


def _decode_fields(ds) -> tuple[dict[str, str], str, str, str]:
    """(texts by keyword, charset used, charset note msgid, charset as stated)."""
    from pydicom.valuerep import PN_DELIMS, TEXT_VR_DELIMS

    values = {keyword: _value_of(ds, keyword) for keyword in _FIELDS}
    terms = _stated_terms(ds)
    stated = "\\".join(terms)
    default_only = all(term in ("", ASCII, "ISO 2022 IR 6") for term in terms)
    encodings = _python_encodings(terms) if terms and not default_only else None
    if encodings is not None:
        try:
            texts = {}
            for keyword, value in values.items():
                if isinstance(value, bytes):
                    delimiters = (
                        PN_DELIMS | {ord("="), ord("\\")} if _FIELDS[keyword] else TEXT_VR_DELIMS
                    )
                    texts[keyword] = _decode_strict(value, encodings, delimiters)
                else:
                    texts[keyword] = value or ""
            return texts, stated, "", stated
        except (UnicodeError, LookupError, ValueError):
            kind = "misfit"
    elif not terms:
        kind = "none"
    elif default_only:
        kind = "misfit"  # ASCII stated, yet the bytes say otherwise (checked below)
    else:
        kind = "unknown"
    texts, charset = _fallback(values, misfit=encodings is not None)
    if charset == ASCII:
        return texts, ASCII, "", stated
    return texts, charset, _CHARSET_NOTES[(kind, charset)].msgid, stated


def read_as_latin1(ds) -> bool:
    """Whether pydicom decodes this dataset's texts as Latin-1, for want of a usable charset.

    pydicom falls back to Latin-1 (silently, or with a warning) when the file states no
    character set, only the default ASCII one, or one it does not know.
    """
    terms = _stated_terms(ds)
    if not terms or all(term in ("", ASCII, "ISO 2022 IR 6") for term in terms):
        return True
    return _python_encodings(terms) is None


def redecode(text: str) -> str:
    """A text pydicom read as Latin-1, read as UTF-8 instead when its bytes are valid UTF-8.

    The same fallback as the names': valid UTF-8 is UTF-8, anything else Latin-1.
    """
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return text  # not read as Latin-1 after all
    if raw.isascii() or not _is_utf8(raw):
        return text
    return raw.decode("utf-8")


# --- Person names -------------------------------------------------------------------


def _pn_group(value) -> str:
    """The alphabetic group of a person name (else the first group that is not empty)."""
    text = _first_value(str(value or ""))
    for group in text.split("="):
        if group.replace("^", "").strip():
            return group
    return ""


def _components(group: str) -> list[str]:
    """family, given, middle, prefix, suffix (components after the fifth join the suffix)."""
    parts = [" ".join(_clean(part).split()) for part in group.split("^")]
    parts += [""] * (5 - len(parts))
    if len(parts) > 5:
        parts = parts[:4] + [" ".join(p for p in parts[4:] if p)]
    return parts


def split_pn(value) -> tuple[str, str, str]:
    """(family, given, the name as kept) of a DICOM person name, or of Study.patient_name.

    A name without "^" is one group of words: no family or given name, kept as written.
    """
    group = _pn_group(value)
    if "^" not in group:
        return "", "", _clean(group)
    parts = _components(group)
    return parts[0], parts[1], "^".join(parts).rstrip("^")[:MAX_TEXT]


def format_pn(value) -> str:
    """A DICOM person name ("Family^Given^Middle^Prefix^Suffix") for display.

    "Jørgensen^Åse^Marie" gives "Jørgensen, Åse Marie"; the family name keeps its case
    as written; empty parts are skipped; a prefix goes before the given name and a
    suffix after a comma ("Hansen, Dr. Peter, jr."). A name without "^" is one group
    of words and is shown as written. Of "alphabetic=ideographic=phonetic" the
    alphabetic group is used (the next one when it is empty). Accepts a str or a pydicom
    PersonName.
    """
    group = _pn_group(value)
    if "^" not in group:
        return _clean(group)
    family, given, middle, prefix, suffix = _components(group)
    first = " ".join(part for part in (prefix, given, middle) if part)
    name = f"{family}, {first}" if family and first else (family or first)
    if suffix:
        name = f"{name}, {suffix}" if name else suffix
    return name[:MAX_TEXT]


# --- Reading ------------------------------------------------------------------------


def _date(ds, *keywords: str) -> date | None:
    for keyword in keywords:
        try:
            found = parse_da(ds.get(keyword))
        except Exception:
            found = None
        if found is not None:
            return found
    return None


def read_identity(ds) -> PatientIdentity:
    """The patient and study as a DICOM dataset states them. Never raises.

    Works on a dataset read with deferred elements (booking.imaging.dicom.read_header):
    only the small identity elements are read.
    """
    try:
        texts, charset, charset_note, stated = _decode_fields(ds)
    except Exception:
        texts, charset, charset_note, stated = {}, "", "", ""
    family, given, pn = split_pn(texts.get("PatientName", ""))
    try:
        sex = str(ds.get("PatientSex") or "").strip().upper()
    except Exception:
        sex = ""
    return PatientIdentity(
        name=format_pn(pn),
        family=family,
        given=given,
        birth_date=_date(ds, "PatientBirthDate"),
        sex=sex if sex in ("F", "M", "O") else "",
        institution=_clean(_first_value(texts.get("InstitutionName", ""))),
        patient_id=_clean(_first_value(texts.get("PatientID", ""))),
        study_date=_date(ds, "StudyDate", "SeriesDate", "AcquisitionDate"),
        study_description=_clean(_first_value(texts.get("StudyDescription", ""))),
        charset=charset,
        charset_note=charset_note,
        pn=pn,
        charset_stated=stated[:64],
    )


# --- Comparing ----------------------------------------------------------------------

_NORDIC = {"æ": "ae", "ø": "oe", "å": "aa"}
# Letters that NFKD does not take apart.
_LETTERS = {"ß": "ss", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
# The German way of writing ä, ö, ü without them; ö is also how ø is often written abroad.
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue"}
# The ASCII way of old systems that drop the letters' marks: Jørgensen as JORGENSEN.
_BARE = {"æ": "ae", "ø": "o", "å": "a"}
_APOSTROPHES = "'\u2019\u2018`\u00b4"


def _fold_with(text: str, letters: dict[str, str]) -> str:
    text = unicodedata.normalize("NFC", str(text or "")).casefold()
    text = "".join(letters.get(ch) or _LETTERS.get(ch) or ch for ch in text)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = "".join(ch for ch in text if ch not in _APOSTROPHES)  # O'Brien = OBRIEN
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """A text for comparing names: lower case, æ→ae, ø→oe, å→aa, ß→ss, other marks removed.

    Punctuation and hyphens become spaces (apostrophes are dropped: "O'Brien" is
    "obrien"), whitespace is collapsed. "Åse Jørgensen-Müller" gives
    "aase joergensen muller": ü loses its mark like any other letter than æ, ø and å.
    """
    return _fold_with(text, _NORDIC)


# compare() accepts a surname when it agrees under any of these ways of writing it, so
# that "Müller" meets both "Muller" and "Mueller", and "Jørgensen" meets "Joergensen",
# "Jorgensen" and "Jörgensen". A name written in plain ASCII is the same in all three.
_FOLDINGS = (_NORDIC, {**_NORDIC, **_GERMAN}, _BARE)


def _names_agree(identity: PatientIdentity, booking_name: str, letters: dict) -> bool:
    booking = _fold_with(booking_name, letters).split()
    file_family = _fold_with(identity.family, letters).split()
    if file_family:
        return set(file_family) <= set(booking)
    # No family component: the file's name is one group of words in an unknown order.
    file_words = set(_fold_with(identity.name, letters).split())
    if "," in booking_name:
        surname = _fold_with(booking_name.split(",", 1)[0], letters).split()
    else:
        surname = booking[-1:]
    if not surname or not set(surname) <= file_words:
        return False
    # Neither side says which word is the surname: "Jensen Aase" must not meet
    # "Aase Hansen" through the given name, so one side's words must hold the other's.
    return file_words <= set(booking) or set(booking) <= file_words


def compare(identity: PatientIdentity, *, name: str, birth_date: date | None) -> Comparison:
    """Compare what the images say with the booking's patient (name and birth date).

    "matches" when the surname and the birth date agree; "differs" when the surname or
    the birth date is on both sides and disagrees; "unknown" otherwise (a side without
    a birth date, a file without a name, a photo or PDF). The booking's name may be
    written "Given Family", "Family, Given" or "Family Given".
    """
    if identity.is_empty():
        return Comparison(UNKNOWN, [NO_IDENTITY])
    file_has_name = bool(fold(identity.family) or fold(identity.name))
    booking_has_name = bool(fold(name or ""))
    differs: list[Note] = []
    missing: list[Note] = []

    name_agrees = None
    if not file_has_name:
        missing.append(NO_NAME_IN_FILE)
    elif not booking_has_name:
        missing.append(NO_NAME_IN_BOOKING)
    else:
        name_agrees = any(_names_agree(identity, name, letters) for letters in _FOLDINGS)
        if not name_agrees:
            differs.append(
                NAME_DIFFERS % {"file": identity.family or identity.name, "booking": name}
            )

    date_agrees = None
    if identity.birth_date is None:
        missing.append(NO_BIRTH_DATE_IN_FILE)
    elif birth_date is None:
        missing.append(NO_BIRTH_DATE_IN_BOOKING)
    else:
        date_agrees = identity.birth_date == birth_date
        if not date_agrees:
            differs.append(
                BIRTH_DATE_DIFFERS % {"file": identity.birth_date, "booking": birth_date}
            )

    if differs:
        return Comparison(DIFFERS, differs)
    if name_agrees and date_agrees:
        return Comparison(MATCHES, [])
    return Comparison(UNKNOWN, missing)
