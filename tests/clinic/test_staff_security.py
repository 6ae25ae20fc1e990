"""Staff accounts: two factors for those who see health data, and short staff sessions."""

import io
import re
from base64 import b32decode
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import demo as clinic_demo
from clinic.staff_groups import DOCTORS, EDITORS, RECEPTION
from tests.conftest import (
    _django_force_login,
    authenticator_for,
    current_code,
    log_in_verified,
    screenshot,
)
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def english_admin(client):
    """Staff whose browser asks for English read the admin in English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


PASSWORD = "correct-horse-battery"


def log_in_with_password(client, username, next_url=None):
    data = {"username": username, "password": PASSWORD}
    path = "/admin/login/"
    if next_url is not None:
        data["next"] = next_url
    return client.post(path, data)


def code_from_secret(secret_text: str) -> str:
    key = b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return format(TOTP(key).token(), "06d")


# --- Who must use two factors ---------------------------------------------------------


@pytest.mark.parametrize("group", [RECEPTION, DOCTORS])
def test_a_password_alone_never_reaches_the_admin_for_reception_or_doctors(client, demo, group):
    user = UserFactory(username="rikke", groups=[group])
    authenticator_for(user)

    response = log_in_with_password(client, "rikke")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/two-factor/code/")
    assert "_auth_user_id" in client.session  # the password step passed...
    for path in ("/admin/", "/admin/booking/booking/", "/admin/booking/booking/calendar/"):
        response = client.get(path)  # ...but it opens nothing
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    # The login page sends a password-only session on to the code, keeping `next`.
    response = client.get("/admin/login/?next=/admin/booking/booking/")
    assert response["Location"] == "/admin/two-factor/code/?next=%2Fadmin%2Fbooking%2Fbooking%2F"


def test_a_superuser_without_a_group_must_use_two_factors(client, demo):
    UserFactory(username="root", is_superuser=True)
    response = log_in_with_password(client, "root")
    assert response["Location"].startswith("/admin/two-factor/set-up/")
    assert client.get("/admin/").status_code == 302


def test_a_doctors_password_alone_does_not_open_the_imaging_pages(
    client, demo, password_only_login
):
    doctor = UserFactory(username="mette", groups=[DOCTORS])
    password_only_login(client, doctor)
    response = client.get("/staff/imaging/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/staff/imaging/")

    client.force_login(doctor)  # both factors
    assert client.get("/staff/imaging/").status_code == 200


def test_the_right_code_completes_the_login_and_a_wrong_one_does_not(client, demo):
    user = UserFactory(username="rikke", groups=[RECEPTION])
    device = authenticator_for(user)
    log_in_with_password(client, "rikke", next_url="/admin/booking/booking/")

    response = client.post(
        "/admin/two-factor/code/?next=/admin/booking/booking/", {"code": "000000"}
    )
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/admin/").status_code == 302

    device.throttling_failure_count = 0  # a wrong code makes the next try wait a moment
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(
        "/admin/two-factor/code/?next=/admin/booking/booking/", {"code": current_code(device)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/booking/booking/"
    assert client.get("/admin/").status_code == 200


def test_a_used_code_cannot_be_used_again(client, demo):
    user = UserFactory(username="rikke", groups=[RECEPTION])
    device = authenticator_for(user)
    code = current_code(device)
    log_in_with_password(client, "rikke")
    assert client.post("/admin/two-factor/code/", {"code": code}).status_code == 302

    client.logout()
    log_in_with_password(client, "rikke")
    response = client.post("/admin/two-factor/code/", {"code": code})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_backup_code_works_once(client, demo):
    from clinic.two_factor import new_backup_codes

    user = UserFactory(username="rikke", groups=[RECEPTION])
    authenticator_for(user)
    codes = new_backup_codes(user)
    assert len(codes) == settings.TWO_FACTOR_BACKUP_CODES == len(set(codes))

    log_in_with_password(client, "rikke")
    assert client.post("/admin/two-factor/code/", {"code": codes[0].upper()}).status_code == 302
    assert client.get("/admin/").status_code == 200

    client.logout()
    log_in_with_password(client, "rikke")
    assert client.post("/admin/two-factor/code/", {"code": codes[0]}).status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_refused_next_falls_back_to_the_admin_index(client, demo):
    UserFactory(username="eva", groups=[EDITORS])
    response = log_in_with_password(client, "eva", next_url="https://attacker.example/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200

    client.logout()
    user = UserFactory(username="rikke", groups=[RECEPTION])
    device = authenticator_for(user)
    response = log_in_with_password(client, "rikke", next_url="//attacker.example/x")
    assert response["Location"] == "/admin/two-factor/code/?next=%2Fadmin%2F"
    response = client.post(
        "/admin/two-factor/code/?next=//attacker.example/x", {"code": current_code(device)}
    )
    assert response["Location"] == "/admin/"


# --- Editors: optional ------------------------------------------------------------------


def test_an_editor_logs_in_with_the_password_alone(client, demo):
    UserFactory(username="eva", groups=[EDITORS])
    response = log_in_with_password(client, "eva", next_url="/admin/clinic/page/")
    assert response["Location"] == "/admin/clinic/page/"
    assert client.get("/admin/clinic/page/").status_code == 200


def test_an_editor_who_turned_two_factors_on_is_asked_for_the_code(client, demo):
    editor = UserFactory(username="eva", groups=[EDITORS])
    authenticator_for(editor)
    response = log_in_with_password(client, "eva")
    assert response["Location"].startswith("/admin/two-factor/code/")
    assert client.get("/admin/").status_code == 302


def test_an_editor_may_turn_two_factors_on_from_the_admin(client, demo):
    editor = UserFactory(username="eva", groups=[EDITORS])
    log_in_with_password(client, "eva")
    page = client.get("/admin/").content.decode()
    assert 'href="/admin/two-factor/backup-codes/"' in page
    assert (
        "is off for your account" in client.get("/admin/two-factor/backup-codes/").content.decode()
    )

    page = client.get("/admin/two-factor/set-up/").content.decode()
    secret = re.search(r'<code class="secret" id="secret"[^>]*>([A-Z2-7 ]+)</code>', page)[1]
    response = client.post("/admin/two-factor/set-up/", {"code": code_from_secret(secret)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=editor).confirmed


# --- Enrolment ----------------------------------------------------------------------------


def test_enrolment_shows_the_secret_beside_the_qr_code_and_the_backup_codes_once(client, demo):
    user = UserFactory(username="rikke", groups=[RECEPTION])
    response = log_in_with_password(client, "rikke", next_url="/admin/booking/booking/")
    assert response["Location"] == "/admin/two-factor/set-up/?next=%2Fadmin%2Fbooking%2Fbooking%2F"

    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page and "<path" in page  # the QR code, drawn on the server
    secret = re.search(r'<code class="secret" id="secret"[^>]*>([A-Z2-7 ]+)</code>', page)[1]
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert secret.replace(" ", "") in device.config_url
    # The same secret on a reload: the app scanned a moment ago keeps working.
    assert secret in client.get("/admin/two-factor/set-up/").content.decode()

    response = client.post("/admin/two-factor/set-up/", {"code": "123456"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()

    response = client.post(
        "/admin/two-factor/set-up/?next=/admin/booking/booking/",
        {"code": code_from_secret(secret)},
    )
    assert response["Location"].startswith("/admin/two-factor/backup-codes/")
    device.refresh_from_db()
    assert device.confirmed
    shown = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown)
    stored = StaticDevice.objects.get(user=user).token_set.values_list("token", flat=True)
    assert sorted(codes) == sorted(stored) and len(codes) == settings.TWO_FACTOR_BACKUP_CODES
    assert 'href="/admin/booking/booking/"' in shown
    again = client.get("/admin/two-factor/backup-codes/").content.decode()
    assert codes[0] not in again  # shown once
    assert client.get("/admin/booking/booking/").status_code == 200


def test_a_password_alone_cannot_replace_an_app_already_set_up(client, demo):
    user = UserFactory(username="rikke", groups=[RECEPTION])
    device = authenticator_for(user)
    log_in_with_password(client, "rikke")
    response = client.get("/admin/two-factor/set-up/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/two-factor/code/")
    response = client.post("/admin/two-factor/set-up/", {"code": "123456"})
    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user)) == [device]
    response = client.post("/admin/two-factor/backup-codes/")
    assert response.status_code == 302
    assert not StaticDevice.objects.filter(user=user).exists()


# --- Staff sessions ----------------------------------------------------------------------


def test_a_staff_session_ends_with_the_browser(client, demo):
    UserFactory(username="eva", groups=[EDITORS])
    response = log_in_with_password(client, "eva")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.session.get_expire_at_browser_close()


def test_a_staff_session_ends_after_the_idle_hours_and_each_request_extends_it(client, demo):
    UserFactory(username="eva", groups=[EDITORS])
    start = timezone.now()
    idle = timedelta(hours=settings.STAFF_SESSION_IDLE_HOURS)
    with time_machine.travel(start, tick=False) as clock:
        log_in_with_password(client, "eva")
        clock.shift(idle - timedelta(minutes=1))
        assert client.get("/admin/").status_code == 200  # still there, and extended
        clock.shift(idle - timedelta(minutes=1))
        assert client.get("/admin/").status_code == 200
        clock.shift(idle)
        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert "_auth_user_id" not in client.session


def test_a_staff_session_without_the_login_stamp_ends(client, demo):
    # A session from before the rule (or made elsewhere) has no stamp.
    _django_force_login(client, UserFactory(username="eva", groups=[EDITORS]))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_patients_session_is_neither_written_nor_shortened_by_public_pages(client, demo):
    session = client.session
    session["draft"] = "kept"
    session.save()
    stored = Session.objects.get(session_key=session.session_key).expire_date
    response = client.get("/da/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # not saved again
    session = client.session
    assert session["draft"] == "kept"
    assert not session.get_expire_at_browser_close()
    assert Session.objects.get(session_key=session.session_key).expire_date == stored


# --- Demo -----------------------------------------------------------------------------------


def test_demo_staff_come_enrolled_with_their_secrets_beside_the_passwords(
    client, demo, settings, tmp_path
):
    settings.DEMO_ACCOUNTS = True
    settings.VAR_DIR = tmp_path
    accounts = clinic_demo.ensure_demo_accounts()
    lines = (tmp_path / "demo-passwords.txt").read_text().splitlines()
    assert len(lines) == len(accounts) == 3
    for line, (username, password, uri) in zip(lines, accounts, strict=True):
        assert line == f"{username} {password} {uri}"
        assert uri.startswith("otpauth://totp/") and f"{username}?secret=" in uri
    # Rerunning keeps the passwords and the apps.
    assert clinic_demo.ensure_demo_accounts() == accounts

    # The printed secret logs the demo receptionist in.
    _username, password, uri = accounts[1]
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    client.post("/admin/login/", {"username": "reception", "password": password})
    response = client.post("/admin/two-factor/code/", {"code": code_from_secret(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_no_demo_secrets_outside_the_demo(demo, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert settings.DEMO_ACCOUNTS is False
    with pytest.raises(ImproperlyConfigured):
        clinic_demo.ensure_demo_accounts()
    call_command("load_demo", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()
    assert not (tmp_path / "demo-passwords.txt").exists()


# --- In the browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_enrolment_in_the_browser_then_the_code_at_the_next_login(visit, demo):
    from tests.conftest import axe_violations

    UserFactory(username="rikke", groups=[RECEPTION])
    page = visit(locale="en", extra_http_headers={"Accept-Language": "en"}).page
    page.goto("/admin/login/")
    page.fill("#id_username", "rikke")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert "/admin/two-factor/set-up/" in page.url
    assert page.locator(".qr-code svg").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "two-factor-enrolment")

    # "Scan" the code: type the key shown beside it into the app.
    secret = page.locator("#secret").inner_text()
    page.get_by_label("Code").fill(code_from_secret(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    assert page.locator("#backup-codes li").count() == settings.TWO_FACTOR_BACKUP_CODES
    with page.expect_navigation():
        page.get_by_role("link", name="I have kept them: continue").click()
    assert page.url.endswith("/admin/")
    assert page.get_by_role("heading", name="Website and bookings").is_visible()

    # Next time: the password, then a code from the app.
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    log_in_verified(page, "rikke")
    assert page.url.endswith("/admin/")
