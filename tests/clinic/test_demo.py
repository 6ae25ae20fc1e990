"""`manage.py load_demo` makes a made-up clinic and can be run again safely."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from clinic.models import ClinicDetails, ConsentText, Page, Practitioner, TrustMark

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (ClinicDetails, TrustMark, Practitioner, Page, ConsentText)]


def test_load_demo_is_idempotent(capsys):
    call_command("load_demo")
    first = counts()
    stamp = ClinicDetails.load().updated_at
    call_command("load_demo")
    assert counts() == first == [1, 2, 1, 3, 2]
    assert ClinicDetails.load().updated_at == stamp, "a second run changes nothing"


def test_demo_accounts_are_made_only_in_debug(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("load_demo")
    assert "editor" not in capsys.readouterr().out
    with override_settings(DEMO_ACCOUNTS=True):
        call_command("load_demo")
        out = capsys.readouterr().out
        call_command("load_demo")
        assert capsys.readouterr().out == out, "passwords stay the same on a rerun"
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    password = out.split("editor", 1)[1].split()[0]
    assert editor.check_password(password)
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert Practitioner.objects.get().user.username == "doctor"


def test_demo_home_page_shows_the_made_up_clinic(client):
    call_command("load_demo")
    html = client.get("/da/").content.decode()
    assert "Egebæk Smerteklinik" in html
    assert 'href="tel:+4598765432"' in html
    assert "Mette Egelund Brask" in html


def test_the_demo_reuses_its_stored_drawing_and_never_overwrites_another_file():
    from django.core.files.base import ContentFile

    from clinic.demo import load_demo

    load_demo()
    practitioner = Practitioner.objects.get()
    stored = practitioner.photo.name
    storage = practitioner.photo.storage
    assert stored.endswith("portrait.png") and storage.exists(stored)

    # Loaded again into an emptied field: the very same stored file is used, not a copy.
    Practitioner.objects.update(photo="")
    load_demo()
    assert Practitioner.objects.get().photo.name == stored

    # A different file under that name is left alone: the demo's drawing gets a name of its own.
    storage.delete(stored)
    storage.save(stored, ContentFile(b"an editor's own file"))
    Practitioner.objects.update(photo="")
    load_demo()
    name = Practitioner.objects.get().photo.name
    assert name != stored and name.endswith(".png")
    with storage.open(stored, "rb") as other:
        assert other.read() == b"an editor's own file"
    storage.delete(stored)
    storage.delete(name)
