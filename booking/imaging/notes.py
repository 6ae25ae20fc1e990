"""Processing notes stored as their English text and parameters, translated when shown.

The imaging worker writes what it refused and why. Staff read it in their own
language, which is not the worker's, so a note is kept as the untranslated message
(its msgid, which is the code) with its parameters and the file's path, and turned
into words only when a page shows it:

    from booking.imaging.notes import note as _

    raise DicomError(_("the DICOM image is too large (%(rows)d x %(columns)d).") % {...})

`note(...)` is named `_` where it is used so that makemessages extracts the text as
usual; `%` keeps the parameters instead of formatting at once. `str(n)` formats it
in the active language; `n.data()` is what the database keeps.
"""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext


class Note:
    """One message: msgid, parameters and (optionally) the path of the file it is about."""

    __slots__ = ("msgid", "params", "name")

    def __init__(self, msgid: str, params: dict | None = None, name: str = ""):
        self.msgid = str(msgid)
        self.params = dict(params or {})
        self.name = name or ""

    def __mod__(self, params: dict) -> Note:
        return Note(self.msgid, {**self.params, **params}, self.name)

    def about(self, name: str) -> Note:
        """The same message about the file `name` (a path inside the CD, or a file name)."""
        return Note(self.msgid, self.params, name)

    def text(self) -> str:
        """The message in the active language, without the file's name.

        A date parameter is written in the reader's own short date format.
        """
        message = gettext(self.msgid)
        if self.params:
            params = {
                key: date_format(value, "SHORT_DATE_FORMAT") if isinstance(value, date) else value
                for key, value in self.params.items()
            }
            try:
                return message % params
            except (KeyError, TypeError, ValueError):
                # A translation that lost a placeholder: the English text still works.
                return self.msgid % params
        return message

    def __str__(self) -> str:
        text = self.text()
        return f"{self.name}: {text}" if self.name else text

    def __repr__(self) -> str:
        return f"Note({self.msgid!r}, {self.params!r}, {self.name!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Note) and self.data() == other.data()

    def __hash__(self) -> int:
        return hash((self.msgid, tuple(sorted(self.params.items())), self.name))

    def data(self) -> dict:
        """What the database keeps (JSON): {"msg": ..., "args": {...}, "name": ...}."""
        item = {"msg": self.msgid}
        if self.params:
            item["args"] = {key: _plain(value) for key, value in self.params.items()}
        if self.name:
            item["name"] = self.name
        return item

    @classmethod
    def from_data(cls, item) -> Note:
        if isinstance(item, str):
            return cls(item)
        args = {
            key: cls.from_data(value) if isinstance(value, dict) and "msg" in value else value
            for key, value in (item.get("args") or {}).items()
        }
        return cls(item.get("msg", ""), args, item.get("name", ""))


def _plain(value):
    """A parameter as JSON; a Note inside a note stays a note (translated when shown)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Note):
        return value.data()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def note(msgid: str) -> Note:
    """A message to translate when shown (import it as `_`)."""
    return Note(msgid)


def as_note(reason, name: str = "") -> Note:
    """A Note from whatever a check raised: a Note, a lazy gettext text, an exception, a str.

    A lazy text (gettext_lazy) keeps its msgid; an already formatted text is kept as
    it is (it is shown untranslated if it is not a msgid itself).
    """
    if isinstance(reason, BaseException):
        reason = getattr(reason, "reason", None) or (reason.args[0] if reason.args else "")
    if isinstance(reason, Note):
        found = reason
    elif isinstance(reason, Promise) and getattr(reason, "_args", None):
        found = Note(reason._args[0])
    else:
        found = Note(str(reason))
    return found.about(name) if name else found
