"""Settings for the benchmarks: production settings plus a constant-response view."""

from clinic.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
