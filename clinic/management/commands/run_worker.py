"""Run a background worker for named queues, with leases, reclaiming and reconnecting.

Takes the options of django-tasks-db's `db_worker` (e.g. `--queue-name messages`);
see `clinic.worker` for what it adds.
"""

import logging
import os

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from clinic.worker import LeasedWorker

logger = logging.getLogger("clinic.worker")


class Command(DbWorkerCommand):
    help = (
        "Run a background worker for the given queues (e.g. --queue-name messages). Tasks "
        "left running by a dead worker are run again; a database outage is waited out."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        logger.setLevel(logging.getLogger("django_tasks_db").level)
        if not logger.hasHandlers():
            logger.addHandler(logging.StreamHandler(self.stdout))

        queue_names = [name.strip() for name in queue_name.split(",") if name.strip()]
        if exclude_queues or "*" in queue_names:
            raise CommandError("Name the queues this worker runs, e.g. --queue-name messages.")
        known = set(settings.TASKS[backend_name].get("QUEUES", []))
        if unknown := sorted(set(queue_names) - known):
            raise CommandError(
                f"Unknown queue {', '.join(unknown)}: the queues are {', '.join(sorted(known))}."
            )
        if reload and batch:
            reload = False

        worker = LeasedWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the reloaded child
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
