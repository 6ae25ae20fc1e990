"""One migration for all the test processes.

Under pytest-xdist every process has a test database of its own, and pytest-django makes
each by running every migration again. Here the first process that needs a database
migrates one, with `manage.py migrate` as a deployment runs it, and each process starts
from a copy of it: PostgreSQL's CREATE DATABASE ... TEMPLATE, or a copy of the SQLite
file. Django's own `migrate` then runs on the copy and finds nothing left to apply. Every
migration, PostgreSQL's own steps included, still runs once in every test run.

A process that needs its copy after the first one has finished migrates the template again.
"""

import fcntl
import gc
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
STATE = "migrated-template.json"


@contextmanager
def _locked(shared: Path):
    """One process at a time: the template is made, copied and dropped under this lock."""
    with (shared / "migrated-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_state(shared: Path) -> dict:
    path = shared / STATE
    return json.loads(path.read_text()) if path.exists() else {}


def _write_state(shared: Path, state: dict) -> None:
    (shared / STATE).write_text(json.dumps(state))


def _migrate(database_url: str, log: Path) -> None:
    """`manage.py migrate` on the template, in a process of its own."""
    env = {**os.environ, "DATABASE_URL": database_url}
    with log.open("w") as output:
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"Migrating the test template failed:\n{log.read_text()[-5000:]}")


def _template_url(template: str) -> str:
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path=f"/{template}").geturl()


def copy_migrated_database(connection, shared: Path, run_id: str) -> str | None:
    """Make this process's test database a copy of the migrated template.

    Returns the test database's name, or None where this does not apply (another database
    engine); Django is then left to make the test database itself.
    """
    settings_dict = connection.settings_dict
    test_name = connection.creation._get_test_db_name()
    if connection.vendor == "postgresql":
        template = f"test_{settings_dict['NAME']}_migrated_{run_id[:8]}"
    elif connection.vendor == "sqlite" and not connection.creation.is_in_memory_db(test_name):
        template = str(shared / "migrated.sqlite3")
    else:
        return None
    with _locked(shared):
        state = _read_state(shared)
        if not state.get("ready"):
            _make_template(connection, template, shared)
            state = {"template": template, "ready": True, "owner": os.getpid()}
            _write_state(shared, state)
        if connection.vendor == "postgresql":
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}"')
                cursor.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
        else:
            for leftover in (test_name, f"{test_name}-wal", f"{test_name}-shm"):
                Path(leftover).unlink(missing_ok=True)
            source, target = sqlite3.connect(template), sqlite3.connect(test_name)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
    return test_name


def _make_template(connection, template: str, shared: Path) -> None:
    log = shared / "migrated-template.log"
    if connection.vendor == "postgresql":
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{template}"')
            cursor.execute(f'CREATE DATABASE "{template}"')
        try:
            _migrate(_template_url(template), log)
        except BaseException:
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{template}"')
            raise
    else:
        Path(template).unlink(missing_ok=True)
        _migrate(f"sqlite:///{template}", log)


def drop_template(connection, shared: Path) -> None:
    """The process that made the template drops it when it ends (PostgreSQL)."""
    with _locked(shared):
        state = _read_state(shared)
        if not state.get("ready") or state.get("owner") != os.getpid():
            return
        if connection.vendor == "postgresql":
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{state["template"]}"')
        _write_state(shared, {"ready": False})


def destroy_copy(connection, original_name: str) -> None:
    """Drop this process's test database, as pytest-django would have.

    A connection a test opened in a thread of its own may still be open until it is
    garbage-collected; PostgreSQL refuses to drop a database anyone is connected to.
    """
    gc.collect()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
