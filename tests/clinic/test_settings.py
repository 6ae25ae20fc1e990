"""Settings come from the environment; production refuses to start unsafe."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'engine': db['ENGINE'], 'options': db.get('OPTIONS', {}),"
    " 'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG}))"
)


def run_python(code: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings.base", **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_refuses_to_serve_with_one_line(tmp_path):
    result = run_python("import clinic.wsgi", DEBUG="0", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if "AXES" not in line]
    assert len(lines) == 1
    assert lines[0].startswith("SECRET_KEY is not set")


def test_offline_commands_work_without_a_secret_key(tmp_path):
    result = run_python(
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'makemigrations', '--check', '--dry-run'])",
        DEBUG="0",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_default_database_is_sqlite_in_wal_mode_with_immediate_transactions(tmp_path):
    result = run_python(PRINT_SETTINGS, DEBUG="1", VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["engine"] == "django.db.backends.sqlite3"
    assert facts["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in facts["options"]["init_command"]
    assert facts["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert (tmp_path / "secret_key").exists(), "a development key is kept under var/"


def test_database_and_cache_urls_are_read_from_the_environment(tmp_path):
    result = run_python(
        PRINT_SETTINGS,
        SECRET_KEY="k" * 60,
        DATABASE_URL="postgres://user@db.example:5432/clinic",
        REDIS_URL="redis://cache.example:6379/1",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["engine"] == "django.db.backends.postgresql"
    assert facts["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert facts["debug"] is False


def test_sqlite_database_really_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = run_python(code, DEBUG="1", VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "clinic.settings.base",
            "DEBUG": "0",
            "SECRET_KEY": "a-long-random-production-key-" + "Zq8x" * 12,
            "ALLOWED_HOSTS": "clinic.example",
            "VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


PRINT_STORAGES = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'storages': {alias: {'backend': conf['BACKEND'],"
    " 'options': {k: v for k, v in conf.get('OPTIONS', {}).items() if k != 'client_config'}}"
    " for alias, conf in settings.STORAGES.items()},"
    " 'img_src': settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
)


def storages_with(tmp_path, **env) -> dict:
    result = run_python(PRINT_STORAGES, DEBUG="1", VAR_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_stored_files_are_local_folders_unless_buckets_are_named(tmp_path):
    facts = storages_with(tmp_path)
    assert facts["storages"]["default"]["backend"].endswith("FileSystemStorage")
    assert facts["storages"]["private"]["backend"] == "booking.storage.PrivateStorage"
    assert facts["img_src"] == ["'self'", "data:"]


def test_buckets_from_the_environment_encrypt_patients_files_and_open_the_policy(tmp_path):
    facts = storages_with(
        tmp_path,
        S3_PUBLIC_BUCKET="clinic-public",
        S3_PRIVATE_BUCKET="clinic-private",
        S3_ENDPOINT_URL="https://s3.example.net/",
    )
    public, private = facts["storages"]["default"], facts["storages"]["private"]
    assert public["backend"] == "storages.backends.s3.S3Storage"
    assert public["options"]["bucket_name"] == "clinic-public"
    assert public["options"]["querystring_auth"] is False
    assert private["backend"] == "booking.storage.PrivateS3Storage"
    assert private["options"]["bucket_name"] == "clinic-private"
    assert private["options"]["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert private["options"]["file_overwrite"] is False
    assert facts["img_src"] == ["'self'", "data:", "https://s3.example.net"]
    # With a domain of its own for public media, that origin instead; KMS when asked.
    facts = storages_with(
        tmp_path,
        S3_PUBLIC_BUCKET="clinic-public",
        S3_PUBLIC_DOMAIN="media.clinic.example",
        S3_PRIVATE_BUCKET="clinic-private",
        S3_PRIVATE_ENCRYPTION="aws:kms",
        S3_PRIVATE_KMS_KEY_ID="key-1",
    )
    assert facts["img_src"] == ["'self'", "data:", "https://media.clinic.example"]
    assert facts["storages"]["private"]["options"]["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "key-1",
    }
