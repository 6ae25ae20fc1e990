"""Settings for every environment, read from environment variables (12-factor).

Every variable is documented in the README. Without any of them the site runs in a
safe production mode that refuses to start without a SECRET_KEY; `make run` sets
DEBUG=1 for a local first run on SQLite.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from botocore.config import Config as BotoConfig
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from clinic.static import content_etag

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Everything the running site writes (SQLite database, caches, uploads, the
# development secret key) lives under one folder that git ignores.
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


MISSING_SECRET_KEY_MESSAGE = (
    "SECRET_KEY is not set: set the SECRET_KEY environment variable to a long random "
    "string (or DEBUG=1 for local development)."
)


def _secret_key() -> str:
    if key := env("SECRET_KEY"):
        return key
    if not DEBUG:
        # Left empty: offline commands (makemigrations, translations) still work, the
        # web server refuses to start (clinic/wsgi.py), and anything else that needs
        # the key fails with Django's own "SECRET_KEY must not be empty".
        return ""
    # Development only: make a key once and keep it, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # modeltranslation must come before the admin to patch its forms.
    "modeltranslation",
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_prose_editor",
    "sorl.thumbnail",
    "adminsortable2",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "axes",
    # Staff's second factor: authenticator-app codes and one-time backup codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "clinic",
    "conditions",
    "testimonials",
    "booking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy headers (clinic/security.py).
    "clinic.security.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # WhiteNoise, with the same ETag on every machine (clinic/static.py).
    "clinic.static.StaticFilesMiddleware",
    # Anonymous visitors' cached pages, kept compressed, answered before the session,
    # login, language and lockout middlewares below (clinic/page_cache.py).
    "clinic.page_cache.PageCacheMiddleware",
    # Pages gzipped, padded against BREACH; text only (clinic/compression.py).
    "clinic.compression.TextGZipMiddleware",
    # NUL bytes and invalid UTF-8 get the friendly 400 page before the session or
    # any view reads them (PostgreSQL refuses NUL in text).
    "clinic.middleware.MalformedInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Staff sessions end after STAFF_SESSION_IDLE_HOURS without a request.
    "clinic.security.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.site",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work side by side; IMMEDIATE takes the
        # write lock at the start of a transaction, so the web server and the task
        # worker wait for each other (busy timeout) instead of failing with
        # "database is locked" halfway through.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Connections are kept between requests (on SQLite too, where opening one also runs
# the PRAGMAs above); the health check replaces one that broke.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache shared by every process: page-cache invalidation and rate limits must
# hold across gunicorn workers, so never a per-process (local memory) cache.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "clinic"),
            # A Redis that stops answering fails fast (the site carries on without
            # it, clinic/degrade.py) instead of holding every request forever.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Repeated failed staff logins lock the username (from that address) out for a while.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The address behind TRUSTED_PROXY_HOPS proxies, as for the rate limits: one visitor's
# failed logins never lock out the staff behind the same proxy.
AXES_CLIENT_IP_CALLABLE = "clinic.client.client_address"

# Languages: Danish first. Public URLs carry the language as a prefix.
LANGUAGE_CODE = "da"
LANGUAGES = [
    ("da", _("Danish")),
    ("en", _("English")),
    ("nb", _("Norwegian Bokmål")),
    ("sv", _("Swedish")),
    ("de", _("German")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True
# Day-first date formats for English pages (clinic/formats/en): never month/day/year.
FORMAT_MODULE_PATH = ["clinic.formats"]

MODELTRANSLATION_DEFAULT_LANGUAGE = "da"
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in LANGUAGES)
# Norwegian and Swedish readers understand Danish; German and English readers are
# better served by each other first.
MODELTRANSLATION_FALLBACK_LANGUAGES = {
    "default": ("da",),
    "en": ("de", "da"),
    "de": ("en", "da"),
}
# Served from our own static files: the admin loads nothing from other hosts.
JQUERY_UI_URL = "vendor/jquery-ui/jquery-ui.min.js"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
# ETags from each file's content, not from when this machine's collectstatic copied it.
WHITENOISE_ADD_HEADERS_FUNCTION = content_etag
MEDIA_URL = "/media/"
# Public media: editors' images (practitioners' photos, content images).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Patients' uploads: never under MEDIA_ROOT, served only after a permission check.
PRIVATE_STORAGE_ROOT = Path(env("PRIVATE_STORAGE_ROOT", str(VAR_DIR / "private")))
# Files arriving and the imaging worker's unpacked files: local to each machine. Empty:
# PRIVATE_STORAGE_ROOT/incoming (then an accepted upload is moved, not copied).
UPLOAD_INCOMING_DIR = env("UPLOAD_INCOMING_DIR")
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_PERMISSIONS = 0o640
# Patients' uploads (booking/uploads.py, docs/uploads.md). Each file is streamed to
# UPLOAD_INCOMING_DIR (a local folder on each machine, never shared) and cut off as
# soon as it passes the size limit; an accepted file is then moved to the private storage.
UPLOAD_MAX_FILE_BYTES = env_int("UPLOAD_MAX_FILE_BYTES", 1024**3)  # a zipped CD
# A progressive JPEG whose decoding would hold more than this is checked by the imaging
# worker, not by the web process at upload (booking/filetypes.py check_image).
UPLOAD_IMAGE_CHECK_BYTES = env_int("UPLOAD_IMAGE_CHECK_BYTES", 64 * 1024**2)
UPLOAD_MAX_FILES_PER_BOOKING = env_int("UPLOAD_MAX_FILES_PER_BOOKING", 2000)
# Zips are checked from their central directory, never unpacked on upload.
ZIP_MAX_TOTAL_BYTES = env_int("ZIP_MAX_TOTAL_BYTES", 4 * 1024**3)
ZIP_MAX_RATIO = env_int("ZIP_MAX_RATIO", 100)
ZIP_RATIO_MIN_BYTES = env_int("ZIP_RATIO_MIN_BYTES", 64 * 1024**2)  # the ratio refuses only above
ZIP_MAX_ENTRIES = env_int("ZIP_MAX_ENTRIES", 10_000)
# Imaging previews (booking/imaging/dicom.py): values decoded per frame (rows x columns x
# samples, checked from the header before decoding; frames are decoded one at a time), the
# frames previewed of a stack and of a clip (more are sampled evenly, with a note), and
# seconds per upload before the rest is skipped.
DICOM_MAX_FRAME_PIXELS = env_int("DICOM_MAX_FRAME_PIXELS", 50_000_000)
DICOM_MAX_FRAMES = env_int("DICOM_MAX_FRAMES", 1000)
DICOM_MAX_CLIP_FRAMES = env_int("DICOM_MAX_CLIP_FRAMES", 120)
IMAGING_MAX_SECONDS = env_int("IMAGING_MAX_SECONDS", 600)
# Each decoder bounds itself (booking/safezip.py, booking/imaging/dicom.py,
# booking.filetypes.check_pdf_complexity): bytes one zip member may unpack to (also
# capped by its declared size, ZIP_MAX_RATIO and what is left of ZIP_MAX_TOTAL_BYTES);
# bytes a deflated DICOM may inflate to; and, for a PDF's preview, its pages, the
# first page's drawing (content bytes with nested forms counted each time drawn),
# the pixels of one embedded image and the seconds its check may take.
ZIP_MAX_MEMBER_BYTES = env_int("ZIP_MAX_MEMBER_BYTES", 1024**3)
DICOM_MAX_INFLATED_BYTES = env_int("DICOM_MAX_INFLATED_BYTES", 512 * 1024**2)
PDF_MAX_PAGES = env_int("PDF_MAX_PAGES", 2000)
PDF_MAX_CONTENT_BYTES = env_int("PDF_MAX_CONTENT_BYTES", 32 * 1024**2)
PDF_MAX_IMAGE_PIXELS = env_int("PDF_MAX_IMAGE_PIXELS", 100_000_000)
PDF_MAX_SECONDS = env_int("PDF_MAX_SECONDS", 20)
# Each upload is processed in a child process of the imaging worker
# (booking/imaging/sandbox.py). The worker kills the child past this resident
# memory, or when one file takes longer than IMAGING_FILE_SECONDS; the kernel stops
# it past its address space (virtual memory: numpy and the codecs reserve much that
# they never use, hence the headroom), CPU seconds per file, or bytes written to
# one file. The file it was on is refused and a new child goes on with the next.
IMAGING_CHILD_MEMORY_BYTES = env_int("IMAGING_CHILD_MEMORY_BYTES", 800 * 1024**2)
IMAGING_CHILD_ADDRESS_SPACE_BYTES = env_int("IMAGING_CHILD_ADDRESS_SPACE_BYTES", 3 * 1024**3)
IMAGING_CHILD_CPU_SECONDS = env_int("IMAGING_CHILD_CPU_SECONDS", 60)
IMAGING_FILE_SECONDS = env_int("IMAGING_FILE_SECONDS", 60)
IMAGING_CHILD_WRITE_BYTES = env_int("IMAGING_CHILD_WRITE_BYTES", 1024**3 + 1024**2)
# Tests and benchmarks only: a dotted path called in the child with each file's
# path and name before it is read (to make a child allocate or spin on purpose).
IMAGING_CHILD_HOOK = ""
# Files per request (a CD folder sent without JavaScript comes in one request) and
# the non-file form fields held in memory.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 2000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# --- Stored files (docs/deploy.md) ---------------------------------------------------
# Every stored file goes through STORAGES: "default" holds public media (editors'
# images and their thumbnails), "private" patients' files (uploads, previews,
# renditions, reports). Local folders unless S3-compatible object storage is set:
# S3_PUBLIC_BUCKET and S3_PRIVATE_BUCKET (each on its own), S3_ENDPOINT_URL for a
# provider other than AWS, S3_REGION, and the keys in S3_ACCESS_KEY_ID and
# S3_SECRET_ACCESS_KEY (or boto3's own AWS_* variables, or an instance role).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "booking.storage.PrivateStorage"},
    # Hashed names (cached for a year by browsers), compressed copies (clinic/static.py).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
S3_ENDPOINT_URL = env("S3_ENDPOINT_URL") or None
S3_REGION = env("S3_REGION") or None
_s3_common = {
    "endpoint_url": S3_ENDPOINT_URL,
    "region_name": S3_REGION,
    "access_key": env("S3_ACCESS_KEY_ID") or None,
    "secret_key": env("S3_SECRET_ACCESS_KEY") or None,
    # Never overwrite: a name taken gets a suffix, as on the local disk.
    "file_overwrite": False,
    # An endpoint that does not answer fails within seconds (pages, /health/), not after
    # botocore's minute; slow transfers of big files may still take their time.
    "client_config": BotoConfig(
        connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}
    ),
    "addressing_style": env("S3_ADDRESSING_STYLE") or None,
}
if env("S3_PUBLIC_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3_common,
            "bucket_name": env("S3_PUBLIC_BUCKET"),
            # Plain addresses that pages and caches can keep; the bucket's policy
            # makes the objects public (docs/deploy.md).
            "querystring_auth": False,
            "custom_domain": env("S3_PUBLIC_DOMAIN") or None,
            "url_protocol": env("S3_PUBLIC_PROTOCOL", "https:"),
            "object_parameters": {"CacheControl": "max-age=86400"},
        },
    }
# Where browsers fetch public media from, for the Content-Security-Policy's img-src.
PUBLIC_MEDIA_ORIGINS: list[str] = []
if env("S3_PUBLIC_BUCKET"):
    _public = STORAGES["default"]["OPTIONS"]
    if _public["custom_domain"]:
        PUBLIC_MEDIA_ORIGINS = [f"{_public['url_protocol']}//{_public['custom_domain']}"]
    elif S3_ENDPOINT_URL:
        PUBLIC_MEDIA_ORIGINS = [S3_ENDPOINT_URL.rstrip("/")]
    else:  # AWS itself: the bucket's own host
        PUBLIC_MEDIA_ORIGINS = [f"https://{env('S3_PUBLIC_BUCKET')}.s3.amazonaws.com"]
if env("S3_PRIVATE_BUCKET"):
    STORAGES["private"] = {
        "BACKEND": "booking.storage.PrivateS3Storage",
        "OPTIONS": {
            **_s3_common,
            "bucket_name": env("S3_PRIVATE_BUCKET"),
            # Patients' files are encrypted at rest by the provider: "AES256" (keys
            # the provider holds) or "aws:kms" with S3_PRIVATE_KMS_KEY_ID.
            "object_parameters": {
                key: value
                for key, value in {
                    "ServerSideEncryption": env("S3_PRIVATE_ENCRYPTION", "AES256"),
                    "SSEKMSKeyId": env("S3_PRIVATE_KMS_KEY_ID"),
                }.items()
                if value
            },
        },
    }

# Anonymous visitors get whole pages from the cache; any content save invalidates
# them at once (clinic/page_cache.py). 0 switches the page cache off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# How many reverse proxies in front of the site append to X-Forwarded-For; rate
# limits count by the address the nearest trusted proxy saw (clinic/client.py).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)

# Patients' testimonials: at most this many submissions per address in the period
# (counted in the shared cache).
TESTIMONIAL_RATE_LIMIT = 5
TESTIMONIAL_RATE_LIMIT_SECONDS = 60 * 60

# Appointment requests: at most this many sent requests per address in the period
# (shared cache, keyed by the client address), and how long a patient's private link works.
BOOKING_RATE_LIMIT = env_int("BOOKING_RATE_LIMIT", 5)
BOOKING_RATE_LIMIT_SECONDS = 60 * 60
# Abuse bounds (clinic/ratelimit.py, booking/uploads.py): drafts started per address
# per period; bytes and files a draft may hold until it is sent; uploads are refused
# while the private storage's disk has less than UPLOAD_MIN_FREE_BYTES free; unsent
# drafts are purged after DRAFT_IDLE_HOURS without a change (manage.py purge_drafts).
DRAFT_RATE_LIMIT = env_int("DRAFT_RATE_LIMIT", 10)
DRAFT_RATE_LIMIT_SECONDS = 60 * 60
DRAFT_MAX_BYTES = env_int("DRAFT_MAX_BYTES", 2 * 1024**3)
DRAFT_MAX_FILES = env_int("DRAFT_MAX_FILES", 1000)
UPLOAD_MIN_FREE_BYTES = env_int("UPLOAD_MIN_FREE_BYTES", 5 * 1024**3)
DRAFT_IDLE_HOURS = env_int("DRAFT_IDLE_HOURS", 24)
BOOKING_LINK_MAX_AGE = timedelta(days=env_int("BOOKING_LINK_MAX_AGE_DAYS", 60))
# The site's address for every link made outside a patient's request: e-mails and texts
# sent from the admin, the task workers and the message pass (booking.access.site_base_url).
# `make run` sets it to the address it serves on.
SITE_URL = env("SITE_URL", "http://localhost:8000").rstrip("/")

# Background work on Django's tasks API (the django-tasks backport). Two queues, each
# with its own worker (`manage.py run_worker --queue-name ...`), so e-mails and text
# messages never wait behind image processing.
TASK_QUEUES = ["default", "messages", "imaging"]
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 5)
# What a task leaves behind when it is given up for good (its worker died TASK_MAX_ATTEMPTS
# times, or it failed that often): task path -> a function called with the task's own
# arguments, so nothing waits for ever ("waiting to be processed").
TASK_GIVE_UP_HANDLERS = {
    "booking.imaging.processing.process_upload": "booking.imaging.processing.give_up",
}
# A running task holds a lease whose heartbeat its worker renews; a task whose
# heartbeat is older than this is taken as abandoned by a dead worker and run again
# (at most TASK_MAX_ATTEMPTS runs in all, then marked failed).
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 120)

# E-mail. Without EMAIL_HOST in development, mails are printed by the worker.
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not env("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
# Left unset, messages to patients and the clinic come from the clinic's own address
# (clinic.models.sender_address), as in the demo; error mails to ADMINS from SERVER_EMAIL.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = [("Admin", address) for address in env_list("ADMINS", [])]

# Text messages (booking/sms.py). In DEBUG they are printed; in production they go
# to one HTTP gateway, which then receives the phone number and the message text.
SMS_BACKEND = env(
    "SMS_BACKEND", "booking.sms.ConsoleBackend" if DEBUG else "booking.sms.HttpGatewayBackend"
)
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN")
SMS_SENDER = env("SMS_SENDER", "Clinic")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)
if len(SMS_SENDER) > 11:
    # Phone networks cut or refuse a longer sender name: fail at start, not at sending.
    raise ImproperlyConfigured("SMS_SENDER is at most 11 characters long.")

# Security. Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer probes each instance over plain HTTP: a redirect is not an answer.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# `/health/` shows which check failed to staff, or to a caller that sends
# `Authorization: Bearer <HEALTH_TOKEN>`; empty: staff only (clinic/health.py).
HEALTH_TOKEN = env("HEALTH_TOKEN")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Staff accounts (clinic/two_factor.py, clinic/security.py). Doctors, reception and
# superusers log in with a password and a code from an authenticator app (or a
# one-time backup code); editors may turn the second factor on. A staff session
# ends when the browser closes and after this many hours without a request;
# patients' sessions (their unsent drafts) are left alone.
STAFF_SESSION_IDLE_HOURS = env_int("STAFF_SESSION_IDLE_HOURS", 8)
TWO_FACTOR_BACKUP_CODES = 10


def _totp_issuer(device):
    # The clinic's name, as authenticator apps show it (read when a device is made).
    from clinic.two_factor import totp_issuer

    return totp_issuer(device)


OTP_TOTP_ISSUER = _totp_issuer
# Secrets are shown once, at enrolment, never again in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# What the pages may load: only this site's own files, no inline scripts anywhere
# (the admin's one inline script, its import map, carries a per-request nonce).
# The admin's own templates and rich-text editor set inline styles, so styles
# are relaxed there only (clinic/security.py, ADMIN_STYLE_SRC).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # NONCE is filled in only on pages that use it (else it is left out).
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # Bootstrap draws its form icons from data: URIs.
        "img-src": [SELF, "data:", *PUBLIC_MEDIA_ORIGINS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features the site never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
CSRF_FAILURE_VIEW = "clinic.views.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Demo staff accounts are made only for local development.
DEMO_ACCOUNTS = DEBUG

# Doctors' imaging review (booking/imaging/views.py, docs/imaging.md). With nginx in
# front, images can be sent by nginx itself: the view checks the permission, writes
# the audit row and answers with X-Accel-Redirect to an `internal` location that
# maps IMAGING_X_ACCEL_PREFIX to PRIVATE_STORAGE_ROOT.
IMAGING_SERVE_WITH_X_ACCEL = env_bool("IMAGING_SERVE_WITH_X_ACCEL", False)
IMAGING_X_ACCEL_PREFIX = env("IMAGING_X_ACCEL_PREFIX", "/private-imaging").rstrip("/")
# Days after a booking is completed or cancelled before `purge_imaging` may delete its
# images. No default: Danish law has doctors keep patient records for at least 10
# years, and the clinic decides whether its record lives here or elsewhere.
IMAGING_RETENTION_DAYS = env_int("IMAGING_RETENTION_DAYS", 0) or None

# What `manage.py purge_records` deletes (booking/data_rights.py), in days; 0 keeps for
# ever. Message rows and the waitlist of bookings that ended are not the medical
# record; task results hold ids and errors only; the staff audit has no default.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 365) or None
WAITLIST_RETENTION_DAYS = env_int("WAITLIST_RETENTION_DAYS", 30) or None
TASK_RESULT_RETENTION_DAYS = env_int("TASK_RESULT_RETENTION_DAYS", 14) or None
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 0) or None

# Scheduling (booking/scheduling.py): how long a picked time is held while the
# patient finishes the request, the step between offered times, the days a doctor
# needs to agree a blood-thinner plan before a pause can start, and until how many
# hours before the appointment a patient may move or cancel it online.
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 15)
BOOKING_SLOT_STEP_MINUTES = env_int("BOOKING_SLOT_STEP_MINUTES", 15)
BOOKING_DOCTOR_LEAD_DAYS = env_int("BOOKING_DOCTOR_LEAD_DAYS", 3)
BOOKING_CHANGE_HOURS = env_int("BOOKING_CHANGE_HOURS", 24)

# Messages planned over a booking's life (booking/outbox.py, `manage.py send_messages`).
# No message goes out between the first and the second hour (local time), except
# answers to what the patient just did; set BOOKING_QUIET_HOURS= (empty) to allow any hour.
_quiet = env("BOOKING_QUIET_HOURS", "21-8")
BOOKING_QUIET_HOURS = tuple(int(hour) for hour in _quiet.split("-")) if _quiet else None
BOOKING_REMINDER_HOUR = env_int("BOOKING_REMINDER_HOUR", 10)
BOOKING_IMAGES_REMINDER_DAYS = env_int("BOOKING_IMAGES_REMINDER_DAYS", 3)
MESSAGE_RETRY_HOURS = env_int("MESSAGE_RETRY_HOURS", 48)
MESSAGE_SENDING_TIMEOUT_MINUTES = env_int("MESSAGE_SENDING_TIMEOUT_MINUTES", 10)
MESSAGE_PASS_LATE_MINUTES = env_int("MESSAGE_PASS_LATE_MINUTES", 15)
