"""`/health/`: can this instance serve? For load balancers and monitoring.

Each check asks a shared service for a trivial answer: the database (one query),
the cache (a value written and read back) and both storages (the bucket, on
object storage; whether a file exists, on a local folder; nothing is written).
The answer is 200 "ok" or 503 "unavailable" as plain text, the same for every
anonymous caller, so the endpoint tells strangers nothing about the site's
insides. Which check failed, and when the periodic message pass last ran, are
shown only to verified staff (the admin's own test) or to a caller that sends
`Authorization: Bearer <HEALTH_TOKEN>`; the exception itself is only logged.

A late message pass is a warning, never a 503: this instance can still serve
pages, and taking it out of the load balancer would not send a reminder.
"""

import hmac
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

STORAGE_ALIASES = ("default", "private")


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    # A key of its own for every call: probes from several machines run at once.
    key = f"health-check:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("the cache did not return the value just written")
    finally:
        cache.delete(key)


def storage_check(alias: str):
    def check() -> None:
        storage = storages[alias]
        if isinstance(storage, S3Storage):
            # exists() answers False for a missing bucket too (both are a 404): ask
            # for the bucket itself, which also proves the keys are accepted.
            storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
        else:
            storage.exists("health-check")

    return check


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    **{f"storage:{alias}": storage_check(alias) for alias in STORAGE_ALIASES},
}


def run_checks() -> dict[str, bool]:
    """Every check's outcome; a failing check's exception is logged, never raised."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Health check %r failed", name)
            results[name] = False
        else:
            results[name] = True
    return results


def may_see_details(request) -> bool:
    token = settings.HEALTH_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    from django.contrib import admin

    try:
        return admin.site.has_permission(request)
    except Exception:
        # The session lives in the database: when it is down, nobody is staff.
        return False


def message_pass() -> dict:
    from booking import outbox

    last = outbox.last_pass_at()
    return {"last": last.isoformat() if last else None, "late": outbox.pass_is_late()}


@never_cache
@require_safe
def health(request):
    results = run_checks()
    healthy = all(results.values())
    status = 200 if healthy else 503
    if not may_see_details(request):
        return HttpResponse(
            "ok\n" if healthy else "unavailable\n",
            status=status,
            content_type="text/plain; charset=utf-8",
        )
    details = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: "ok" if passed else "failed" for name, passed in results.items()},
    }
    if results["database"]:
        details["message_pass"] = message_pass()
        if healthy and details["message_pass"]["late"]:
            details["status"] = "warning"
    return JsonResponse(details, status=status)
