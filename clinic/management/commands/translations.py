"""`manage.py translations`: compile and check the interface translations, without gettext.

- `translations` compiles every stale `.mo` from its `.po` (pure Python, polib),
  so a first run needs no gettext tools.
- `translations --check` fails when a `.po` misses a source string (when gettext's
  xgettext is installed), has an untranslated or fuzzy entry, has a translation
  that merely repeats the English text, or when a `.mo` is out of date.
- `translations --update` (for developers, needs gettext) collects new strings,
  fills English from the source text and compiles.
"""

import os
import shutil
import tempfile
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from clinic.i18n import site_languages

SOURCE_LANGUAGE = "en"
# Words that are rightly the same in English and another language (names, codes).
SAME_IN_EVERY_LANGUAGE = {"CVR", "OK", "DICOM", "PDF", "CT", "MR", "JPEG", "PNG", "HEIC"}
# Words that are spelled as in English in one language (Danish "menu", "link").
SAME_AS_ENGLISH = {"da": {"Menu", "Link"}}
MAKEMESSAGES_IGNORE = ["var/*", "tests/*", "docs/*", "bench/*", "node_modules/*"]


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def po_path(language: str) -> Path:
    return locale_dir() / language / "LC_MESSAGES" / "django.po"


def translations_of(catalog) -> dict:
    """(context, msgid) -> translation(s), for comparing a .po with its .mo."""
    result = {}
    for entry in catalog:
        if getattr(entry, "obsolete", False) or getattr(entry, "fuzzy", False) or not entry.msgid:
            continue
        if entry.msgid_plural:
            value = tuple(v for _k, v in sorted(entry.msgstr_plural.items()))
        else:
            value = entry.msgstr
        if value and all(value):
            result[(entry.msgctxt, entry.msgid)] = value
    return result


def problems_in(language: str, catalog) -> list[str]:
    problems = []
    for entry in catalog:
        if entry.obsolete:
            continue
        label = f"{language}: {entry.msgid!r}"
        if entry.fuzzy:
            problems.append(f"{label} is marked fuzzy")
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(texts):
            problems.append(f"{label} is not translated")
        elif (
            language != SOURCE_LANGUAGE
            and entry.msgid not in SAME_IN_EVERY_LANGUAGE
            and entry.msgid not in SAME_AS_ENGLISH.get(language, set())
            and (entry.msgstr == entry.msgid or (entry.msgid_plural and texts[0] == entry.msgid))
        ):
            problems.append(f"{label} only repeats the English text")
    return problems


def missing_source_strings(languages: list[str]) -> list[str]:
    """Strings in the code and templates that the .po files do not have yet.

    makemessages writes into the locale folder next to the files it scans, so it
    runs in a throw-away copy of the source tree: the real .po files are never
    touched by a check.
    """
    if not shutil.which("xgettext"):
        return []
    root = Path(settings.BASE_DIR)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(
            root,
            copy,
            ignore=shutil.ignore_patterns(
                ".*", "var", "node_modules", "static", "__pycache__", "*.mo", "*.png"
            ),
        )
        cwd = os.getcwd()
        os.chdir(copy)
        try:
            with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
                call_command(
                    "makemessages",
                    locale=languages,
                    ignore_patterns=MAKEMESSAGES_IGNORE,
                    no_obsolete=True,
                    verbosity=0,
                )
        finally:
            os.chdir(cwd)
        for language in languages:
            fresh_po = copy / "locale" / language / "LC_MESSAGES" / "django.po"
            fresh = {(e.msgctxt, e.msgid) for e in polib.pofile(str(fresh_po))}
            known = {
                (e.msgctxt, e.msgid) for e in polib.pofile(str(po_path(language))) if not e.obsolete
            }
            problems += [
                f"{language}: {msgid!r} is in the code but not in the .po file"
                for _ctx, msgid in sorted(fresh - known, key=str)
            ]
    return problems


class Command(BaseCommand):
    help = "Compile stale .mo files; --check verifies the translations, --update collects them."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")
        parser.add_argument("--update", action="store_true")

    def handle(self, *args, check=False, update=False, **options):
        if update:
            self.update()
        problems = []
        for language in site_languages():
            path = po_path(language)
            if not path.exists():
                problems.append(f"{language}: {path} is missing")
                continue
            catalog = polib.pofile(str(path))
            mo = path.with_suffix(".mo")
            up_to_date = mo.exists() and translations_of(polib.mofile(str(mo))) == translations_of(
                catalog
            )
            if check:
                problems += problems_in(language, catalog)
                if not up_to_date:
                    problems.append(
                        f"{language}: {mo.name} is out of date; run `manage.py translations`"
                    )
            elif not up_to_date:
                catalog.save_as_mofile(str(mo))
                self.stdout.write(f"Compiled {mo}")
        if check:
            problems += missing_source_strings(site_languages())
        if problems:
            raise CommandError("Translations are not complete:\n  " + "\n  ".join(problems))
        if check:
            self.stdout.write(self.style.SUCCESS("Translations are complete and compiled."))

    def update(self):
        if not shutil.which("xgettext"):
            raise CommandError("--update needs gettext (apt-get install gettext).")
        call_command(
            "makemessages",
            locale=site_languages(),
            ignore_patterns=MAKEMESSAGES_IGNORE,
            no_obsolete=True,
            verbosity=0,
        )
        catalog = polib.pofile(str(po_path(SOURCE_LANGUAGE)))
        for entry in catalog:
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
            else:
                entry.msgstr = entry.msgid
        catalog.save()
