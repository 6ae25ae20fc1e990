"""`/health/` for load balancers: database, cache and both storages, details to staff only."""

import json
from contextlib import contextmanager
from unittest import mock

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.cache import caches
from django.core.files.storage import storages
from django.db import OperationalError, connection, connections
from django.test import Client, override_settings

from booking import outbox
from tests import s3
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")

CHECKS = ["database", "cache", "storage:default", "storage:private"]
TOKEN = "health-token-for-tests"


@contextmanager
def failing(check: str):
    """Break one shared service where the site talks to it."""
    if check == "database":
        target, name = connections["default"], "cursor"
        error = OperationalError("server closed the connection unexpectedly")
    elif check == "cache":
        target, name, error = caches["default"], "set", OSError("Connection refused")
    else:
        alias = check.removeprefix("storage:")
        target, name = storages[alias], "exists"
        error = EndpointConnectionError(endpoint_url="https://s3.eu-north-1.example")
    with mock.patch.object(target, name, side_effect=error):
        yield


@pytest.fixture
def staff_client():
    staff = Client()
    staff.force_login(UserFactory(username="ops", is_superuser=True))
    return staff


def details(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_all_up_is_a_plain_ok_that_is_never_cached(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    assert client.head("/health/").status_code == 200
    assert client.post("/health/").status_code == 405


def test_staff_see_every_check_and_the_message_pass(staff_client):
    outbox.run_pass()
    answer = details(staff_client.get("/health/"))
    assert answer["status"] == "ok"
    assert answer["checks"] == dict.fromkeys(CHECKS, "ok")
    assert answer["message_pass"]["late"] is False and answer["message_pass"]["last"]


def test_a_late_message_pass_is_a_warning_for_staff_and_ok_for_the_load_balancer(
    client, staff_client
):
    # No pass has ever run.
    response = staff_client.get("/health/")
    assert response.status_code == 200
    assert details(response)["status"] == "warning"
    assert details(response)["message_pass"] == {"last": None, "late": True}
    assert client.get("/health/").content == b"ok\n"


@pytest.mark.parametrize("check", CHECKS)
def test_one_check_failing_gives_503_without_details_to_anonymous_callers(client, check, caplog):
    with failing(check):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.content == b"unavailable\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    (record,) = [r for r in caplog.records if r.name == "clinic.health"]
    assert record.getMessage() == f"Health check {check!r} failed"
    assert record.exc_info is not None


@pytest.mark.parametrize("check", ["cache", "storage:default", "storage:private"])
def test_staff_see_which_check_failed(staff_client, check):
    with failing(check):
        response = staff_client.get("/health/")
    assert response.status_code == 503
    answer = details(response)
    assert answer["status"] == "unavailable"
    assert answer["checks"] == {name: "failed" if name == check else "ok" for name in CHECKS}


@pytest.mark.parametrize("check", CHECKS)
def test_the_token_shows_which_check_failed_even_without_the_database(client, settings, check):
    settings.HEALTH_TOKEN = TOKEN
    with failing(check):
        response = client.get("/health/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    answer = details(response)
    assert answer["checks"] == {name: "failed" if name == check else "ok" for name in CHECKS}
    # The message pass is read from the database: left out when it is down.
    assert ("message_pass" in answer) is (check != "database")


@pytest.mark.parametrize(
    ("configured", "sent"),
    [
        (TOKEN, f"Bearer {TOKEN}x"),
        (TOKEN, TOKEN),
        (TOKEN, f"Basic {TOKEN}"),
        ("", "Bearer "),  # no token configured: none is accepted, not even an empty one
        ("", "Bearer"),
    ],
)
def test_a_wrong_or_missing_token_gets_no_details(client, settings, configured, sent):
    settings.HEALTH_TOKEN = configured
    with failing("cache"):
        response = client.get("/health/", headers={"Authorization": sent})
    assert response.content == b"unavailable\n"


def test_staff_who_still_owe_the_second_factor_and_other_users_get_no_details(
    password_only_login,
):
    owes_code = Client()
    password_only_login(owes_code, UserFactory(username="doc", groups=["Doctors"]))
    patient = Client()
    patient.force_login(UserFactory(username="patient", is_staff=False))
    for caller in (owes_code, patient):
        with failing("cache"):
            assert caller.get("/health/").content == b"unavailable\n"


def test_a_cache_that_loses_the_value_is_a_failure(client):
    with mock.patch.object(caches["default"], "get", return_value=None):
        response = client.get("/health/")
    assert response.status_code == 503


def test_the_cache_check_leaves_no_key_behind(client):
    cache = caches["default"]
    with mock.patch.object(cache, "delete", wraps=cache.delete) as delete:
        client.get("/health/")
    (key,) = [call.args[0] for call in delete.call_args_list]
    assert key.startswith("health-check:")
    assert cache.get(key) is None


def test_the_probe_is_answered_over_plain_http_when_https_is_enforced():
    with override_settings(SECURE_SSL_REDIRECT=True):
        probe = Client()
        assert probe.get("/health/").status_code == 200
        assert probe.get("/robots.txt").status_code == 301  # everything else still redirects


@heavy
def test_object_storage_buckets_are_checked(client, settings, s3_endpoint):
    settings.HEALTH_TOKEN = TOKEN
    public = s3.make_bucket(s3_endpoint, "public")
    private = s3.make_bucket(s3_endpoint, "private")
    settings.STORAGES = s3.s3_storages(s3_endpoint, public, private)
    assert client.get("/health/").content == b"ok\n"
    # A bucket that is not there (a typo, or deleted): exists() alone would say "no such file".
    settings.STORAGES = s3.s3_storages(s3_endpoint, public, private + "-missing")
    response = client.get("/health/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    assert details(response)["checks"]["storage:private"] == "failed"
    assert details(response)["checks"]["storage:default"] == "ok"
