"""Settings for the test suite: the production settings, made fast and local."""

import os

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
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the app folders in tests; no collectstatic run is needed.
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
MEDIA_ROOT = VAR_DIR / "test-media"
PRIVATE_STORAGE_ROOT = VAR_DIR / "test-private"
if not REDIS_URL:
    CACHES["default"]["LOCATION"] = str(VAR_DIR / "test-cache")
else:
    CACHES["default"]["KEY_PREFIX"] = "test"
DEMO_ACCOUNTS = False
# Messages go out at any hour in tests unless a test sets quiet hours itself.
BOOKING_QUIET_HOURS = None
