"""`manage.py translations --check` catches incomplete, lazy and stale translations."""

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
