"""A cache outage never fails a request: pages are rendered uncached, saves still work."""

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse
from django.utils import timezone, translation

from booking.models import Booking
from clinic import degrade, page_cache
from clinic.models import ConsentText
from testimonials import models as testimonial_models
from tests.booking.factories import AnticoagulantFactory, AppointmentTypeFactory
from tests.booking.test_flow import about_data, checklist_data, images_data, send_data, when_data
from tests.conditions.factories import ConditionFactory
from tests.factories import ConsentTextFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSING_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Port 1: nothing listens, so every connection is refused at once.
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
NOW = timezone.now()


class FlakyCache(LocMemCache):
    """A local cache that fails like an unreachable Redis while `down` is set."""

    down = False
    full = False  # reads work, writes fail (Redis past its maxmemory)
    calls = 0

    def _check(self, write=False):
        FlakyCache.calls += 1
        if FlakyCache.down:
            raise redis.exceptions.ConnectionError("Connection refused (test)")
        if write and FlakyCache.full:
            raise redis.exceptions.ResponseError("OOM command not allowed (test)")

    def get(self, *args, **kwargs):
        self._check()
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        self._check(write=True)
        return super().set(*args, **kwargs)

    def add(self, *args, **kwargs):
        self._check()
        return super().add(*args, **kwargs)


@pytest.fixture(autouse=True)
def _fresh_failure_state():
    page_cache.reset_failure_state()
    degrade.reset()
    FlakyCache.down, FlakyCache.full, FlakyCache.calls = False, False, 0
    yield
    page_cache.reset_failure_state()
    degrade.reset()


@pytest.fixture
def redis_down(settings):
    settings.CACHES = REFUSING_REDIS


@pytest.fixture
def flaky(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": f"{__name__}.FlakyCache",
            "LOCATION": f"flaky-{uuid.uuid4().hex}",
        }
    }
    return FlakyCache


def en(name, **kwargs):
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def page_cache_warnings(caplog):
    return [r for r in caplog.records if r.name == "clinic.page_cache" and r.levelno >= 30]


# --- Redis refuses connections: every page still answers ------------------------------


def test_public_pages_answer_200_without_the_cache_and_log_it_once(client, redis_down, caplog):
    condition = ConditionFactory(name_en="Neck pain", slug_en="neck-pain")
    urls = [
        en("home"),
        en("conditions:condition_index"),
        en("conditions:condition", slug=condition.slug_en),
        en("testimonials:index"),
    ]
    with caplog.at_level(logging.WARNING, logger="clinic.page_cache"):
        for url in urls:
            # As if the last failure were long ago: each page tries the cache afresh.
            page_cache.reset_failure_state()
            response = client.get(url)
            assert response.status_code == 200, url
            assert response["X-Page-Cache"] == "bypass"
    assert "Neck pain" in client.get(urls[2]).content.decode()
    warnings = page_cache_warnings(caplog)
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()


def test_the_booking_steps_answer_without_the_cache(client, redis_down):
    consent = ConsentTextFactory(kind=ConsentText.Kind.HEALTH_DATA, text_en="I allow it.")
    gold, warfarin = AppointmentTypeFactory(), AnticoagulantFactory()
    assert client.get(en("booking:what")).status_code == 200
    what = {"appointment_type": str(gold.pk), "painful_area": "Neck"}
    steps = [
        ("what", what),
        ("when", when_data()),
        ("about", about_data()),
        ("images", images_data()),
        ("checklist", checklist_data(warfarin)),
    ]
    for name, data in steps:
        assert client.get(en(f"booking:{name}")).status_code == 200, name
        assert client.post(en(f"booking:{name}"), data).status_code == 302, name
    review = client.get(en("booking:review"))
    assert review.status_code == 200
    assert str(consent.pk) in review.content.decode()
    # The last step counts the rate limit in the cache; it must fall back, not fail.
    sent = client.post(en("booking:review"), send_data(consent))
    assert sent["Location"] == en("booking:thanks")
    assert Booking.objects.sent().count() == 1
    assert client.get(en("booking:thanks")).status_code == 200


def test_an_editors_save_in_the_admin_works_without_the_cache(client, redis_down, caplog):
    consent = ConsentTextFactory(kind=ConsentText.Kind.TESTIMONIAL, text_en="I agree.")
    testimonial = testimonial_models.Testimonial.objects.create(
        language="da",
        text_da="Min nakke har det meget bedre.",
        title_da="Meget bedre",
        display_name="Lise",
        rating=4,
        email="lise@mail.example",
        consent_given_at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        consent_text=consent,
    )
    client.force_login(UserFactory(groups=["Editors"]))
    with caplog.at_level(logging.WARNING, logger="clinic.page_cache"):
        response = client.post(
            "/admin/testimonials/testimonial/",
            {"action": "approve", "_selected_action": [testimonial.pk], "index": 0},
        )
    assert response.status_code == 302
    testimonial.refresh_from_db()
    assert testimonial.status == testimonial_models.Testimonial.Status.APPROVED
    assert "not renewed" in page_cache_warnings(caplog)[0].getMessage()


# --- What happens around an outage ---------------------------------------------------


def test_failures_are_logged_at_most_once_a_minute(client, flaky, caplog):
    flaky.down = True
    with time_machine.travel(NOW, tick=False) as clock, caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert client.get(en("home")).status_code == 200
            clock.shift(timedelta(seconds=20))
        assert len(page_cache_warnings(caplog)) == 1  # at 0 s; 20 s and 40 s are counted
        assert client.get(en("home")).status_code == 200  # 60 s
    warnings = page_cache_warnings(caplog)
    assert len(warnings) == 2
    assert "2 more failure(s)" in warnings[1].getMessage()


def test_after_a_failure_the_cache_rests_before_it_is_tried_again(client, flaky):
    flaky.down = True
    with time_machine.travel(NOW, tick=False) as clock:
        client.get(en("home"))
        tried = flaky.calls
        assert tried >= 1
        clock.shift(timedelta(seconds=page_cache.RETRY_AFTER_SECONDS - 1))
        assert client.get(en("home"))["X-Page-Cache"] == "bypass"
        assert flaky.calls == tried  # an unreachable Redis does not slow every page
        flaky.down = False
        clock.shift(timedelta(seconds=2))
        assert client.get(en("home"))["X-Page-Cache"] == "miss"
        assert client.get(en("home"))["X-Page-Cache"] == "hit"


def test_a_change_saved_during_an_outage_shows_once_the_cache_is_back(client, flaky):
    condition = ConditionFactory(name_en="Neck pain", slug_en="neck-pain")
    url = en("conditions:condition", slug="neck-pain")
    with time_machine.travel(NOW, tick=False) as clock:
        assert client.get(url)["X-Page-Cache"] == "miss"
        assert client.get(url)["X-Page-Cache"] == "hit"
        flaky.down = True
        condition.name_en = "Sore neck"
        condition.save()  # the version cannot be renewed now
        flaky.down = False
        clock.shift(timedelta(seconds=page_cache.RETRY_AFTER_SECONDS + 1))
        response = client.get(url)
    assert response["X-Page-Cache"] == "miss"
    assert "Sore neck" in response.content.decode()


def test_a_cache_that_refuses_writes_still_serves_the_rendered_page(
    client, flaky, caplog, monkeypatch
):
    assert client.get(en("home"))["X-Page-Cache"] == "miss"  # the version is stored
    page_cache.reset_failure_state()
    flaky.full = True
    ConditionFactory(name_en="Neck pain", slug_en="neck-pain")  # a save cannot renew either
    # As if the failure were long ago; this process still knows its change is not out.
    monkeypatch.setattr(page_cache, "_skip_cache_until", 0.0)
    response = client.get(en("conditions:condition", slug="neck-pain"))
    assert (response.status_code, response["X-Page-Cache"]) == (200, "bypass")
    assert "Neck pain" in response.content.decode()
    assert "ResponseError" in page_cache_warnings(caplog)[0].getMessage()


def test_errors_that_are_not_cache_failures_still_show(client, flaky, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("a bug, not an outage")

    monkeypatch.setattr(FlakyCache, "get", broken)
    with pytest.raises(TypeError):
        client.get(en("home"))


def test_log_cache_error_writes_once_a_minute_for_each_logger(caplog):
    first, second = logging.getLogger("test.first"), logging.getLogger("test.second")
    error = redis.exceptions.TimeoutError("Timeout reading from socket")
    with time_machine.travel(NOW, tick=False) as clock, caplog.at_level(logging.WARNING):
        assert degrade.log_cache_error(first, error) is True
        assert degrade.log_cache_error(second, error) is True
        clock.shift(timedelta(seconds=59))
        assert degrade.log_cache_error(first, error) is False
        clock.shift(timedelta(seconds=1))
        assert degrade.log_cache_error(first, error, what="limit kept per process") is True
    assert [r.name for r in caplog.records] == ["test.first", "test.second", "test.first"]
    assert "TimeoutError" in caplog.records[0].getMessage()
    last = caplog.records[2].getMessage()
    assert "limit kept per process" in last and "1 more failure(s)" in last


# --- With the real Redis the page cache still works -----------------------------------


def test_with_redis_up_the_second_visit_is_served_from_the_cache(client, real_redis):
    ConditionFactory(name_en="Neck pain", slug_en="neck-pain")
    url = en("conditions:condition", slug="neck-pain")
    first = client.get(url)
    second = client.get(url)
    assert (first.status_code, first["X-Page-Cache"]) == (200, "miss")
    assert (second.status_code, second["X-Page-Cache"]) == (200, "hit")
    assert second.content == first.content
