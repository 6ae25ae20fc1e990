"""Background work on Django's tasks API, with capped retries.

The tasks API runs a task once. `retry_later` re-enqueues a failed task with a
growing delay (`run_after`) until `TASK_MAX_ATTEMPTS`, then lets the error stand
so it shows as failed in the admin's task list.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task_backends

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> timedelta:
    """1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** (attempt - 1), 60))


def retry_later(task, *args, attempt: int, error: Exception, **kwargs) -> bool:
    """Enqueue `task` again for attempt `attempt + 1`; False when attempts are used up.

    The task must accept an `attempt` keyword argument and pass it back here.
    Call it from the task's `except` block and re-raise when it returns False.
    """
    max_attempts = settings.TASK_MAX_ATTEMPTS
    if attempt >= max_attempts:
        logger.error("%s failed for good after %s attempts: %s", task.name, attempt, error)
        return False
    logger.warning("%s failed (attempt %s of %s): %s", task.name, attempt, max_attempts, error)
    backend = task_backends[task.backend]
    if backend.supports_defer:
        task = task.using(run_after=timezone.now() + retry_delay(attempt))
    task.enqueue(*args, attempt=attempt + 1, **kwargs)
    return True
