"""Staff groups, the admin's forms and the lockout after failed logins."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation
from PIL import Image

from clinic.models import ConsentText, Practitioner
from clinic.staff_groups import DOCTORS, EDITORS, RECEPTION
from tests.factories import ConsentTextFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_groups_exist_after_migrate_with_their_permissions():
    editors = set(Group.objects.get(name=EDITORS).permissions.values_list("codename", flat=True))
    assert {"change_clinicdetails", "add_page", "change_practitioner"} <= editors
    assert "delete_clinicdetails" not in editors
    reception = set(
        Group.objects.get(name=RECEPTION).permissions.values_list("codename", flat=True)
    )
    assert "change_page" not in reception and "view_clinicdetails" in reception
    assert Group.objects.filter(name=DOCTORS).exists()


def test_syncing_groups_again_changes_nothing_and_removes_hand_added_permissions():
    editors = Group.objects.get(name=EDITORS)
    before = set(editors.permissions.all())
    from django.contrib.auth.models import Permission

    editors.permissions.add(Permission.objects.get(codename="delete_user"))
    call_command("sync_staff_groups", stdout=io.StringIO())
    call_command("sync_staff_groups", stdout=io.StringIO())
    assert set(editors.permissions.all()) == before


def test_admin_header_carries_the_clinics_name(client, demo):
    client.force_login(UserFactory(groups=[EDITORS]))
    assert "Egebæk Smerteklinik" in client.get("/admin/").content.decode()


def test_admin_speaks_the_staff_members_language(client, demo):
    client.force_login(UserFactory(groups=[EDITORS]))
    assert "Log ud" in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Log out" in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_doctor_cannot_edit_pages_but_an_editor_can(client, demo):
    client.force_login(UserFactory(groups=[DOCTORS]))
    assert client.get("/admin/clinic/page/").status_code == 403
    client.force_login(UserFactory(groups=[EDITORS]))
    assert client.get("/admin/clinic/page/").status_code == 200


def test_the_clinic_details_list_opens_the_one_record(client, demo):
    client.force_login(UserFactory(groups=[EDITORS]))
    response = client.get("/admin/clinic/clinicdetails/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/clinic/clinicdetails/{demo.pk}/change/")


def practitioner_form(**extra):
    data = {"name": "Dr. Test", "title_da": "Læge", "order": 0, "active": "on"}
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"this is not an image", "photo.jpg"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "photo.png")],
)
def test_a_corrupt_photo_gets_a_form_error_not_a_server_error(client, demo, content, name):
    client.force_login(UserFactory(groups=[EDITORS]))
    response = client.post(
        "/admin/clinic/practitioner/add/",
        practitioner_form(photo=SimpleUploadedFile(name, content), photo_alt_da="Foto"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["photo"]
    assert not Practitioner.objects.filter(name="Dr. Test").exists()


def test_a_valid_photo_is_saved(client, demo):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "teal").save(buffer, "JPEG")
    client.force_login(UserFactory(groups=[EDITORS]))
    response = client.post(
        "/admin/clinic/practitioner/add/",
        practitioner_form(
            photo=SimpleUploadedFile("p.jpg", buffer.getvalue()),
            photo_alt_da="Lægen smiler",
            languages=["da", "en"],
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    practitioner = Practitioner.objects.get(name="Dr. Test")
    assert practitioner.languages == ["da", "en"]
    assert practitioner.photo.width == 40


def test_a_shown_consent_text_is_read_only_in_the_admin(client, demo):
    consent = ConsentTextFactory()
    consent.mark_shown()
    client.force_login(UserFactory(groups=[EDITORS]))
    response = client.get(f"/admin/clinic/consenttext/{consent.pk}/change/")
    assert response.status_code == 200
    assert 'name="text_da"' not in response.content.decode()
    response = client.post(
        "/admin/clinic/consenttext/",
        {"action": "make_new_version", "_selected_action": [consent.pk]},
    )
    assert response.status_code == 302
    assert ConsentText.objects.current(consent.kind).version == consent.version + 1


def test_repeated_failed_logins_lock_the_account_out(client, demo):
    UserFactory(username="eva", groups=[EDITORS])
    for _attempt in range(5):
        response = client.post("/admin/login/", {"username": "eva", "password": "wrong"})
    response = client.post(
        "/admin/login/", {"username": "eva", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    with translation.override("da"):  # no Accept-Language: the default language
        assert translation.gettext("Too many failed logins") in response.content.decode()
    assert "_auth_user_id" not in client.session
