"""Task workers that survive being killed and database outages.

django-tasks-db's worker marks a task "running" and forgets it: when the worker dies
mid-task (kill -9, the out-of-memory killer, a lost machine) the task stays "running"
for ever, and when the database drops the worker exits. `LeasedWorker`, run by
`manage.py run_worker`, adds three things:

- **A lease with a heartbeat.** Claiming a task writes a `WorkerLease` row in the same
  transaction; while the task runs, a thread renews its `heartbeat_at` every quarter of
  `TASK_LEASE_SECONDS`. The lease lives in the database, so it holds across machines.
- **Reclaiming.** On start and every half lease, a worker looks for running tasks on
  its queues whose heartbeat is older than `TASK_LEASE_SECONDS` and puts them back in
  the queue, or marks them failed once they have been started `TASK_MAX_ATTEMPTS` times
  (a file that kills every worker that opens it must not kill them for ever).
- **Reconnecting.** A database error in the loop closes the connections, waits (1, 2,
  4 ... 30 s) and carries on; the worker never exits because the database went away.

A task can therefore run more than once (at least once, never zero times): tasks must
be safe to repeat, as `deliver_message` (a conditional claim on the message row) and
`process_upload` (it starts the upload over) are.
"""

import contextlib
import logging
import random
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.compat import TaskResultStatus, task_finished
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from clinic.models import WorkerLease

logger = logging.getLogger(__name__)

# What a dropped, restarting or unreachable database raises.
DATABASE_ERRORS = (OperationalError, InterfaceError)
MAX_OUTAGE_DELAY_SECONDS = 30


class WorkerLost(Exception):
    """The worker running a task stopped too often; the task is not tried again."""


def heartbeat_seconds() -> float:
    return max(settings.TASK_LEASE_SECONDS / 4, 0.2)


def reclaim_seconds() -> float:
    return max(settings.TASK_LEASE_SECONDS / 2, 0.5)


def outage_delay(failures: int) -> float:
    """1, 2, 4, 8 ... seconds after the 1st, 2nd, 3rd ... failure in a row, at most 30."""
    return float(min(2 ** (failures - 1), MAX_OUTAGE_DELAY_SECONDS))


def close_connections() -> None:
    """Drop this thread's database connections; the next query opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(*DATABASE_ERRORS):  # the connection is gone either way
            conn.close()


def claim_next(*, worker_id: str, queue_names: list[str], backend_name: str) -> DBTaskResult | None:
    """Mark the next ready task on the queues as running, with a fresh lease for this worker."""
    tasks = DBTaskResult.objects.ready().filter(
        backend_name=backend_name, queue_name__in=queue_names
    )
    with exclusive_transaction(tasks.db):
        try:
            task_result = tasks.get_locked()
        except OperationalError as error:
            if is_locked_database_exception(error):  # SQLite busy: try again next round
                return None
            raise
        if task_result is None:
            return None
        task_result.claim(worker_id)
        lease = WorkerLease.objects.filter(pk=task_result.pk).first()
        lease = lease or WorkerLease(task_result=task_result)
        lease.queue_name = task_result.queue_name
        lease.worker_id = worker_id
        lease.heartbeat_at = timezone.now()
        lease.attempts += 1
        lease.save()
    return task_result


def abandoned_tasks(*, queue_names: list[str], backend_name: str, now: datetime):
    """Running tasks on the queues whose worker has not beaten for a whole lease.

    A running task without any lease (claimed by a plain `db_worker`) counts as
    abandoned once it has run for a whole lease.
    """
    cutoff = now - timedelta(seconds=settings.TASK_LEASE_SECONDS)
    return DBTaskResult.objects.running().filter(
        Q(worker_lease__heartbeat_at__lt=cutoff)
        | Q(worker_lease__isnull=True, started_at__lt=cutoff),
        backend_name=backend_name,
        queue_name__in=queue_names,
    )


def reclaim_abandoned(
    *, queue_names: list[str], backend_name: str, now: datetime | None = None
) -> dict[str, list[str]]:
    """Put abandoned tasks back in their queue, or fail those started too often.

    Returns the ids of the tasks put back ("ready") and of those failed ("failed").
    """
    now = now or timezone.now()
    outcome: dict[str, list[str]] = {"ready": [], "failed": []}
    max_attempts = settings.TASK_MAX_ATTEMPTS
    with transaction.atomic():
        found = abandoned_tasks(queue_names=queue_names, backend_name=backend_name, now=now)
        for task_result in found.select_for_update(skip_locked=True, of=("self",)):
            lease = WorkerLease.objects.filter(pk=task_result.pk).first()
            runs = lease.attempts if lease else max(len(task_result.worker_ids), 1)
            if runs >= max_attempts:
                task_result.set_failed(
                    WorkerLost(
                        f"The worker running this task stopped {runs} times (killed, out of "
                        f"memory or lost) before it finished; it is not tried again "
                        f"(TASK_MAX_ATTEMPTS={max_attempts})."
                    )
                )
                WorkerLease.objects.filter(pk=task_result.pk).delete()
                _give_up(task_result)
                _announce_finished(task_result)
                logger.error(
                    "Task %s (%s) abandoned %s times: marked failed",
                    task_result.pk,
                    task_result.task_path,
                    runs,
                )
                outcome["failed"].append(str(task_result.pk))
                continue
            task_result.status = TaskResultStatus.READY
            task_result.save(update_fields=["status"])
            WorkerLease.objects.update_or_create(
                task_result=task_result,
                defaults={
                    "queue_name": task_result.queue_name,
                    "worker_id": "",
                    "heartbeat_at": now,
                    "attempts": runs,
                },
            )
            logger.warning(
                "Task %s (%s) abandoned by its worker after %s of %s runs: queued again",
                task_result.pk,
                task_result.task_path,
                runs,
                max_attempts,
            )
            outcome["ready"].append(str(task_result.pk))
    return outcome


def _give_up(task_result: DBTaskResult) -> None:
    """Call the task's give-up handler (settings.TASK_GIVE_UP_HANDLERS) with its arguments."""
    handler = getattr(settings, "TASK_GIVE_UP_HANDLERS", {}).get(task_result.task_path)
    if not handler:
        return
    arguments = task_result.args_kwargs or {}
    import_string(handler)(*arguments.get("args", []), **arguments.get("kwargs", {}))


def _announce_finished(task_result: DBTaskResult) -> None:
    """Send `task_finished`, as the worker does for a task that raised."""
    try:
        sender = type(task_result.task.get_backend())
        finished = task_result.task_result
    except (ImportError, SuspiciousOperation):  # the task's code is gone
        return
    task_finished.send(sender=sender, task_result=finished)


def beat(*, task_result_id, worker_id: str) -> bool:
    """Renew this worker's lease on a task; False when another worker has taken it over."""
    renewed = WorkerLease.objects.filter(pk=task_result_id, worker_id=worker_id).update(
        heartbeat_at=timezone.now()
    )
    return bool(renewed)


class Heartbeat:
    """A thread renewing a task's lease while the task runs (a context manager)."""

    def __init__(self, *, task_result_id, worker_id: str, interval: float):
        self.task_result_id = task_result_id
        self.worker_id = worker_id
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{task_result_id}", daemon=True
        )

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not beat(task_result_id=self.task_result_id, worker_id=self.worker_id):
                        logger.warning(
                            "Lease on task %s was taken over by another worker",
                            self.task_result_id,
                        )
                except DATABASE_ERRORS as error:
                    logger.warning("Heartbeat for task %s missed: %s", self.task_result_id, error)
                    close_connections()
        finally:
            connection.close()  # this thread's own connection


class LeasedWorker(Worker):
    """django-tasks-db's worker with leases, reclaiming and reconnecting (see the module)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outages = 0  # database failures in a row
        self._next_reclaim = 0.0

    def run(self) -> None:
        logger.info(
            "Starting worker worker_id=%s queues=%s lease=%ss",
            self.worker_id,
            ",".join(self.queue_names),
            settings.TASK_LEASE_SECONDS,
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 workers started together do not poll in step
        while self.running:
            try:
                task_result = self.run_once()
            except DATABASE_ERRORS as error:
                self.outages += 1
                delay = outage_delay(self.outages)
                logger.warning("Database unavailable (%s); trying again in %.0f s", error, delay)
                close_connections()
                time.sleep(delay)
                continue
            if self.outages:
                logger.info("Database reachable again after %s failed tries", self.outages)
                self.outages = 0
            if self.batch and task_result is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and task_result is None:
                time.sleep(self.interval)

    def run_once(self) -> DBTaskResult | None:
        """Reclaim when due, then claim and run one task; None when the queues are empty."""
        close_old_connections()
        if time.monotonic() >= self._next_reclaim:
            reclaim_abandoned(queue_names=self.queue_names, backend_name=self.backend_name)
            self._next_reclaim = time.monotonic() + reclaim_seconds()
        task_result = claim_next(
            worker_id=self.worker_id,
            queue_names=self.queue_names,
            backend_name=self.backend_name,
        )
        if task_result is not None:
            self.run_leased(task_result)
        return task_result

    def run_leased(self, task_result: DBTaskResult) -> None:
        with Heartbeat(
            task_result_id=task_result.pk, worker_id=self.worker_id, interval=heartbeat_seconds()
        ):
            self.run_task(task_result)
        # Finished (successful or failed): the lease has done its work.
        WorkerLease.objects.filter(pk=task_result.pk, worker_id=self.worker_id).delete()
