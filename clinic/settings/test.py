"""Settings for the test suite: the production settings, made fast and local."""

import os
from urllib.parse import urlsplit

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-" + "x" * 40)

from .base import *  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["*"]
# The live test server speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's shared in-memory database: the live server answers from
    # several threads, and only a file gets WAL and the busy timeout, as in production
    # (shared-cache memory databases fail with "database table is locked").
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": TASK_QUEUES,
    }
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "booking.sms.LocmemBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "booking.storage.PrivateStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the app folders in tests; no collectstatic run is needed.
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# pytest-xdist runs the suite in several processes ("gw0", "gw1", ...): each gets its
# own folders and its own Redis database, since tests clear the cache (FLUSHDB).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_suffix = f"-{XDIST_WORKER}" if XDIST_WORKER else ""
MEDIA_ROOT = VAR_DIR / f"test-media{_suffix}"
PRIVATE_STORAGE_ROOT = VAR_DIR / f"test-private{_suffix}"
if not REDIS_URL:
    CACHES["default"]["LOCATION"] = str(VAR_DIR / f"test-cache{_suffix}")
else:
    CACHES["default"]["KEY_PREFIX"] = "test"
    if XDIST_WORKER:
        _url = urlsplit(REDIS_URL)
        _db = 1 + int(XDIST_WORKER.removeprefix("gw") or 0)
        CACHES["default"]["LOCATION"] = _url._replace(path=f"/{_db}").geturl()
DEMO_ACCOUNTS = False
# Messages go out at any hour in tests unless a test sets quiet hours itself.
BOOKING_QUIET_HOURS = None
