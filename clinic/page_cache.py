"""Whole-page cache for anonymous visitors, invalidated the moment content changes.

Public pages are the same for every anonymous visitor, so their HTML is kept in
the shared cache. Every key carries a content version; saving or deleting any
content record (from the admin, a command or the shell) replaces the version,
so a change shows at once instead of when the cache expires.
"""

import uuid
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse

VERSION_KEY = "page-cache:version"
# Apps whose records appear on public pages.
CONTENT_APPS = {"clinic", "conditions", "testimonials"}


def content_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # add(): when two processes race, both end up with the same version.
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return version


def invalidate() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _invalidate_on_change(sender, **kwargs):
    if sender._meta.app_label in CONTENT_APPS:
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
        key = f"page-cache:{content_version()}:{request.get_host()}:{request.path}"
        if (cached := cache.get(key)) is not None:
            content, content_type = cached
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code == 200 and not response.cookies:
            cache.set(
                key, (response.content, response["Content-Type"]), settings.PAGE_CACHE_SECONDS
            )
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
