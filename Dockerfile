# One image for every process of the site: web server, task workers, message pass and the
# release step (compose.yaml). Built from the locked, hashed requirements only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=clinic.settings.base \
    VAR_DIR=/var/lib/clinic \
    STATIC_ROOT=/srv/clinic/static-root \
    UPLOAD_INCOMING_DIR=/var/lib/clinic/incoming

RUN useradd --system --uid 10001 --user-group --home-dir /srv/clinic clinic
WORKDIR /srv/clinic

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Per machine, at install: compiled translations and the hashed static files that
# WhiteNoise serves. The key is only for this build step; the site reads its own.
RUN pip install --no-deps . \
    && SECRET_KEY=build-only-not-a-secret python manage.py translations \
    && SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput \
    && mkdir -p /var/lib/clinic/incoming \
    && chown -R clinic:clinic /var/lib/clinic

USER clinic
EXPOSE 8000
# Everything the web server needs to start is in the image; the database must be
# migrated first by `python manage.py release` (compose.yaml's `release` service).
CMD ["gunicorn", "clinic.wsgi", "--worker-class", "gthread", "--workers", "2", \
     "--threads", "8", "--timeout", "3600", "--bind", "0.0.0.0:8000"]
