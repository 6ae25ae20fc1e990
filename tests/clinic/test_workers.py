"""Task workers: one queue per kind of work, leases that outlive a dead worker, outages."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus, task_finished
from django_tasks_db.models import DBTaskResult

from booking.imaging.processing import process_upload
from booking.outbox import deliver_message
from clinic import worker as worker_module
from clinic.models import WorkerLease
from clinic.worker import Heartbeat, LeasedWorker, beat, claim_next, outage_delay, reclaim_abandoned
from testimonials.tasks import notify_staff_of_testimonial
from tests.worker_tasks import note, sleep_and_note

ROOT = Path(__file__).resolve().parents[2]
heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")


def db_backend() -> DatabaseBackend:
    """The production backend (the test settings run tasks immediately)."""
    return DatabaseBackend("default", {"QUEUES": settings.TASK_QUEUES})


def enqueue(task, *args) -> DBTaskResult:
    result = db_backend().enqueue(task, args, {})
    return DBTaskResult.objects.get(pk=result.id)


@pytest.fixture
def in_test_transaction():
    """Keep the connection the worker would close: inside a test it holds the test's data."""
    with mock.patch.object(worker_module, "close_old_connections"):
        yield


def new_worker(*queue_names, **options) -> LeasedWorker:
    return LeasedWorker(
        **{
            "queue_names": list(queue_names),
            "interval": 0,
            "batch": True,
            "backend_name": "default",
            "startup_delay": False,
            "max_tasks": None,
            "worker_id": "test-worker",
            "excluded_queue_names": [],
            **options,
        }
    )


# --- Queues --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "task, queue",
    [
        (deliver_message, "messages"),
        (notify_staff_of_testimonial, "messages"),
        (process_upload, "imaging"),
    ],
)
def test_each_task_is_enqueued_on_its_own_queue(task, queue):
    stored = enqueue(task, 1)
    assert stored.queue_name == queue
    assert queue in settings.TASKS["default"]["QUEUES"]


def test_make_run_starts_a_worker_for_each_queue():
    makefile = (ROOT / "Makefile").read_text()
    run_target = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "run_worker --queue-name messages" in run_target
    assert "run_worker --queue-name imaging" in run_target
    assert "db_worker" not in run_target


@pytest.mark.django_db
def test_a_worker_claims_only_from_its_own_queues():
    imaging = enqueue(process_upload, 1)
    message = enqueue(deliver_message, 1)
    claimed = claim_next(worker_id="w1", queue_names=["messages"], backend_name="default")
    assert claimed.pk == message.pk
    assert claim_next(worker_id="w1", queue_names=["messages"], backend_name="default") is None
    imaging.refresh_from_db()
    assert imaging.status == TaskResultStatus.READY


def test_run_worker_refuses_an_unknown_queue(settings):
    from django.core.management import CommandError, call_command

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}
    }
    with pytest.raises(CommandError, match="Unknown queue"):
        call_command("run_worker", "--queue-name", "mesages", "--batch", "--no-reload")


# --- Leases ----------------------------------------------------------------------


@pytest.mark.django_db
def test_claiming_a_task_takes_a_lease_and_counts_the_run():
    stored = enqueue(note, "unused")
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        claimed = claim_next(worker_id="w1", queue_names=["default"], backend_name="default")
    assert claimed.pk == stored.pk
    assert claimed.status == TaskResultStatus.RUNNING
    lease = WorkerLease.objects.get(pk=stored.pk)
    assert (lease.worker_id, lease.queue_name, lease.attempts) == ("w1", "default", 1)
    assert lease.heartbeat_at.isoformat() == "2026-03-02T10:00:00+00:00"


@pytest.mark.django_db
def test_a_heartbeat_renews_only_the_holders_lease():
    stored = enqueue(note, "unused")
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        claim_next(worker_id="w1", queue_names=["default"], backend_name="default")
    with time_machine.travel("2026-03-02 10:01:00+00:00", tick=False):
        assert beat(task_result_id=stored.pk, worker_id="w1")
        assert not beat(task_result_id=stored.pk, worker_id="someone-else")
    lease = WorkerLease.objects.get(pk=stored.pk)
    assert lease.heartbeat_at.isoformat() == "2026-03-02T10:01:00+00:00"


@pytest.mark.django_db(transaction=True)  # the heartbeat thread has its own connection
def test_a_running_task_keeps_its_lease_fresh():
    stored = enqueue(note, "unused")
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        claim_next(worker_id="w1", queue_names=["default"], backend_name="default")
    with Heartbeat(task_result_id=stored.pk, worker_id="w1", interval=0.05):
        time.sleep(0.4)  # the task runs
    beaten_at = WorkerLease.objects.get(pk=stored.pk).heartbeat_at
    assert beaten_at > timezone.now() - timedelta(seconds=5)
    with Heartbeat(task_result_id=stored.pk, worker_id="someone-else", interval=0.05):
        time.sleep(0.2)
    assert WorkerLease.objects.get(pk=stored.pk).heartbeat_at == beaten_at


def claimed_at(moment: str, task=note, queue="default", worker_id="w1") -> DBTaskResult:
    stored = enqueue(task, "unused") if task is note else enqueue(task, 1)
    with time_machine.travel(moment, tick=False):
        claim_next(worker_id=worker_id, queue_names=[queue], backend_name="default")
    stored.refresh_from_db()
    return stored


@pytest.mark.django_db
def test_a_task_whose_heartbeat_stopped_is_queued_again(settings):
    settings.TASK_LEASE_SECONDS = 120
    settings.TASK_MAX_ATTEMPTS = 3
    stored = claimed_at("2026-03-02 10:00:00+00:00")
    now = timezone.datetime.fromisoformat("2026-03-02 10:02:00+00:00")

    # Exactly one lease old: the worker may still beat.
    assert reclaim_abandoned(queue_names=["default"], backend_name="default", now=now) == {
        "ready": [],
        "failed": [],
    }
    stored.refresh_from_db()
    assert stored.status == TaskResultStatus.RUNNING

    later = now + timedelta(seconds=1)
    outcome = reclaim_abandoned(queue_names=["default"], backend_name="default", now=later)
    assert outcome == {"ready": [str(stored.pk)], "failed": []}
    stored.refresh_from_db()
    assert stored.status == TaskResultStatus.READY
    lease = WorkerLease.objects.get(pk=stored.pk)
    assert (lease.worker_id, lease.attempts) == ("", 1)

    # The next claim is the second run.
    with time_machine.travel(later, tick=False):
        claim_next(worker_id="w2", queue_names=["default"], backend_name="default")
    assert WorkerLease.objects.get(pk=stored.pk).attempts == 2


@pytest.mark.django_db
def test_reclaiming_leaves_other_queues_and_live_workers_alone(settings):
    settings.TASK_LEASE_SECONDS = 120
    imaging = claimed_at("2026-03-02 10:00:00+00:00", task=process_upload, queue="imaging")
    live = claimed_at("2026-03-02 10:00:00+00:00")
    with time_machine.travel("2026-03-02 10:05:00+00:00", tick=False):
        beat(task_result_id=live.pk, worker_id="w1")
    now = timezone.datetime.fromisoformat("2026-03-02 10:06:00+00:00")
    outcome = reclaim_abandoned(queue_names=["default"], backend_name="default", now=now)
    assert outcome == {"ready": [], "failed": []}
    outcome = reclaim_abandoned(queue_names=["imaging"], backend_name="default", now=now)
    assert outcome == {"ready": [str(imaging.pk)], "failed": []}


@pytest.mark.django_db
def test_a_task_abandoned_too_often_is_failed_with_a_clear_error(settings):
    settings.TASK_LEASE_SECONDS = 120
    settings.TASK_MAX_ATTEMPTS = 2
    stored = claimed_at("2026-03-02 10:00:00+00:00")
    reclaim_abandoned(
        queue_names=["default"],
        backend_name="default",
        now=timezone.datetime.fromisoformat("2026-03-02 10:03:00+00:00"),
    )
    claimed_at_again = "2026-03-02 10:04:00+00:00"
    with time_machine.travel(claimed_at_again, tick=False):
        claim_next(worker_id="w2", queue_names=["default"], backend_name="default")

    finished = []

    def on_finished(sender, task_result, **kwargs):
        finished.append((task_result.id, task_result.status))

    task_finished.connect(on_finished)
    try:
        outcome = reclaim_abandoned(
            queue_names=["default"],
            backend_name="default",
            now=timezone.datetime.fromisoformat("2026-03-02 10:07:00+00:00"),
        )
    finally:
        task_finished.disconnect(on_finished)
    assert outcome == {"ready": [], "failed": [str(stored.pk)]}
    assert finished == [(str(stored.pk), TaskResultStatus.FAILED)]
    stored.refresh_from_db()
    assert stored.status == TaskResultStatus.FAILED
    assert stored.exception_class_path == "clinic.worker.WorkerLost"
    assert "stopped 2 times" in stored.traceback
    assert not WorkerLease.objects.filter(pk=stored.pk).exists()


@pytest.mark.django_db
def test_an_upload_whose_worker_kept_dying_is_refused_not_left_waiting(settings):
    """The give-up handler of process_upload runs with the task's own arguments."""
    from booking.models import Upload
    from tests.booking.factories import BookingFactory

    settings.TASK_LEASE_SECONDS = 120
    settings.TASK_MAX_ATTEMPTS = 1
    upload = Upload.objects.create(
        booking=BookingFactory(), file="x.dcm", original_name="CT.dcm", size=1, kind="dicom"
    )
    other = Upload.objects.create(
        booking=upload.booking, file="y.dcm", original_name="MR.dcm", size=1, kind="dicom"
    )
    stored = enqueue(process_upload, upload.pk)
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        claim_next(worker_id="w1", queue_names=["imaging"], backend_name="default")
    outcome = reclaim_abandoned(
        queue_names=["imaging"],
        backend_name="default",
        now=timezone.datetime.fromisoformat("2026-03-02 10:03:00+00:00"),
    )
    assert outcome == {"ready": [], "failed": [str(stored.pk)]}
    upload.refresh_from_db()
    other.refresh_from_db()
    assert upload.processing == Upload.Processing.REFUSED
    assert "could not be processed after several tries" in upload.processing_note
    assert upload.notes[0]["msg"].startswith("the file could not be processed")
    assert other.processing == Upload.Processing.PENDING  # only the task's own upload


@pytest.mark.django_db
def test_an_upload_whose_processing_failed_every_time_is_refused(settings, monkeypatch):
    from booking.imaging import processing
    from booking.models import Upload
    from tests.booking.factories import BookingFactory

    settings.TASK_MAX_ATTEMPTS = 3
    upload = Upload.objects.create(
        booking=BookingFactory(), file="x.dcm", original_name="CT.dcm", size=1, kind="dicom"
    )

    def disk_trouble(upload_id):
        raise OSError("disk full")

    monkeypatch.setattr(processing, "run_processing", disk_trouble)
    monkeypatch.setattr(processing, "retry_later", lambda *a, attempt, **k: attempt < 3)
    processing.process_upload.call(upload.pk, attempt=2)  # queued again: still waiting
    upload.refresh_from_db()
    assert upload.processing == Upload.Processing.PENDING
    with pytest.raises(OSError):
        processing.process_upload.call(upload.pk, attempt=3)
    upload.refresh_from_db()
    assert upload.processing == Upload.Processing.REFUSED


@pytest.mark.django_db
def test_a_task_left_running_by_a_plain_worker_is_reclaimed(settings):
    settings.TASK_LEASE_SECONDS = 120
    stored = enqueue(note, "unused")
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        stored.claim("old-db-worker")  # no lease
    outcome = reclaim_abandoned(
        queue_names=["default"],
        backend_name="default",
        now=timezone.datetime.fromisoformat("2026-03-02 10:01:00+00:00"),
    )
    assert outcome["ready"] == []
    outcome = reclaim_abandoned(
        queue_names=["default"],
        backend_name="default",
        now=timezone.datetime.fromisoformat("2026-03-02 10:02:01+00:00"),
    )
    assert outcome["ready"] == [str(stored.pk)]


@pytest.mark.django_db
def test_a_finished_task_gives_up_its_lease(tmp_path, in_test_transaction):
    trace = tmp_path / "trace"
    stored = enqueue(note, str(trace))
    new_worker("default").run()
    stored.refresh_from_db()
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert trace.read_text() == "ran\n"
    assert not WorkerLease.objects.exists()


# --- Outages ---------------------------------------------------------------------


def test_outage_waits_grow_to_half_a_minute():
    assert [outage_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 20)] == [1, 2, 4, 8, 16, 30, 30, 30]


@pytest.mark.django_db
def test_the_worker_waits_out_database_errors_and_carries_on(tmp_path, in_test_transaction):
    trace = tmp_path / "trace"
    stored = enqueue(note, str(trace))
    real_claim = worker_module.claim_next
    failures = [OperationalError("server closed the connection"), OperationalError("refused")]

    def flaky_claim(**kwargs):
        if failures:
            raise failures.pop(0)
        return real_claim(**kwargs)

    with (
        mock.patch.object(worker_module, "claim_next", flaky_claim),
        mock.patch.object(worker_module, "close_connections") as close,
        mock.patch.object(worker_module.time, "sleep") as sleep,
    ):
        worker = new_worker("default")
        worker.run()

    stored.refresh_from_db()
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert [call.args[0] for call in sleep.call_args_list] == [1.0, 2.0]
    assert close.call_count == 2
    assert worker.outages == 0


# --- Real worker processes (PostgreSQL) -----------------------------------------------


def worker_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}?application_name=clinic-test-worker"
    )


class WorkerProcesses:
    """`manage.py run_worker` subprocesses on the test database, all ended at teardown."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []

    def start(self, lease_seconds: int = 2) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings.base",
            "DEBUG": "1",
            "VAR_DIR": str(self.tmp_path / "var"),
            "DATABASE_URL": worker_database_url(),
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "TASK_LEASE_SECONDS": str(lease_seconds),
            "TASK_MAX_ATTEMPTS": "3",
        }
        log_path = self.tmp_path / f"worker-{len(self.started)}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--queue-name", "default"]
            + ["--no-reload", "--no-startup-delay", "--interval", "0.2", "-v", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log_path
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path):
    processes = WorkerProcesses(tmp_path)
    yield processes
    processes.stop_all()


def wait_for(condition, timeout: float, message: str):
    """Poll until `condition` is true; the timeouts are generous because a worker process
    starting beside browser tests on a small machine can take many seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(message)


def status_of(stored: DBTaskResult) -> str:
    return DBTaskResult.objects.values_list("status", flat=True).get(pk=stored.pk)


@heavy
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_was_killed_completes_after_a_restart(workers, tmp_path):
    trace = tmp_path / "trace"
    first = workers.start()
    stored = enqueue(sleep_and_note, str(trace), [30, 0.5])  # the first run hangs
    wait_for(
        lambda: trace.exists() and "started" in trace.read_text(),
        30,
        "the first worker never started the task:\n" + workers.logs(),
    )

    # While the first worker lives, its heartbeat keeps the task from the second,
    # though the task has run longer than a lease.
    second = workers.start()
    wait_for(
        lambda: "Starting worker" in second.log_path.read_text(),
        30,
        "the second worker never started:\n" + workers.logs(),
    )
    time.sleep(2.5)  # the second worker looks for abandoned tasks every second
    assert trace.read_text().split() == ["started"]

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=5)
    assert status_of(stored) == TaskResultStatus.RUNNING  # left behind by the dead worker
    wait_for(
        lambda: status_of(stored) == TaskResultStatus.SUCCESSFUL,
        30,
        "the task never completed after its worker died:\n" + workers.logs(),
    )
    assert trace.read_text().split() == ["started", "started", "done"]
    stored.refresh_from_db()
    assert len(stored.worker_ids) == 2 and stored.worker_ids[0] != stored.worker_ids[1]
    # The worker lets go of the lease just after it records the result.
    wait_for(
        lambda: not WorkerLease.objects.filter(pk=stored.pk).exists(),
        15,
        "the finished task's lease was never released:\n" + workers.logs(),
    )


@heavy
@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_a_database_outage(workers, tmp_path):
    process = workers.start()
    before = enqueue(note, str(tmp_path / "before"))
    wait_for(
        lambda: status_of(before) == TaskResultStatus.SUCCESSFUL,
        30,
        "the worker never ran the first task:\n" + workers.logs(),
    )
    db = connection.settings_dict
    admin = psycopg.connect(  # ALTER DATABASE must run from another database
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    )
    with admin, admin.cursor() as cursor:
        try:
            # The database refuses new connections and drops the worker's.
            cursor.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS false')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'clinic-test-worker'"
            )
            assert cursor.fetchall(), "the worker had no connection to drop"
            time.sleep(2.5)  # the worker meets the outage at least once
        finally:
            cursor.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS true')
    assert process.poll() is None, "the worker exited:\n" + workers.logs()
    assert "Database unavailable" in workers.logs()

    after = enqueue(note, str(tmp_path / "after"))
    wait_for(
        lambda: status_of(after) == TaskResultStatus.SUCCESSFUL,
        30,
        "the worker never ran a task after the outage:\n" + workers.logs(),
    )
