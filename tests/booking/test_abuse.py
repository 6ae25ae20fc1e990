"""Abuse bounds: drafts started per address, the client address behind trusted proxies
(rate limits, the staff login lockout, the staff-view audit), rate limits while the
cache is down, a draft's byte and file quota, and the free-disk guard."""

import io
import json
import logging
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.files.uploadhandler import SkipFile, StopFutureHandlers
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext
from PIL import Image

from booking import uploads
from booking.access import make_token
from booking.admin import client_ip
from booking.models import Booking, Upload
from booking.views import DRAFT_SESSION_KEY
from clinic import ratelimit
from clinic.models import ConsentText
from tests.booking.factories import AppointmentTypeFactory, BookingFactory, current_health_consent
from tests.factories import ConsentTextFactory, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
REFUSING_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def url(name: str, language: str = "en", **kwargs) -> str:
    with translation.override(language):
        return reverse(f"booking:{name}", kwargs=kwargs or None)


@pytest.fixture(autouse=True)
def own_cache(settings):
    # A cache of this module's own: the shared file cache may be cleared by another run.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "abuse-test",
        }
    }
    caches["default"].clear()
    ratelimit.reset_memory()
    yield
    ratelimit.reset_memory()


@pytest.fixture
def phone_talk():
    return AppointmentTypeFactory(phone_talk=True)


def complete_draft(kind) -> Booking:
    """A draft with every answer given: the review step may send it."""
    return BookingFactory(
        status=Booking.Status.DRAFT,
        appointment_type=kind,
        submitted_at=None,
        consent_text=None,
        consent_given_at=None,
        birth_date=date(1958, 4, 30),
    )


def client_for(draft: Booking | None = None, **environ) -> Client:
    client = Client(**environ)
    if draft is not None:
        session = client.session
        session[DRAFT_SESSION_KEY] = draft.pk
        session.save()
    return client


def send(client: Client) -> int:
    consent = current_health_consent()
    data = {"consent": "on", "consent_version": str(consent.pk)}
    return client.post(url("review"), data).status_code


def start(client: Client, kind) -> int:
    return client.post(url("what"), {"appointment_type": str(kind.pk)}).status_code


# --- Starting drafts ---------------------------------------------------------------------


def test_starting_drafts_is_limited_per_address(settings, phone_talk):
    settings.DRAFT_RATE_LIMIT = 2
    assert [start(client_for(REMOTE_ADDR="192.0.2.1"), phone_talk) for _ in range(2)] == [302] * 2

    refused = client_for(REMOTE_ADDR="192.0.2.1").post(
        url("what"), {"appointment_type": str(phone_talk.pk)}
    )

    assert refused.status_code == 429
    assert "You have started several requests in a short time." in refused.content.decode()
    assert Booking.objects.drafts().count() == 2
    # Another address is not held back.
    assert start(client_for(REMOTE_ADDR="192.0.2.2"), phone_talk) == 302


def test_changing_the_first_answer_of_a_draft_is_not_counted(settings, phone_talk):
    settings.DRAFT_RATE_LIMIT = 1
    client = client_for(REMOTE_ADDR="192.0.2.1")
    assert start(client, phone_talk) == 302
    other = AppointmentTypeFactory(phone_talk=True)
    for _ in range(3):
        assert start(client, other) == 302
    assert Booking.objects.drafts().count() == 1


# --- One client address everywhere, behind trusted proxies ------------------------------


def test_two_clients_behind_one_trusted_proxy_get_their_own_booking_limit(settings, phone_talk):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.BOOKING_RATE_LIMIT = 1
    first = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    second = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.2"}

    assert send(client_for(complete_draft(phone_talk), **first)) == 302
    assert send(client_for(complete_draft(phone_talk), **first)) == 429
    assert send(client_for(complete_draft(phone_talk), **second)) == 302
    assert Booking.objects.sent().count() == 2


def test_without_trusted_proxies_a_forged_forwarded_header_is_ignored(settings, phone_talk):
    settings.TRUSTED_PROXY_HOPS = 0
    settings.BOOKING_RATE_LIMIT = 1
    forged = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    codes = [
        send(client_for(complete_draft(phone_talk), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip))
        for ip in forged
    ]
    assert codes == [302, 429, 429]
    assert Booking.objects.sent().count() == 1


def test_new_links_and_testimonials_count_the_address_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.BOOKING_RATE_LIMIT = 1
    settings.TESTIMONIAL_RATE_LIMIT = 1
    first = client_for(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = client_for(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2")
    ask = {"email": "nobody@example.com"}
    assert first.post(url("new_link"), ask).status_code == 302
    assert first.post(url("new_link"), ask).status_code == 429
    assert second.post(url("new_link"), ask).status_code == 302

    share = "/en/testimonials/share/"
    data = shared_testimonial()
    assert first.post(share, data).status_code == 302
    assert first.post(share, data).status_code == 429
    assert second.post(share, data).status_code == 302


def shared_testimonial() -> dict:
    consent = ConsentTextFactory(kind=ConsentText.Kind.TESTIMONIAL)
    return {
        "title": "Better",
        "text": "After the treatment I could turn my head again.",
        "rating": "5",
        "condition": "",
        "treatment_year": "2024",
        "display_name": "Karen",
        "age": "64",
        "email": "karen@example.com",
        "consent": "on",
        "consent_version": str(consent.pk),
        "website": "",
    }


def login_request(forwarded: str):
    return RequestFactory().post("/admin/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def fail_logins(forwarded: str, times: int = 5):
    for _ in range(times):
        assert authenticate(login_request(forwarded), username="doctor", password="wrong") is None


def test_a_login_lockout_behind_a_trusted_proxy_holds_only_that_client(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    doctor = UserFactory(username="doctor")
    fail_logins("198.51.100.66")

    locked = authenticate(
        login_request("198.51.100.66"), username="doctor", password="correct-horse-battery"
    )
    # The doctor, behind the same proxy, still logs in.
    allowed = authenticate(
        login_request("198.51.100.7"), username="doctor", password="correct-horse-battery"
    )

    assert locked is None
    assert allowed == doctor
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_a_login_lockout_ignores_a_forged_forwarded_header_without_proxies(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    UserFactory(username="doctor")
    for attempt in range(5):
        fail_logins(f"198.51.100.{attempt}", times=1)

    locked = authenticate(
        login_request("198.51.100.99"), username="doctor", password="correct-horse-battery"
    )

    assert locked is None
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


@pytest.mark.parametrize(("hops", "expected"), [(0, PROXY), (1, "198.51.100.7")])
def test_the_staff_view_audit_records_the_client_address(settings, hops, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get(
        "/admin/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7"
    )
    assert client_ip(request) == expected


# --- The cache down ----------------------------------------------------------------------


def test_with_the_cache_down_limits_hold_per_process_and_pages_answer(settings, phone_talk, caplog):
    settings.CACHES = REFUSING_REDIS
    settings.BOOKING_RATE_LIMIT = 2
    settings.DRAFT_RATE_LIMIT = 1
    caplog.set_level(logging.WARNING, logger="clinic.ratelimit")
    client = client_for(REMOTE_ADDR="192.0.2.1")
    ask = {"email": "nobody@example.com"}

    codes = [client.post(url("new_link"), ask).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert start(client_for(REMOTE_ADDR="192.0.2.1"), phone_talk) == 302
    assert start(client_for(REMOTE_ADDR="192.0.2.1"), phone_talk) == 429
    # The last step sends (the rate limit counted in memory too).
    sends = [send(client_for(complete_draft(phone_talk), REMOTE_ADDR="192.0.2.1")) for _ in "abc"]
    assert sends == [302, 302, 429]
    assert Booking.objects.sent().count() == 2
    assert len([r for r in caplog.records if r.name == "clinic.ratelimit"]) == 1


# --- A draft's quota ---------------------------------------------------------------------


def png(name: str, side: int = 8) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(out, "PNG")
    out.seek(0)
    out.name = name
    return out


def png_size(side: int = 8) -> int:
    return len(png("x.png", side).getvalue())


@pytest.fixture
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.UPLOAD_MIN_FREE_BYTES = 0
    return settings.PRIVATE_STORAGE_ROOT


def upload(client: Client, *names: str, path: str | None = None, language="en") -> tuple:
    response = client.post(
        path or url("draft_upload", language),
        {"files": [png(name) for name in names]},
        HTTP_ACCEPT="application/json",
    )
    body = json.loads(response.content)
    accepted = [item["name"] for item in body["accepted"]]
    refused = {item["name"]: item["reason"] for item in body["refused"]}
    return response.status_code, accepted, refused, body


def test_a_draft_takes_at_most_its_file_quota_and_keeps_what_it_has(settings, storage, phone_talk):
    settings.DRAFT_MAX_FILES = 2
    draft = complete_draft(phone_talk)
    client = client_for(draft)

    _status, accepted, refused, _body = upload(client, "a.png", "b.png", "c.png")
    assert accepted == ["a.png", "b.png"]
    assert "at most 2 files until it is sent" in refused["c.png"]
    assert "The files we have received are kept." in refused["c.png"]

    _status, accepted, refused, _body = upload(client, "d.png")
    assert accepted == [] and list(refused) == ["d.png"]
    assert sorted(draft.uploads.values_list("original_name", flat=True)) == ["a.png", "b.png"]
    assert all(u.file.storage.exists(u.file.name) for u in draft.uploads.all())
    assert not any((storage / "incoming").iterdir())


def test_a_draft_takes_at_most_its_byte_quota_counted_from_the_recorded_sizes(
    settings, storage, phone_talk
):
    settings.DRAFT_MAX_BYTES = 2 * png_size()  # exactly two files fit
    draft = complete_draft(phone_talk)
    client = client_for(draft)

    _status, accepted, refused, _body = upload(client, "a.png", "b.png", "c.png")
    assert accepted == ["a.png", "b.png"]
    limit = filesizeformat(2 * png_size())
    assert f"a request can hold at most {limit} of files until it is sent." in refused["c.png"]

    # Recorded sizes decide, not the disk: shrink the records and there is room again.
    Upload.objects.filter(booking=draft).update(size=1)
    _status, accepted, _refused, _body = upload(client, "c.png")
    assert accepted == ["c.png"]


def test_the_quota_message_is_in_the_patients_language(settings, storage, phone_talk):
    settings.DRAFT_MAX_FILES = 0
    client = client_for(complete_draft(phone_talk))
    _status, _accepted, refused, _body = upload(client, "a.png", language="de")
    with translation.override("de"):
        expected = ngettext(
            "a request can hold at most %(count)d file until it is sent.",
            "a request can hold at most %(count)d files until it is sent.",
            0,
        ) % {"count": 0}
    assert refused["a.png"].startswith(expected)


def test_a_sent_booking_is_not_held_to_the_draft_quota(settings, storage, phone_talk):
    settings.DRAFT_MAX_FILES = 1
    settings.DRAFT_MAX_BYTES = 1
    booking = BookingFactory(appointment_type=phone_talk)
    client = Client()
    path = url("private_upload", token=make_token(booking))
    _status, accepted, refused, _body = upload(client, "a.png", "b.png", path=path)
    assert accepted == ["a.png", "b.png"] and not refused


def test_save_upload_checks_the_quota_itself(settings, storage, phone_talk):
    """The last word is save_upload's, under the booking's row lock (the streaming
    handler's check only saves the disk from files that would be refused)."""
    settings.DRAFT_MAX_FILES = 1
    draft = complete_draft(phone_talk)
    uploads.save_upload(booking=draft, uploaded_file=png("a.png"))
    with translation.override("en"), pytest.raises(uploads.UploadRejected) as refused:
        uploads.save_upload(booking=draft, uploaded_file=png("b.png"))
    assert "at most 1 file until it is sent" in refused.value.reason
    assert draft.uploads.count() == 1
    assert not any((storage / "incoming").iterdir())


def test_the_streaming_handler_cuts_off_a_file_as_soon_as_it_passes_the_room(storage):
    """Files that would be refused are not written out whole first."""
    translation.activate("en")  # the reasons below are read in English
    handler = uploads.StreamingUploadHandler(room=uploads.Room(bytes=100, files=2))
    with pytest.raises(StopFutureHandlers):
        handler.new_file("files", "a.png", "image/png", None)
    handler.receive_data_chunk(b"x" * 60, 0)
    handler.receive_data_chunk(b"x" * 40, 60)  # exactly the room: still taken
    handler.file_complete(100)
    with pytest.raises(StopFutureHandlers):
        handler.new_file("files", "b.png", "image/png", None)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x", 0)
    assert not Path(handler.path).exists()
    assert [name for name, _reason in handler.refused] == ["b.png"]

    handler = uploads.StreamingUploadHandler(room=uploads.Room(bytes=None, files=1))
    with pytest.raises(StopFutureHandlers):
        handler.new_file("files", "a.png", "image/png", None)
    handler.file_complete(0)
    with pytest.raises(SkipFile):
        handler.new_file("files", "b.png", "image/png", None)
    assert "files until it is sent" in handler.refused[0][1]
    handler.discard_leftovers()


# --- The free-disk guard -----------------------------------------------------------------


def test_uploads_are_refused_while_the_disk_is_low(settings, storage, phone_talk):
    draft = complete_draft(phone_talk)
    client = client_for(draft)
    assert upload(client, "kept.png")[1] == ["kept.png"]
    settings.UPLOAD_MIN_FREE_BYTES = 10**18

    status, accepted, _refused, body = upload(client, "a.png")
    assert status == 503
    assert accepted == []
    assert "We cannot receive files just now" in body["error"]
    assert list(draft.uploads.values_list("original_name", flat=True)) == ["kept.png"]
    assert not any((storage / "incoming").iterdir())

    # Without JavaScript: back to the page, with the message.
    page = client.post(url("draft_upload"), {"files": [png("b.png")]})
    assert page.status_code == 303
    shown = [str(message) for message in get_messages(page.wsgi_request)]
    assert any("We cannot receive files just now" in message for message in shown)


def test_a_disk_that_runs_low_during_a_request_refuses_the_rest(storage, phone_talk):
    draft = complete_draft(phone_talk)
    client = client_for(draft)
    answers = iter([False, True, True])  # the first file starts with room; then none
    with mock.patch.object(uploads, "disk_is_low", side_effect=lambda: next(answers)):
        _status, accepted, refused, _body = upload(client, "a.png", "b.png", "c.png")
    assert accepted == ["a.png"]
    assert set(refused) == {"b.png", "c.png"}
    assert "we cannot receive files just now" in refused["b.png"]
    assert not any((storage / "incoming").iterdir())


# --- 20 simultaneous sends against a limit of 5 (PostgreSQL) -----------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_sends_against_a_limit_of_five_make_five_bookings(
    settings, tmp_path, phone_talk
):
    from tests.booking.test_concurrency import THREADS, run_together

    # The file cache (development's), atomic only through clinic.ratelimit's lock.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.BOOKING_RATE_LIMIT = 5
    current_health_consent()
    clients = [
        client_for(complete_draft(phone_talk), REMOTE_ADDR="192.0.2.1") for _ in range(THREADS)
    ]

    def attempt(index: int) -> str:
        return {302: "sent", 429: "refused"}.get(send(clients[index]), "other")

    with mock.patch("booking.request_flow.send_booking_message"):
        outcomes = run_together(attempt)

    assert outcomes.count("sent") == 5
    assert outcomes.count("refused") == THREADS - 5
    assert Booking.objects.sent().count() == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_uploads_to_one_draft_keep_to_its_file_quota(
    settings, storage, phone_talk
):
    from tests.booking.test_concurrency import run_together

    settings.DRAFT_MAX_FILES = 5
    draft = complete_draft(phone_talk)

    def attempt(index: int) -> str:
        try:
            uploads.save_upload(booking=draft, uploaded_file=png(f"{index}.png"))
        except uploads.UploadRejected:
            return "refused"
        return "kept"

    with mock.patch("booking.uploads.enqueue_processing"):
        outcomes = run_together(attempt)

    assert outcomes.count("kept") == 5
    assert draft.uploads.count() == 5
    assert len(list((storage / "bookings" / str(draft.pk)).iterdir())) == 5
