"""The release step and the deploy recipe (deploy/, Dockerfile, compose.yaml).

`manage.py release` migrates once even when several machines start together; the
systemd units start only commands that exist, with options they accept; the compose
file is valid where a compose tool is installed.
"""

import configparser
import importlib.util
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class
from django.db import connection
from gunicorn.config import Config as GunicornConfig

from clinic.management.commands import release
from clinic.management.commands.release import RELEASE_LOCK_KEY

ROOT = Path(__file__).resolve().parents[2]
heavy = pytest.mark.skipif(connection.vendor != "postgresql", reason="heavy: PostgreSQL pass only")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def connect(dbname: str) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=dbname,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
        autocommit=True,
    )


def database_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{dbname}?application_name=clinic-test-release"
    )


@pytest.fixture
def fresh_database():
    """An empty database of its own, dropped after the test."""
    name = f"clinic_release_{uuid.uuid4().hex[:12]}"
    with connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_release(dbname: str, tmp_path: Path, number: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.base",
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url(dbname),
    }
    log_path = tmp_path / f"release-{number}.log"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "release"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    process.log_path = log_path
    return process


def wait_for(condition, timeout: float, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(message())


def migrated(db: psycopg.Connection) -> int:
    """How many migrations the database records as applied (0 before the first)."""
    if db.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
        return 0
    return db.execute("SELECT count(*) FROM django_migrations").fetchone()[0]


def waiting_for_the_release_lock(db: psycopg.Connection) -> bool:
    return db.execute(
        "SELECT exists(SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND (classid::bigint << 32) | objid::bigint = %s)",
        [RELEASE_LOCK_KEY],
    ).fetchone()[0]


@heavy
def test_a_release_waits_for_the_lock_then_migrates(fresh_database, tmp_path):
    with connect(fresh_database) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [RELEASE_LOCK_KEY])
        process = start_release(fresh_database, tmp_path, 1)
        try:
            wait_for(
                lambda: waiting_for_the_release_lock(holder) or process.poll() is not None,
                60,
                lambda: "the release never asked for the lock:\n" + process.log_path.read_text(),
            )
            assert process.poll() is None, process.log_path.read_text()
            assert migrated(holder) == 0
            holder.execute("SELECT pg_advisory_unlock(%s)", [RELEASE_LOCK_KEY])
            assert process.wait(timeout=180) == 0, process.log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        log = process.log_path.read_text()
        assert "Another release is running; waiting for it to finish." in log
        assert "Applying clinic.0001_initial... OK" in log
        assert migrated(holder) > 0
        # Nothing holds the lock once the release is over.
        assert holder.execute("SELECT pg_try_advisory_lock(%s)", [RELEASE_LOCK_KEY]).fetchone()[0]


@heavy
def test_two_releases_started_together_both_succeed_and_migrate_once(fresh_database, tmp_path):
    processes = [start_release(fresh_database, tmp_path, number) for number in (1, 2)]
    try:
        codes = [process.wait(timeout=240) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = [process.log_path.read_text() for process in processes]
    assert codes == [0, 0], "\n\n".join(logs)
    applied = [log for log in logs if "Applying clinic.0001_initial... OK" in log]
    nothing = [log for log in logs if "No migrations to apply." in log]
    assert len(applied) == 1 and len(nothing) == 1, "\n\n".join(logs)
    with connect(fresh_database) as db:
        names = db.execute("SELECT app, name FROM django_migrations").fetchall()
    assert len(names) == len(set(names))


@pytest.mark.django_db
def test_a_release_on_a_migrated_database_has_nothing_to_do():
    out = io.StringIO()
    call_command("release", stdout=out)
    assert "No migrations to apply." in out.getvalue()
    assert "Release step done." in out.getvalue()


@postgresql_only
@pytest.mark.django_db
def test_the_lock_is_let_go_when_the_migration_fails():
    def failing_migrate(name, **options):
        assert name == "migrate"
        raise RuntimeError("migration failed")

    with (
        mock.patch.object(release, "call_command", failing_migrate),
        pytest.raises(RuntimeError, match="migration failed"),
    ):
        call_command("release", stdout=io.StringIO())
    with connect(settings.DATABASES["default"]["NAME"]) as other:
        taken = other.execute("SELECT pg_try_advisory_lock(%s)", [RELEASE_LOCK_KEY]).fetchone()[0]
        assert taken, "the failed release still holds the lock"
        other.execute("SELECT pg_advisory_unlock(%s)", [RELEASE_LOCK_KEY])


# --- The deploy recipe -------------------------------------------------------------

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(path)
    return parser


def example_environment() -> dict[str, str]:
    lines = (ROOT / "deploy" / "clinic.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def test_there_is_a_unit_for_every_process():
    names = {path.stem for path in UNITS}
    assert names == {
        "clinic-release",
        "clinic-web",
        "clinic-worker-messages",
        "clinic-worker-imaging",
        "clinic-messages",
    }


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_each_unit_starts_a_command_that_exists_with_options_it_accepts(path, settings):
    # The workers check their backend and queues against the production task backend.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}
    }
    service = unit(path)["Service"]
    environment = example_environment()
    assert service["EnvironmentFile"] == "/etc/clinic/env"
    # systemd replaces ${NAME} from the environment file.
    command = shlex.split(service["ExecStart"].replace("${GUNICORN_BIND}", "10.0.0.11:8000"))
    program, *args = command
    assert program.startswith(service["WorkingDirectory"] + "/.venv/bin/")
    if program.endswith("/gunicorn"):
        options = GunicornConfig().parser().parse_args(args)
        module = options.args[0]
        assert importlib.util.find_spec(module) is not None, module
        assert options.bind == [environment["GUNICORN_BIND"]]
    else:
        assert program.endswith("/python") and args[0] == "manage.py"
        name, *arguments = args[1:]
        app = get_commands().get(name)
        assert app is not None, f"no manage.py command {name!r}"
        load_command_class(app, name).create_parser("manage.py", name).parse_args(arguments)


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_everything_but_the_release_waits_for_it(path):
    sections = unit(path)
    if path.stem == "clinic-release":
        assert sections["Service"]["Type"] == "oneshot"
        assert sections["Service"]["RemainAfterExit"] == "yes"
        return
    assert "clinic-release.service" in sections["Unit"]["Requires"].split()
    assert "clinic-release.service" in sections["Unit"]["After"].split()
    assert sections["Service"]["Restart"] == "always"


def test_the_example_environment_holds_no_secret():
    environment = example_environment()
    for name in ("SECRET_KEY", "S3_SECRET_ACCESS_KEY", "HEALTH_TOKEN", "EMAIL_HOST_PASSWORD"):
        assert environment[name].startswith("change-me"), name
    assert ":change-me@" in environment["DATABASE_URL"]


def compose_command() -> list[str] | None:
    """`docker compose`, else `docker-compose`: whichever answers here."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for candidate in candidates:
        probe = subprocess.run([*candidate, "version"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return candidate
    return None


def test_the_compose_file_is_valid():
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    env = {**os.environ, "SECRET_KEY": "compose-config-check-only"}
    checked = subprocess.run(
        [*command, "-f", "compose.yaml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    services = checked.stdout.split("\nservices:\n", 1)[-1]
    for name in ("web:", "worker-imaging:", "worker-messages:", "messages:", "release:"):
        assert f"\n  {name}\n" in "\n" + services, name
    # Without a key the file refuses to start anything.
    del env["SECRET_KEY"]
    refused = subprocess.run(
        [*command, "-f", "compose.yaml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "Set SECRET_KEY" in refused.stdout + refused.stderr


def bucket_script():
    spec = importlib.util.spec_from_file_location(
        "create_buckets", ROOT / "deploy" / "create_buckets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@heavy
def test_the_bucket_script_makes_an_open_public_and_an_encrypted_private_bucket(s3_endpoint):
    from tests import s3

    suffix = uuid.uuid4().hex[:8]
    env = {
        **s3.environment(s3_endpoint, f"public-{suffix}", f"private-{suffix}"),
        "S3_PRIVATE_ENCRYPTION": "AES256",
    }
    script = bucket_script()
    assert script.create_buckets(env) == [f"public-{suffix}", f"private-{suffix}"]
    assert script.create_buckets(env) == []  # run again: nothing to do
    client = s3.client(s3_endpoint)
    policy = json.loads(client.get_bucket_policy(Bucket=f"public-{suffix}")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["s3:GetObject"] and statement["Principal"] == "*"
    assert statement["Resource"] == [f"arn:aws:s3:::public-{suffix}/*"]
    encryption = client.get_bucket_encryption(Bucket=f"private-{suffix}")
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = client.get_public_access_block(Bucket=f"private-{suffix}")
    assert all(block["PublicAccessBlockConfiguration"].values())
    with pytest.raises(client.exceptions.ClientError):
        client.get_bucket_policy(Bucket=f"private-{suffix}")
