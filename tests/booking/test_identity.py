"""booking/imaging/identity.py: whose scan it is, read from DICOM headers and compared."""

import io
import pickle
from datetime import date
from pathlib import Path

import pydicom
import pytest
from django.utils import translation
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from booking.imaging import identity
from booking.imaging.dicom import read_header
from booking.imaging.identity import (
    DIFFERS,
    MATCHES,
    UNKNOWN,
    PatientIdentity,
    compare,
    fold,
    format_pn,
    read_identity,
)

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
CHARSET_FILES = Path(pydicom.__file__).parent / "data" / "charset_files"

# The fixtures are malformed on purpose (bad dates, unknown character sets, long values):
# pydicom warns about them while reading, as it should.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom")

PN, INSTITUTION, DESCRIPTION = 0x00100010, 0x00080080, 0x00081030


@pytest.fixture(autouse=True)
def in_english():
    """Notes are checked in English; the default language is Danish."""
    with translation.override("en"):
        yield


def dataset(charset=None, **tags) -> Dataset:
    """A small DICOM dataset; `charset` may be a str or a list (code extensions)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.Modality = "OT"
    if charset is not None:
        ds.SpecificCharacterSet = charset
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def with_bytes(ds: Dataset, *, name: bytes = b"", institution: bytes = b"", description=b""):
    """Set the text elements to exactly these bytes, whatever the character set says."""
    if name:
        ds.add(DataElement(PN, "PN", name))
    if institution:
        ds.add(DataElement(INSTITUTION, "LO", institution))
    if description:
        ds.add(DataElement(DESCRIPTION, "LO", description))
    return ds


def as_file(ds: Dataset, tmp_path) -> Path:
    path = tmp_path / f"{generate_uid()}.dcm"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    path.write_bytes(out.getvalue())
    return path


def reread(ds: Dataset, tmp_path):
    """The dataset as processing sees it: written to a file, read back by read_header."""
    header, _info = read_header(as_file(ds, tmp_path))
    return header


# --- Character sets ------------------------------------------------------------------


def test_latin1_file_with_nordic_letters_is_read_as_it_states(tmp_path):
    ds = dataset(
        "ISO_IR 100",
        PatientName="Jørgensen^Åse^Marie",
        InstitutionName="Århus Universitetshospital",
        StudyDescription="Røntgen knæ",
        PatientBirthDate="19580412",
        PatientSex="F",
        PatientID="120458-1234",
        StudyDate="20240315",
    )
    path = as_file(ds, tmp_path)
    assert b"J\xf8rgensen^\xc5se" in path.read_bytes()  # really Latin-1 on disk
    header, _info = read_header(path)

    found = read_identity(header)

    assert found.name == "Jørgensen, Åse Marie"
    assert (found.family, found.given) == ("Jørgensen", "Åse")
    assert found.pn == "Jørgensen^Åse^Marie"
    assert found.institution == "Århus Universitetshospital"
    assert found.study_description == "Røntgen knæ"
    assert found.birth_date == date(1958, 4, 12)
    assert found.sex == "F"
    assert found.patient_id == "120458-1234"
    assert found.study_date == date(2024, 3, 15)
    assert (found.charset, found.charset_note) == ("ISO_IR 100", "")
    assert found.charset_message() is None


def test_utf8_file_is_read_as_utf8(tmp_path):
    ds = dataset("ISO_IR 192", PatientName="Ærø^Øjvind", InstitutionName="Sønderborg Sygehus")
    path = as_file(ds, tmp_path)
    assert "Ærø".encode() in path.read_bytes()

    found = read_identity(read_header(path)[0])

    assert found.name == "Ærø, Øjvind"
    assert found.institution == "Sønderborg Sygehus"
    assert (found.charset, found.charset_note) == ("ISO_IR 192", "")


def test_no_charset_and_latin1_bytes_falls_back_to_latin1_with_a_note(tmp_path):
    ds = with_bytes(
        dataset(),
        name="Jørgensen^Åse".encode("latin-1"),
        institution="Århus".encode("latin-1"),
    )

    found = read_identity(reread(ds, tmp_path))

    assert found.name == "Jørgensen, Åse"
    assert found.institution == "Århus"
    assert found.charset == identity.LATIN1
    assert found.charset_note == identity.NO_CHARSET_LATIN1.msgid
    assert str(found.charset_message()) == (
        "No character set stated; the names were read as Latin-1."
    )


def test_no_charset_and_utf8_bytes_are_read_as_utf8_even_when_already_decoded(tmp_path):
    ds = with_bytes(
        dataset(),
        name="Jørgensen^Åse".encode(),
        description="Røntgen knæ".encode(),
    )
    header = reread(ds, tmp_path)
    # pydicom alone reads them as Latin-1; read_header has decoded the description that way.
    assert str(header.PatientName) == "JÃ¸rgensen^Ã\x85se"
    assert not isinstance(header.get_item(DESCRIPTION), RawDataElement)

    found = read_identity(header)

    assert found.name == "Jørgensen, Åse"
    assert found.study_description == "Røntgen knæ"
    assert found.charset == identity.UTF8
    assert found.charset_note == identity.NO_CHARSET_UTF8.msgid


def test_one_invalid_utf8_text_makes_every_text_latin1(tmp_path):
    # One file, one character set: the name's bytes are not UTF-8, so neither is the rest.
    ds = with_bytes(dataset(), name="Jørgensen^Åse".encode("latin-1"), institution=b"Arhus")
    found = read_identity(reread(ds, tmp_path))
    assert found.charset == identity.LATIN1
    assert found.name == "Jørgensen, Åse"


def test_no_charset_and_plain_ascii_needs_no_note(tmp_path):
    found = read_identity(reread(dataset(PatientName="Jensen^Aase"), tmp_path))
    assert found.name == "Jensen, Aase"
    assert (found.charset, found.charset_note) == (identity.ASCII, "")


@pytest.mark.parametrize(
    ("encoding", "charset", "note"),
    [
        ("latin-1", identity.LATIN1, identity.UNKNOWN_CHARSET_LATIN1),
        ("utf-8", identity.UTF8, identity.UNKNOWN_CHARSET_UTF8),
    ],
)
def test_unknown_charset_uses_the_fallback_and_says_so(tmp_path, encoding, charset, note):
    ds = with_bytes(dataset("ISO_IR 999"), name="Jørgensen^Åse".encode(encoding))

    found = read_identity(reread(ds, tmp_path))

    assert found.name == "Jørgensen, Åse"
    assert found.charset == charset
    assert found.charset_note == note.msgid
    assert found.charset_stated == "ISO_IR 999"


def test_stated_utf8_that_is_not_utf8_is_read_as_latin1_with_a_note(tmp_path):
    ds = with_bytes(dataset("ISO_IR 192"), name="Jørgensen^Åse".encode("latin-1"))
    found = read_identity(reread(ds, tmp_path))
    assert found.name == "Jørgensen, Åse"
    assert found.charset == identity.LATIN1
    assert found.charset_note == identity.MISFIT_CHARSET_LATIN1.msgid


def test_stated_ascii_with_utf8_bytes_is_read_as_utf8_with_a_note(tmp_path):
    ds = with_bytes(dataset("ISO_IR 6"), name="Jørgensen^Åse".encode())
    found = read_identity(reread(ds, tmp_path))
    assert found.name == "Jørgensen, Åse"
    assert found.charset == identity.UTF8
    assert found.charset_note == identity.MISFIT_CHARSET_UTF8.msgid


def test_misspelt_charset_is_understood_without_a_note(tmp_path):
    ds = with_bytes(dataset("ISO-IR 100"), name="Jørgensen^Åse".encode("latin-1"))
    found = read_identity(reread(ds, tmp_path))
    assert found.name == "Jørgensen, Åse"
    assert (found.charset, found.charset_note) == ("ISO_IR 100", "")


def test_iso_2022_escape_sequences_switch_to_latin1(tmp_path):
    # ESC - A designates the Latin-1 right half (ISO-IR 100) as G1.
    name = b"\x1b-AJ\xf8rgensen^\x1b-A\xc5se"
    ds = with_bytes(dataset("ISO 2022 IR 100"), name=name)

    found = read_identity(reread(ds, tmp_path))

    assert found.name == "Jørgensen, Åse"
    assert (found.charset, found.charset_note) == ("ISO 2022 IR 100", "")


def test_iso_2022_escape_to_a_charset_not_stated_is_a_misfit(tmp_path):
    # ESC $ B is Japanese (ISO-IR 87), which the file does not state.
    ds = with_bytes(dataset("ISO 2022 IR 100"), name=b"Jensen^\x1b$B$d$^\x1b(B")
    found = read_identity(reread(ds, tmp_path))
    assert found.charset == identity.UTF8  # the bytes are 7-bit, so valid UTF-8 too
    assert found.charset_note == identity.MISFIT_CHARSET_UTF8.msgid
    assert found.family == "Jensen"
    assert "\x1b" not in found.name  # the escape character is a control character


def test_japanese_file_with_three_groups_uses_the_alphabetic_one():
    path = CHARSET_FILES / "chrH31.dcm"  # pydicom's bundled copy of the PS3.5 example
    if not path.exists():
        pytest.skip("pydicom's bundled charset file chrH31.dcm is missing")
    header, _info = read_header(path)
    found = read_identity(header)
    assert found.name == "Yamada, Tarou"
    assert found.charset == "\\ISO 2022 IR 87"
    assert found.charset_note == ""


def test_ideographic_group_is_used_when_the_alphabetic_one_is_empty(tmp_path):
    ds = with_bytes(dataset("ISO_IR 192"), name="=山田^太郎=やまだ^たろう".encode())
    found = read_identity(reread(ds, tmp_path))
    assert found.name == "山田, 太郎"


# --- Fields --------------------------------------------------------------------------


def test_missing_elements_give_an_empty_identity(tmp_path):
    found = read_identity(reread(dataset(), tmp_path))
    assert found == PatientIdentity(charset=identity.ASCII)
    assert found.is_empty()


def test_unusable_values_are_dropped(tmp_path):
    ds = dataset(PatientName="Jensen^Aase", PatientBirthDate="19581", PatientSex="X")
    found = read_identity(reread(ds, tmp_path))
    assert found.birth_date is None
    assert found.sex == ""
    assert not found.is_empty()  # a name without a birth date is still someone


@pytest.mark.parametrize(("written", "read"), [("f", "F"), (" M", "M"), ("O", "O"), ("U", "")])
def test_sex_is_f_m_or_o(tmp_path, written, read):
    ds = with_bytes(dataset(), name=b"Jensen^Aase")
    ds.add(DataElement(0x00100040, "CS", written.encode()))
    assert read_identity(reread(ds, tmp_path)).sex == read


def test_birth_date_in_the_old_dotted_form(tmp_path):
    ds = with_bytes(dataset(), name=b"Jensen^Aase")
    ds.add(DataElement(0x00100030, "DA", b"1958.04.12"))
    assert read_identity(reread(ds, tmp_path)).birth_date == date(1958, 4, 12)


def test_control_and_direction_characters_are_removed_and_texts_capped(tmp_path):
    ds = with_bytes(
        dataset("ISO_IR 192"),
        name="Jen\x07sen\u202e^Aa\tse".encode(),
        institution=("Å" * 300).encode(),
    )
    found = read_identity(reread(ds, tmp_path))
    assert found.name == "Jensen, Aa se"
    assert found.institution == "Å" * 200


def test_dataset_that_cannot_be_read_gives_an_empty_identity():
    class Broken(Dataset):
        def get_item(self, *args, **kwargs):
            raise ValueError("damaged")

        def get(self, *args, **kwargs):
            raise ValueError("damaged")

    found = read_identity(Broken())
    assert found.is_empty()
    assert found.name == ""


def test_deferred_read_leaves_large_elements_unread(tmp_path):
    ds = dataset("ISO_IR 100", PatientName="Jørgensen^Åse", PatientBirthDate="19580412")
    ds.add(DataElement(0x00091010, "OB", b"\0" * 40_000))  # deferred by read_header
    header, _info = read_header(as_file(ds, tmp_path))

    found = read_identity(header)

    assert found.name == "Jørgensen, Åse"
    assert found.birth_date == date(1958, 4, 12)
    assert header.get_item(0x00091010, keep_deferred=True).value is None


def test_a_name_too_large_to_be_one_is_not_read(tmp_path):
    # Implicit VR: a length of four bytes, so the element can be larger than 64 KB.
    ds = with_bytes(dataset(), name=b"A" * (identity.MAX_DEFERRED + 2))
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.PatientBirthDate = "19580412"
    header, _info = read_header(as_file(ds, tmp_path))

    found = read_identity(header)

    assert found.name == ""
    assert found.birth_date == date(1958, 4, 12)
    assert header.get_item(PN, keep_deferred=True).value is None


def test_a_long_name_deferred_by_the_header_read_is_still_read(tmp_path):
    ds = with_bytes(dataset(), name=b"Jensen^" + b"A" * 20_000)
    header, _info = read_header(as_file(ds, tmp_path))
    assert header.get_item(PN, keep_deferred=True).value is None  # deferred (over 16 KB)

    found = read_identity(header)

    assert found.family == "Jensen"
    assert found.given == "A" * identity.MAX_TEXT


def test_stated_ascii_with_plain_ascii_needs_no_note(tmp_path):
    found = read_identity(reread(dataset("ISO_IR 6", PatientName="Jensen^Aase"), tmp_path))
    assert found.name == "Jensen, Aase"
    assert (found.charset, found.charset_note) == (identity.ASCII, "")


def test_identity_survives_pickling(tmp_path):
    found = read_identity(reread(dataset("ISO_IR 100", PatientName="Jørgensen^Åse"), tmp_path))
    assert pickle.loads(pickle.dumps(found)) == found


def test_redecode_repairs_only_utf8_read_as_latin1():
    assert identity.redecode("RÃ¸ntgen") == "Røntgen"
    assert identity.redecode("Røntgen") == "Røntgen"  # Latin-1 bytes, not UTF-8: kept
    assert identity.redecode("Ωmega") == "Ωmega"  # not from Latin-1 at all


# --- format_pn -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Jørgensen^Åse^Marie", "Jørgensen, Åse Marie"),
        ("JØRGENSEN^Åse", "JØRGENSEN, Åse"),  # the family name keeps its case
        ("Jensen^^^Dr.^jr.", "Jensen, Dr., jr."),
        ("Hansen^Peter^^Dr.^MD", "Hansen, Dr. Peter, MD"),
        ("Jensen", "Jensen"),
        ("Jensen^", "Jensen"),
        ("^Aase", "Aase"),
        ("^^^^MD", "MD"),
        ("Aase  Marie Jensen", "Aase Marie Jensen"),  # one group of words, as written
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou"),
        ("Jensen^Aase^^^jr.^extra", "Jensen, Aase, jr. extra"),
        ("Jensen^Aase\\Hansen^Peter", "Jensen, Aase"),  # several values: the first
        ("", ""),
        (None, ""),
    ],
)
def test_format_pn(value, shown):
    assert format_pn(value) == shown


def test_format_pn_accepts_a_person_name():
    name = pydicom.valuerep.PersonName("Jørgensen^Åse")
    assert format_pn(name) == "Jørgensen, Åse"


# --- fold ----------------------------------------------------------------------------


def test_fold_transliterates_nordic_letters_and_removes_marks():
    assert (
        fold("Åse Jørgensen-Müller") == fold("aase joergensen muller") == ("aase joergensen muller")
    )
    assert fold("ÆBLE Øster Ågård") == "aeble oester aagaard"
    assert fold("Straße") == "strasse"
    assert fold("Zoë Núñez") == "zoe nunez"
    assert fold("  Jensen,\tAase.  ") == "jensen aase"
    assert fold("O'Brien") == fold("OBRIEN") == "obrien"
    assert fold("") == ""


# --- compare -------------------------------------------------------------------------

BORN = date(1958, 4, 12)


def person(pn: str, birth_date=BORN) -> PatientIdentity:
    """An identity as read_identity builds it from a person name."""
    ds = dataset("ISO_IR 192", PatientName=pn)
    if birth_date:
        ds.PatientBirthDate = birth_date.strftime("%Y%m%d")
    return read_identity(ds)


@pytest.mark.parametrize(
    ("pn", "booking_name"),
    [
        ("Jørgensen^Åse", "Åse Jørgensen"),  # Given Family
        ("Jørgensen^Åse", "Jørgensen, Åse"),  # Family, Given
        ("Jørgensen^Åse", "Jørgensen Åse"),  # Family Given
        ("JOERGENSEN^AASE", "Åse Jørgensen"),  # transliterated in the file
        ("Jørgensen^Åse", "Aase Joergensen"),  # transliterated in the booking
        ("JORGENSEN^ASE", "Åse Jørgensen"),  # marks dropped by an old system
        ("Jörgensen^Åse", "Åse Jørgensen"),  # ø written as ö
        ("Jørgensen^Åse^Marie", "Åse Marie Jørgensen"),
        ("Jørgensen^Åse", "Åse Marie Jørgensen"),  # a middle name only in the booking
        ("Jørgensen-Müller^Åse", "Åse Jørgensen-Müller"),
        ("Jørgensen-Müller^Åse", "Aase Joergensen Muller"),  # ü as u
        ("Jørgensen-Müller^Åse", "Aase Joergensen Mueller"),  # ü as ue
        ("MUELLER^HANS", "Hans Müller"),
        ("JOERGENSEN MUELLER^AASE", "Åse Jørgensen-Müller"),
        ("Åse Jørgensen", "Åse Jørgensen"),  # no "^": one group of words
        ("Jørgensen Åse", "Åse Jørgensen"),
        ("Åse Jørgensen", "Jørgensen, Åse"),
        ("Åse Jørgensen", "Jørgensen Åse"),
        ("AASE MARIE JOERGENSEN", "Åse Jørgensen"),
    ],
)
def test_same_surname_and_birth_date_match(pn, booking_name):
    result = compare(person(pn), name=booking_name, birth_date=BORN)
    assert result.state == MATCHES, result.reasons
    assert result.reasons == []


@pytest.mark.parametrize(
    ("pn", "booking_name"),
    [
        ("Hansen^Åse", "Åse Jørgensen"),
        ("Jørgensen-Müller^Åse", "Åse Jørgensen"),  # a surname word the booking lacks
        ("Muller^Hans", "Hans Mueller"),  # both plain ASCII: different names
        ("Åse Hansen", "Åse Jørgensen"),  # no "^": the booking's last word is missing
        ("Åse Hansen", "Jørgensen, Åse"),  # the words before the comma are missing
        ("Åse Hansen", "Jørgensen Åse"),  # the given name alone does not make a match
        ("^Åse", "Åse Jørgensen"),  # a file naming only the given name
    ],
)
def test_different_surname_differs(pn, booking_name):
    result = compare(person(pn), name=booking_name, birth_date=BORN)
    assert result.state == DIFFERS
    assert [reason.msgid for reason in result.reasons] == [identity.NAME_DIFFERS.msgid]
    assert result.reasons[0].params["booking"] == booking_name


def test_birth_date_one_day_off_differs():
    result = compare(person("Jørgensen^Åse"), name="Åse Jørgensen", birth_date=date(1958, 4, 13))
    assert result.state == DIFFERS
    (reason,) = result.reasons
    assert reason.msgid == identity.BIRTH_DATE_DIFFERS.msgid
    assert reason.params == {"file": date(1958, 4, 12), "booking": date(1958, 4, 13)}
    with translation.override("en"):
        assert str(reason) == (
            "The birth date differs: 12/04/1958 in the images, 13/04/1958 in the booking."
        )
    with translation.override("da"):
        assert "12.04.1958" in str(reason) and "13.04.1958" in str(reason)
    assert reason.data()["args"] == {"file": "1958-04-12", "booking": "1958-04-13"}


def test_both_differing_are_both_reported():
    result = compare(person("Hansen^Peter"), name="Åse Jørgensen", birth_date=date(1990, 1, 1))
    assert result.state == DIFFERS
    assert [r.msgid for r in result.reasons] == [
        identity.NAME_DIFFERS.msgid,
        identity.BIRTH_DATE_DIFFERS.msgid,
    ]


def test_no_birth_date_in_the_booking_cannot_tell():
    result = compare(person("Jørgensen^Åse"), name="Åse Jørgensen", birth_date=None)
    assert result.state == UNKNOWN
    assert result.reasons == [identity.NO_BIRTH_DATE_IN_BOOKING]


def test_no_birth_date_in_the_file_cannot_tell():
    result = compare(person("Jørgensen^Åse", None), name="Åse Jørgensen", birth_date=BORN)
    assert result.state == UNKNOWN
    assert result.reasons == [identity.NO_BIRTH_DATE_IN_FILE]


def test_no_birth_date_anywhere_but_a_different_name_differs():
    result = compare(person("Hansen^Åse", None), name="Åse Jørgensen", birth_date=None)
    assert result.state == DIFFERS
    assert [r.msgid for r in result.reasons] == [identity.NAME_DIFFERS.msgid]


def test_no_name_in_the_file_cannot_tell_even_with_the_same_birth_date():
    found = PatientIdentity(birth_date=BORN)
    result = compare(found, name="Åse Jørgensen", birth_date=BORN)
    assert result.state == UNKNOWN
    assert result.reasons == [identity.NO_NAME_IN_FILE]


def test_no_name_in_the_file_and_a_different_birth_date_differs():
    found = PatientIdentity(birth_date=BORN)
    result = compare(found, name="Åse Jørgensen", birth_date=date(1960, 1, 1))
    assert result.state == DIFFERS


def test_no_name_in_the_booking_cannot_tell():
    result = compare(person("Jørgensen^Åse"), name="", birth_date=BORN)
    assert result.state == UNKNOWN
    assert result.reasons == [identity.NO_NAME_IN_BOOKING]


def test_photo_or_pdf_without_identity_cannot_tell():
    result = compare(PatientIdentity(), name="Åse Jørgensen", birth_date=BORN)
    assert result.state == UNKNOWN
    assert result.reasons == [identity.NO_IDENTITY]
