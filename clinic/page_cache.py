"""Whole-page cache for anonymous visitors, invalidated the moment content changes.

Public pages are the same for every anonymous visitor, so their HTML is kept in
the shared cache. Every key carries the release's static version (clinic machines of
two releases may share the cache) and a content version; saving or deleting any
content record (from the admin, a command or the shell) replaces the version,
so a change shows at once instead of when the cache expires.

The cache is never needed to serve a page: when it fails (Redis refuses,
times out or is gone) pages are rendered as if uncached, the cache is left
alone for `RETRY_AFTER_SECONDS`, and the failure is logged at most once a
minute (clinic/degrade.py). A content change saved while the cache is down
cannot renew the version; this process renews it as soon as the cache answers
again, and pages other processes cached before the outage expire after
PAGE_CACHE_SECONDS at the latest.
"""

import contextlib
import functools
import hashlib
import json
import logging
import time
import uuid
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse

from clinic.degrade import CACHE_ERRORS, log_cache_error

logger = logging.getLogger(__name__)

VERSION_KEY = "page-cache:version"
# Apps whose records appear on public pages.
CONTENT_APPS = {"clinic", "conditions", "testimonials"}
# Single models of other apps that public pages show: an appointment type's checklist
# settings make the steps before treatment (booking/before_treatment.py).
CONTENT_MODELS = {"booking.appointmenttype"}
# After a failure, pages skip the cache this long: an unreachable Redis that
# times out (rather than refusing at once) must not slow every page down.
RETRY_AFTER_SECONDS = 10

_skip_cache_until = 0.0
_renewal_missed = False


def _cache_failed(error: BaseException, what: str) -> None:
    global _skip_cache_until
    _skip_cache_until = time.time() + RETRY_AFTER_SECONDS
    log_cache_error(logger, error, what=what)


def _skipping_cache() -> bool:
    return 0 <= _skip_cache_until - time.time() <= RETRY_AFTER_SECONDS


def reset_failure_state() -> None:
    """Forget past cache failures (for tests)."""
    global _skip_cache_until, _renewal_missed
    _skip_cache_until = 0.0
    _renewal_missed = False


def content_version() -> str:
    """The current content version; raises a cache error when the cache fails."""
    if _renewal_missed:
        _renew_version()
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # add(): when two processes race, both end up with the same version.
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return version


@functools.cache
def static_version() -> str:
    """This release's static file names, in short (read once per process).

    Pages name hashed static files (main.3f2a1c.css), and each machine serves only its
    own release's: during a rolling restart, machines of two releases share the cache,
    so each must get pages naming the files it has.
    """
    hashed = getattr(staticfiles_storage, "hashed_files", None) or {}
    return hashlib.sha256(json.dumps(sorted(hashed.items())).encode()).hexdigest()[:12]


def _renew_version() -> None:
    global _renewal_missed
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    _renewal_missed = False


_deferring = 0
_deferred = False


@contextlib.contextmanager
def one_renewal():
    """Renew the content version once for all the saves inside (e.g. loading the demo)."""
    global _deferring, _deferred
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _deferred:
            _deferred = False
            invalidate()


def invalidate() -> None:
    """Renew the content version. Never fails: an editor's save must not depend on the cache."""
    global _renewal_missed, _deferred
    if _deferring:
        _deferred = True
        return
    try:
        _renew_version()
    except CACHE_ERRORS as error:
        _renewal_missed = True
        _cache_failed(error, "page cache not renewed after a content change")


def _invalidate_on_change(sender, **kwargs):
    if sender._meta.app_label in CONTENT_APPS or sender._meta.label_lower in CONTENT_MODELS:
        invalidate()


def connect_invalidation() -> None:
    """Invalidate on every save or delete of a content model.

    A signal is the right tool here: the cache must follow every write,
    whichever code path made it, and no business rule depends on it.
    """
    for signal in (post_save, post_delete):
        signal.connect(_invalidate_on_change, dispatch_uid=f"page-cache-{signal}")
    for model in apps.get_models():
        if model._meta.app_label in CONTENT_APPS:
            for field in model._meta.many_to_many:
                m2m_changed.connect(
                    _invalidate_on_change,
                    sender=field.remote_field.through,
                    dispatch_uid=f"page-cache-m2m-{model._meta.label}-{field.name}",
                )


def _cacheable(request) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.GET
        and not request.user.is_authenticated
    )


def cache_public_page(view):
    """Serve the view's 200 responses from the cache to anonymous visitors."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        if _skipping_cache():
            return _bypassed(view(request, *args, **kwargs))
        try:
            key = (
                f"page-cache:{static_version()}:{content_version()}:"
                f"{request.get_host()}:{request.path}"
            )
            cached = cache.get(key)
        except CACHE_ERRORS as error:
            _cache_failed(error, "page cache bypassed")
            return _bypassed(view(request, *args, **kwargs))
        if cached is not None:
            content, content_type = cached
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code == 200 and not response.cookies:
            try:
                cache.set(
                    key, (response.content, response["Content-Type"]), settings.PAGE_CACHE_SECONDS
                )
            except CACHE_ERRORS as error:
                _cache_failed(error, "page cache bypassed")
                return _bypassed(response)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper


def _bypassed(response):
    response["X-Page-Cache"] = "bypass"
    return response
