"""Running an upload's processing in a child process with hard limits.

A hostile file must fail only itself: a bomb that takes gigabytes, a decoder that
spins, a member that writes without end. So the worker never decodes patient files
itself. For each upload it starts ONE child process that works through the upload's
files in order (the members of a zipped CD, or the one file) and reports each file as
it begins and ends. The limits:

* set in the child by the kernel (resource.setrlimit): address space
  (IMAGING_CHILD_ADDRESS_SPACE_BYTES, virtual memory, so with headroom for what numpy
  and the codecs reserve without using), CPU seconds per file
  (IMAGING_CHILD_CPU_SECONDS, raised by the child before each file), the size of any
  file it writes (IMAGING_CHILD_WRITE_BYTES) and no core dumps (they would hold
  patient data);
* watched by the parent: the child's resident memory (IMAGING_CHILD_MEMORY_BYTES,
  polled with psutil) and the wall clock of each file (IMAGING_FILE_SECONDS).

When a child is killed or dies, the file it was on is refused ("too complex to process
safely") and a NEW child resumes at the next file. A child per file would spend most
of a 300-file CD importing numpy and pydicom, so children are forked from a
multiprocessing "forkserver" that has imported Django, numpy, pydicom and the codecs
once. The child never touches the database (a query raises): it sends its results
to the parent, which writes them, so nothing is half-written by a killed child.

The child gets the parent's current settings for imaging (names starting with
CHILD_SETTING_PREFIXES) and language, so tests and a reconfigured worker see what
they set.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
POLL_SECONDS = 0.05  # how often the parent looks at the child's memory and clock
CHILD_SETTING_PREFIXES = (
    "ZIP_",
    "DICOM_",
    "PDF_",
    "IMAGING_",
    "UPLOAD_",
    "FILE_UPLOAD_",
    "PRIVATE_STORAGE_ROOT",
)
# Imported once by the fork server, so each child starts with them loaded.
PRELOAD = [
    "booking.imaging.sandbox",  # sets Django up in the fork server (see _setup_in_fork_server)
    "numpy",
    "PIL.Image",
    "pydicom",
    "pydicom.pixels",
    "pypdfium2",
    "booking.imaging.processing",
]

# Why a child ended.
FINISHED = "finished"
MEMORY = "memory"  # resident memory past IMAGING_CHILD_MEMORY_BYTES
TIME = "time"  # a file took longer than IMAGING_FILE_SECONDS
DIED = "died"  # killed by a kernel limit (CPU, file size), crashed or exited with an error


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    address_space_bytes: int
    cpu_seconds: int
    file_seconds: float
    write_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            memory_bytes=int(settings.IMAGING_CHILD_MEMORY_BYTES),
            address_space_bytes=int(settings.IMAGING_CHILD_ADDRESS_SPACE_BYTES),
            cpu_seconds=int(settings.IMAGING_CHILD_CPU_SECONDS),
            file_seconds=float(settings.IMAGING_FILE_SECONDS),
            write_bytes=int(settings.IMAGING_CHILD_WRITE_BYTES),
        )


@dataclass
class ChildRun:
    """One child's life, for the logs, the tests and bench/hostile.py."""

    pid: int
    first: int  # the index it started at
    ended: str = FINISHED
    exitcode: int | None = None
    peak_rss: int = 0  # bytes, as polled by the parent
    files: int = 0  # files it began
    lost: tuple[int, str] | None = None  # (index, name) of the file it was killed on


@dataclass
class Report:
    runs: list[ChildRun] = field(default_factory=list)

    @property
    def peak_rss(self) -> int:
        return max((run.peak_rss for run in self.runs), default=0)


class Handler:
    """The parent's side: receives what the child sends, and hears of lost files."""

    def message(self, payload) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def file_lost(self, index: int, name: str, why: str) -> None:  # pragma: no cover
        """The child died on this file (why: MEMORY, TIME or DIED)."""
        raise NotImplementedError

    def rest_lost(self, next_index: int, why: str) -> None:  # pragma: no cover
        """A child died outside any file (e.g. reading the zip's index): nothing more is read."""
        raise NotImplementedError


# --- The child --------------------------------------------------------------------------


class Reporter:
    """Given to the child's entry function: tells the parent where it is and what it made."""

    def __init__(self, conn, limits: Limits):
        self.conn = conn
        self.limits = limits

    def plan(self, count: int) -> None:
        """How many files there are (indexes 0 .. count - 1)."""
        self.conn.send(("plan", count))

    def begin(self, index: int, name: str) -> None:
        _cpu_budget(self.limits.cpu_seconds)
        self.conn.send(("begin", index, name))

    def end(self, index: int) -> None:
        self.conn.send(("end", index))

    def send(self, payload) -> None:
        self.conn.send(("data", payload))


def _cpu_budget(seconds: int) -> None:
    """Allow `seconds` more CPU seconds from now (SIGXCPU, then SIGKILL, past them)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _set_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.write_bytes, limits.write_bytes))
    # The address space already reserved by the preloaded libraries counts too; never
    # set a limit the child is already past (it could not even report).
    current = _vm_size(os.getpid())
    address_space = max(limits.address_space_bytes, current + limits.memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    _cpu_budget(limits.cpu_seconds)


def _vm_size(pid: int) -> int:
    try:
        import psutil

        return psutil.Process(pid).memory_info().vms
    except Exception:  # pragma: no cover - psutil is a dependency
        return 0


def _no_database(execute, sql, params, many, context):
    raise RuntimeError("the imaging child never uses the database; send results to the parent")


def _watch_parent(parent_pid: int) -> None:
    """End the child when the worker that started it is gone (kill -9, out of memory)."""
    while True:
        time.sleep(1)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(3)
        except PermissionError:  # pragma: no cover - another user's pid now
            os._exit(3)


def _child_main(conn, entry: str, job: dict, start: int, limits: Limits, parent_pid: int):
    """The child process: limits, settings and language from the parent, then the entry."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when children end
    _set_limits(limits)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    import django

    django.setup()  # a no-op when the fork server did it
    from django.db import connections
    from django.utils import translation

    for name, value in job.get("settings", {}).items():
        setattr(settings, name, value)
    for connection in connections.all():
        connection.execute_wrappers.append(_no_database)
    translation.activate(job.get("language") or settings.LANGUAGE_CODE)
    module, _dot, function = entry.rpartition(".")
    target = getattr(importlib.import_module(module), function)
    target(job, start, Reporter(conn, limits))
    conn.send(("done",))
    conn.close()


def _setup_in_fork_server() -> None:
    """Imported by the fork server (PRELOAD) before Django is ready: set it up there once.

    In the worker itself Django is already set up when this module is imported.
    """
    if "multiprocessing.forkserver" not in sys.modules or not os.environ.get(
        "DJANGO_SETTINGS_MODULE"
    ):
        return
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


_setup_in_fork_server()


# --- The parent ---------------------------------------------------------------------------

_context = None


def context():
    """The forkserver context (spawn where forkserver does not exist)."""
    global _context
    if _context is None:
        methods = multiprocessing.get_all_start_methods()
        _context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            # One BLAS thread: the children decode one image at a time anyway.
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            _context.set_forkserver_preload(PRELOAD)
    return _context


def child_settings() -> dict:
    """The parent's current imaging settings, handed to each child."""
    values = {}
    for name in dir(settings):
        if name.isupper() and name.startswith(CHILD_SETTING_PREFIXES):
            values[name] = getattr(settings, name)
    return values


def resident_bytes(pid: int) -> int:
    """The process's resident memory (psutil; /proc as a fallback)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except ImportError:  # pragma: no cover - psutil is a dependency
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return 0
    except Exception:  # the process is gone
        return 0
    return 0


def run(
    entry: str,
    job: dict,
    handler: Handler,
    *,
    limits: Limits | None = None,
    between_children: Callable[[], None] | None = None,
) -> Report:
    """Run `entry(job, start, reporter)` in children until every file is decided.

    `entry` is the dotted path of a function (imported in the child). It calls
    reporter.plan(count) once it knows the files, reporter.begin(i, name) and
    reporter.end(i) around each file i (in increasing order, from `start`), and
    reporter.send(payload) for results, which reach handler.message(payload) in the
    parent. `between_children` runs after a child was killed (e.g. to empty its work
    folder). Returns what each child did.
    """
    limits = limits or Limits.from_settings()
    job = {**job, "settings": child_settings(), "language": _language()}
    report = Report()
    start = 0
    count = None
    while count is None or start < count:
        run_, next_start, count_seen = _one_child(entry, job, handler, start, limits)
        report.runs.append(run_)
        if count_seen is not None:
            count = count_seen
        if run_.ended == FINISHED:
            break
        logger.warning(
            "imaging child %s stopped (%s, exit %s) at file %s",
            run_.pid,
            run_.ended,
            run_.exitcode,
            run_.lost,
        )
        if between_children:
            between_children()
        if run_.lost is None:
            if count is not None and next_start >= count:
                break  # every file was decided before it died
            # Died outside a file: reading the index itself is too much. Stop here.
            handler.rest_lost(next_start, run_.ended)
            break
        start = next_start
    return report


def _language() -> str:
    from django.utils import translation

    return translation.get_language() or settings.LANGUAGE_CODE


def _one_child(entry: str, job: dict, handler: Handler, start: int, limits: Limits):
    """One child from `start`: returns (ChildRun, next index to start at, file count or None)."""
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child_main,
        args=(send, entry, job, start, limits, os.getpid()),
        name="imaging-child",
        daemon=True,
    )
    process.start()
    send.close()  # the parent keeps only its reading end: EOF when the child is gone
    child = ChildRun(pid=process.pid, first=start)
    current: tuple[int, str] | None = None
    began_at = time.monotonic()
    next_start = start
    count = None
    finished = False
    checked_at = 0.0
    try:
        while True:
            got = receive.poll(POLL_SECONDS)
            if got:
                try:
                    message = receive.recv()
                except (EOFError, OSError):
                    break  # the child is gone
                kind = message[0]
                if kind == "data":
                    handler.message(message[1])
                elif kind == "begin":
                    current = (message[1], message[2])
                    began_at = time.monotonic()
                    child.files += 1
                    next_start = message[1] + 1
                elif kind == "end":
                    current = None
                    next_start = message[1] + 1
                elif kind == "plan":
                    count = message[1]
                elif kind == "done":
                    finished = True
            now = time.monotonic()
            if got and now - checked_at < POLL_SECONDS:
                continue
            checked_at = now
            rss = resident_bytes(process.pid)
            child.peak_rss = max(child.peak_rss, rss)
            if rss > limits.memory_bytes:
                child.ended = MEMORY
            elif current is not None and now - began_at > limits.file_seconds:
                child.ended = TIME
            else:
                if not got and not process.is_alive() and not receive.poll(0):
                    break
                continue
            process.kill()
            break
    finally:
        process.join(5)
        if process.is_alive():  # pragma: no cover - SIGKILL is not ignored
            process.kill()
            process.join()
        receive.close()
    child.exitcode = process.exitcode
    if child.ended == FINISHED and not finished:
        child.ended = DIED
    if child.ended != FINISHED:
        child.lost = current
        if current is not None:
            handler.file_lost(current[0], current[1], child.ended)
    return child, next_start, count
