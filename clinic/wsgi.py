"""WSGI entry point for gunicorn (`gunicorn clinic.wsgi`) and runserver."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.base")

# Refuse to serve without a secret key, before anything else starts. (Reading
# settings.SECRET_KEY itself raises when it is empty, so the raw value is read.)
settings.DEBUG  # noqa: B018 - loads the settings
if not settings._wrapped.SECRET_KEY:
    raise SystemExit(settings.MISSING_SECRET_KEY_MESSAGE)

application = get_wsgi_application()
