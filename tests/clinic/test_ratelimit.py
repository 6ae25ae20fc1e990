"""clinic.ratelimit: counted first and atomically, per window, and never a failed
request when the cache is down (a per-process count instead, logged once a minute)."""

import logging
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import caches

from clinic import ratelimit

THREADS = 20
# A cache address where nothing listens: every cache call raises ConnectionError.
REFUSING_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
# The top of an hour, so that a test's few minutes stay in one hourly window.
HOUR = datetime(2026, 5, 4, 9, 0, 5, tzinfo=UTC)


def locmem(name: str) -> dict:
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    }


@pytest.fixture(autouse=True)
def fresh_memory():
    ratelimit.reset_memory()
    yield
    ratelimit.reset_memory()


@pytest.fixture
def own_cache(settings):
    # Not the shared file cache: another test run's clear() could wipe a count mid-test.
    settings.CACHES = locmem("ratelimit-test")
    caches["default"].clear()


def allow(key="192.0.2.1", *, scope="test", limit=3, seconds=3600) -> bool:
    return ratelimit.allow(scope, key, limit=limit, seconds=seconds)


def test_the_limit_is_counted_per_key_and_scope(own_cache):
    with time_machine.travel(HOUR, tick=False):
        assert [allow() for _ in range(4)] == [True, True, True, False]
        assert allow() is False  # refused attempts count too: still refused
        assert allow("192.0.2.2")
        assert allow(scope="other")


def test_a_limit_of_zero_refuses_the_first(own_cache):
    assert allow(limit=0) is False


def test_a_new_window_starts_a_new_count(own_cache):
    with time_machine.travel(HOUR, tick=False) as traveller:
        assert [allow(seconds=600) for _ in range(4)] == [True, True, True, False]
        traveller.move_to(HOUR + timedelta(seconds=594))  # 09:09:59, the same window
        assert allow(seconds=600) is False
        traveller.move_to(HOUR + timedelta(seconds=595))  # 09:10:00
        assert allow(seconds=600) is True


def test_the_count_outlives_the_cache_default_timeout(settings, tmp_path):
    # The file cache's incr() stores with the default timeout (300 s): the count
    # must still hold for the whole hour.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with time_machine.travel(HOUR, tick=False) as traveller:
        assert [allow(limit=1) for _ in range(2)] == [True, False]
        traveller.shift(timedelta(minutes=30))
        assert allow(limit=1) is False


def cache_configs(tmp_path) -> dict[str, dict]:
    configs = {
        "locmem": locmem("ratelimit-threads"),
        "file": {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        },
    }
    if os.environ.get("REDIS_URL"):
        configs["redis"] = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                # This process's own database (clinic/settings/test.py): the test clears it.
                "LOCATION": django_settings.CACHES["default"]["LOCATION"],
                "KEY_PREFIX": f"ratelimit-test-{os.getpid()}",
            }
        }
    return configs


@pytest.mark.parametrize("backend", ["locmem", "file", "redis"])
def test_simultaneous_attempts_let_exactly_the_limit_through(settings, tmp_path, backend):
    configs = cache_configs(tmp_path)
    if backend not in configs:
        pytest.skip("REDIS_URL is not set")
    settings.CACHES = configs[backend]
    caches["default"].clear()
    key = f"198.51.100.{os.getpid() % 250}"
    barrier = threading.Barrier(THREADS)
    results = []

    def attempt():
        barrier.wait(timeout=30)
        results.append(allow(key, scope="threads", limit=5))

    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    caches["default"].clear()
    assert len(results) == THREADS
    assert results.count(True) == 5


def test_a_refusing_cache_falls_back_to_a_per_process_count(settings, caplog):
    settings.CACHES = REFUSING_REDIS
    with time_machine.travel(HOUR, tick=False):
        assert [allow(limit=2) for _ in range(3)] == [True, True, False]
        assert allow("192.0.2.2", limit=2)


def test_the_cache_error_is_logged_at_most_once_a_minute(settings, caplog):
    settings.CACHES = REFUSING_REDIS
    caplog.set_level(logging.WARNING, logger="clinic.ratelimit")
    with time_machine.travel(HOUR, tick=False) as traveller:
        for _ in range(5):
            allow(limit=100)
        assert len(caplog.records) == 1
        assert "ConnectionError" in caplog.records[0].getMessage()
        traveller.shift(timedelta(seconds=59))
        allow(limit=100)
        assert len(caplog.records) == 1
        traveller.shift(timedelta(seconds=1))
        allow(limit=100)
        assert len(caplog.records) == 2


def test_counts_go_back_to_the_cache_when_it_answers_again(settings):
    settings.CACHES = REFUSING_REDIS
    with time_machine.travel(HOUR, tick=False):
        assert allow(limit=1) is True
        settings.CACHES = locmem("ratelimit-back")
        caches["default"].clear()
        assert [allow(limit=1) for _ in range(2)] == [True, False]
