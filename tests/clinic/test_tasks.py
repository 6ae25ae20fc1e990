"""The capped retry helper for background tasks."""

import pytest
from django_tasks import task

from clinic.tasks import retry_delay, retry_later

calls: list[int] = []


@task()
def flaky(fail_times: int, attempt: int = 1) -> None:
    calls.append(attempt)
    try:
        if attempt <= fail_times:
            raise ConnectionError("SMTP server down")
    except ConnectionError as error:
        if not retry_later(flaky, fail_times, attempt=attempt, error=error):
            raise


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


def test_a_failing_task_is_retried_until_it_succeeds(settings):
    settings.TASK_MAX_ATTEMPTS = 5
    flaky.enqueue(2)
    assert calls == [1, 2, 3]


def test_retries_stop_at_the_cap(settings):
    settings.TASK_MAX_ATTEMPTS = 3
    result = flaky.enqueue(10)
    assert calls == [1, 2, 3]
    assert result.status.name == "SUCCESSFUL"  # the first run only re-enqueued


def test_retries_wait_longer_each_time_up_to_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay(20).total_seconds() == 3600


def test_deferring_backends_get_a_run_after(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import task_backends

    task_backends._settings = None  # re-read TASKS
    try:
        backend = task_backends["default"]
        if not backend.supports_defer:
            pytest.skip("the dummy backend cannot defer")
        retry_later(flaky, 1, attempt=1, error=ConnectionError("down"))
        (queued,) = backend.results
        assert queued.task.run_after is not None
    finally:
        task_backends._settings = None
