"""`manage.py translations --check` catches incomplete, lazy and stale translations."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import CommandError, call_command

LOCALE = Path(__file__).resolve().parent.parent.parent / "locale"


@pytest.fixture
def locale(tmp_path, settings):
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE, copy)
    settings.LOCALE_PATHS = [copy]
    return copy


def edit_danish(locale: Path, msgid: str, msgstr: str) -> None:
    catalog = polib.pofile(str(locale / "da" / "LC_MESSAGES" / "django.po"))
    catalog.find(msgid).msgstr = msgstr
    catalog.save()


def test_the_committed_translations_are_complete_and_compiled(locale, capsys):
    call_command("translations", "--check")
    assert "complete and compiled" in capsys.readouterr().out


def test_a_translation_that_repeats_the_english_text_fails(locale):
    edit_danish(locale, "Back to top", "Back to top")
    call_command("translations")  # compiled, so only the repetition is wrong
    with pytest.raises(CommandError, match="'Back to top' only repeats the English text"):
        call_command("translations", "--check")


def test_an_untranslated_string_fails(locale):
    edit_danish(locale, "Back to top", "")
    with pytest.raises(CommandError, match="'Back to top' is not translated"):
        call_command("translations", "--check")


def test_a_stale_compiled_file_fails_until_it_is_compiled(locale):
    edit_danish(locale, "Back to top", "Op til toppen")
    with pytest.raises(CommandError, match="django.mo is out of date"):
        call_command("translations", "--check")
    call_command("translations")
    call_command("translations", "--check")


UPLOAD_ROUTES = {"booking/upload/", "booking/<str:token>/upload/"}
# deploy/nginx.conf lets only these paths take large bodies: "^/xx/.../(upload|billeder|bilder)/$".
LARGE_BODY_ENDING = re.compile(r"(^|/)(upload|billeder|bilder)/$")


@pytest.mark.parametrize("language", ["en", "da", "nb", "sv", "de"])
def test_every_translated_address_is_distinct_and_only_uploads_take_large_bodies(language):
    catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    routes = {
        entry.msgid: entry.msgstr or entry.msgid
        for entry in catalog
        if entry.msgctxt == "URL" and not entry.obsolete
    }
    assert routes, "the addresses are translated with the context 'URL'"
    taken = {}
    for msgid, route in routes.items():
        assert route not in taken, f"{msgid!r} and {taken.get(route)!r} share {route!r}"
        taken[route] = msgid
        assert bool(LARGE_BODY_ENDING.search(route)) == (msgid in UPLOAD_ROUTES), (msgid, route)
