"""Whole-page cache for anonymous visitors, invalidated the moment content changes.

Public pages are the same for every anonymous visitor, so their HTML is kept in
the shared cache. Every key carries the release's static version (clinic machines of
two releases may share the cache), and every entry carries the content version it
was made from; saving or deleting any content record (from the admin, a command or
the shell) replaces the version, so a change shows at once instead of when the
cache expires. A hit is one cache round trip (the version and the page together)
and is answered by PageCacheMiddleware before the session, the login and the
language are looked at.

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
import re
import time
import uuid
from dataclasses import dataclass
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


def cache_failed(error: BaseException, what: str) -> None:
    global _skip_cache_until
    _skip_cache_until = time.time() + RETRY_AFTER_SECONDS
    log_cache_error(logger, error, what=what)


def skipping_cache() -> bool:
    return 0 <= _skip_cache_until - time.time() <= RETRY_AFTER_SECONDS


def reset_failure_state() -> None:
    """Forget past cache failures (for tests)."""
    global _skip_cache_until, _renewal_missed
    _skip_cache_until = 0.0
    _renewal_missed = False


def catch_up() -> None:
    """Renew the version a change could not renew (the cache was down); raises a cache
    error when the cache still fails. Until then, nothing kept may be used."""
    if _renewal_missed:
        renew_version()


def content_version() -> str:
    """The current content version; raises a cache error when the cache fails."""
    catch_up()
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


def renew_version() -> None:
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


def invalidate(rebuild: bool = True) -> None:
    """Renew the content version, and make the snapshots again once the change is
    committed. Never fails: an editor's save must not depend on the cache."""
    global _renewal_missed, _deferred
    if _deferring:
        _deferred = True
        return
    try:
        renew_version()
    except CACHE_ERRORS as error:
        _renewal_missed = True
        cache_failed(error, "page cache not renewed after a content change")
    if rebuild:
        from clinic.snapshots import rebuild_after_commit

        rebuild_after_commit()


def is_content_model(model) -> bool:
    """A model whose records public pages show."""
    return model._meta.app_label in CONTENT_APPS or model._meta.label_lower in CONTENT_MODELS


def _invalidate_on_change(sender, **kwargs):
    if is_content_model(sender):
        # A migration's models (its RunPython steps) may be a schema the code's models
        # cannot read yet: the snapshots are made when next read instead.
        invalidate(rebuild=sender._meta.apps is apps)


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


def _plain_get(request) -> bool:
    """A GET or HEAD without a query string, with the page cache on."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
    )


def _cacheable(request) -> bool:
    return _plain_get(request) and not request.user.is_authenticated


# What a request learnt from the cache: the content version its page must carry and
# the page's key. Set by the first lookup (the middleware's, or the view's).
STATE_ATTRIBUTE = "_page_cache"
# Set on a response the view allows the middleware to keep.
KEEP_ATTRIBUTE = "_page_cache_keep"

GZIP_ACCEPTED = re.compile(r"\bgzip\b")


@dataclass(frozen=True)
class Lookup:
    version: str
    key: str


def _page_key(request) -> str:
    """One key per release, host, path and encoding; the content version is in the entry.

    Hashed: a path may be long or hold characters some cache backends refuse in keys.
    """
    encoding = "gzip" if GZIP_ACCEPTED.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) else ""
    where = f"{request.get_host()}\n{request.path}".encode("utf-8", "surrogateescape")
    return f"page-cache:{static_version()}:{hashlib.sha256(where).hexdigest()}:{encoding}"


def _read(request) -> HttpResponse | None:
    """The cached page, or None; one cache round trip (the version and the page together).

    Raises a cache error when the cache fails.
    """
    catch_up()
    key = _page_key(request)
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or content_version()
    setattr(request, STATE_ATTRIBUTE, Lookup(version, key))
    entry = found.get(key)
    if entry is None or entry[0] != version:
        return None
    _version, content, headers = entry
    response = HttpResponse(content)
    for name, value in headers:
        response.headers[name] = value
    response["X-Page-Cache"] = "hit"
    return response


def _lookup(request) -> HttpResponse | None:
    """The cached page or None; None too (and the cache left alone a while) when it fails."""
    try:
        return _read(request)
    except CACHE_ERRORS as error:
        cache_failed(error, "page cache bypassed")
        return None


def _keep(request, response) -> HttpResponse:
    """Store a page the view allowed, with the content version read before it was made."""
    state = getattr(request, STATE_ATTRIBUTE, None)
    if (
        state is None
        or not getattr(response, KEEP_ATTRIBUTE, False)
        or response.status_code != 200
        or response.cookies
        or response.streaming
    ):
        return response
    # The middlewares outside this one (security headers, CSP) have not run yet: they
    # add their headers to every answer, a hit's too, never from the cache.
    headers = list(response.items())
    try:
        cache.set(
            state.key,
            (state.version, response.content, headers),
            settings.PAGE_CACHE_SECONDS,
        )
    except CACHE_ERRORS as error:
        cache_failed(error, "page cache bypassed")
        return _bypassed(response)
    response["X-Page-Cache"] = "miss"
    return response


class PageCacheMiddleware:
    """Answer anonymous visitors' cached pages before the rest of the stack runs.

    A hit needs none of the work after this middleware: no session, login, second
    factor, language negotiation (the language is in the path) or lockout check, and
    one cache round trip. The middlewares before it (security headers, the
    Content-Security-Policy, the permissions policy) still run on every hit. It sits
    outside the gzip middleware, so a page is kept, and served, compressed.

    Only requests that cannot be a logged-in user's are looked up here: those without
    a session cookie (a staff login always has one). Visitors with a session are looked
    up by `cache_public_page`, once the login is known.
    Pages are stored on the way out, when the view allowed it (`cache_public_page`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            _plain_get(request)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not skipping_cache()
        ):
            response = _lookup(request)
            if response is not None:
                return response
        return _keep(request, self.get_response(request))


def cache_public_page(view):
    """Let PageCacheMiddleware keep the view's 200 responses for anonymous visitors."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        if getattr(request, STATE_ATTRIBUTE, None) is None and not skipping_cache():
            # An anonymous visitor with a session (e.g. a patient's unsent booking).
            response = _lookup(request)
            if response is not None:
                return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if getattr(request, STATE_ATTRIBUTE, None) is None:
            return _bypassed(response)
        setattr(response, KEEP_ATTRIBUTE, True)
        return response

    return wrapper


def _bypassed(response):
    response["X-Page-Cache"] = "bypass"
    return response
