"""Settings for bench/lighthouse.py: the benchmark settings, with public media served.

In production the reverse proxy (or the public bucket) serves MEDIA_ROOT under /media/;
gunicorn alone does not, so the demo's photos would be missing from the audited pages.
"""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.lighthouse_urls"
