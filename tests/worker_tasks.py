"""Tasks for the worker tests only. Each run leaves a line in a file, so a test can see
runs made by a worker in another process (and a killed run that never finished)."""

import time
from pathlib import Path

from django_tasks import task


def _note(path: str, line: str) -> None:
    with Path(path).open("a") as trace:
        trace.write(line + "\n")


@task()
def sleep_and_note(path: str, seconds_by_run: list[float]) -> str:
    """Sleep as long as the list says for this run (the first, the second ...)."""
    trace = Path(path)
    runs_before = trace.read_text().split().count("started") if trace.exists() else 0
    _note(path, "started")
    time.sleep(seconds_by_run[min(runs_before, len(seconds_by_run) - 1)])
    _note(path, "done")
    return "done"


@task()
def note(path: str) -> str:
    _note(path, "ran")
    return "ran"
