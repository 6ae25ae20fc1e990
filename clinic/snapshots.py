"""Published snapshots: what public pages show, read from the database when content
changes instead of on every request.

A public page used to run its queries on every render: a dozen for a condition page,
two for the clinic's details and the menu on every page. Their results change only
when an editor saves, so they are kept in the shared cache as a snapshot, one per
name ("site", "condition:12"), and made again right after every content change is
committed (`rebuild_after_commit`, called by the page cache's invalidation). The
first visitor after a save therefore reads the new snapshot rather than the database.

A snapshot holds model instances (with their prefetched relations) as the page's
code reads them, with every language's columns (one snapshot per language where the
database orders by translated columns): the page still picks its fallbacks and what is
public at this moment (a page published from tomorrow) at request time.

Each entry carries the content version it was made from (clinic/page_cache.py): an
entry of an older version is never used, and is made afresh from the database by the
first request that misses it. Keys carry the shape of the content models and the
builders' code, so a release that adds a field never reads what the one before made.

The snapshots are never needed to serve a page: when the cache fails, the data is read
from the database as before, and the cache is left alone for a while (as the page
cache does). Previews of drafts never use them.
"""

import functools
import hashlib
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import transaction

from clinic import page_cache
from clinic.degrade import CACHE_ERRORS

logger = logging.getLogger(__name__)

# A change saved while the cache was down cannot renew the version; the process that
# saved it catches up when the cache is back, other processes' snapshots expire after
# this long at the latest (as the page cache's pages do).
TIMEOUT_SECONDS = 10 * 60
# Snapshots each thread keeps unpickled, the most recently read (a condition's page in
# one language is one).
KEPT_PER_THREAD = 64

# prefix -> function that reads one snapshot of that prefix from the database
_builders: dict[str, Callable[[str], Any]] = {}
# functions that read every snapshot made again after a change: {name: data}
_rebuilders: list[Callable[[], dict[str, Any]]] = []


def register(prefix: str, build_all: Callable[[], dict[str, Any]] | None = None):
    """Register the builder of the snapshots named `prefix` or `prefix:<key>`.

    The builder gets the key ("" for a plain name) and returns what the page reads.
    `build_all` returns {name: data} for the snapshots to make again right after
    every content change (in fewer queries than one build each); the others are
    made when first read.
    """

    def decorator(builder):
        _builders[prefix] = builder
        if build_all is not None:
            _rebuilders.append(build_all)
        return builder

    return decorator


@functools.cache
def _schema() -> str:
    """The content models' columns and the builders' code, in short: a release whose
    models or snapshots differ never unpickles what another release made."""
    columns = sorted(
        (model._meta.label, field.attname)
        for model in apps.get_models()
        if page_cache.is_content_model(model)
        for field in model._meta.concrete_fields
    )
    digest = hashlib.sha256(repr(columns).encode())
    for module in sorted({builder.__module__ for builder in _builders.values()}):
        digest.update(Path(sys.modules[module].__file__).read_bytes())
    return digest.hexdigest()[:12]


def _key(name: str) -> str:
    return f"snapshot:{_schema()}:{name}"


def _build(name: str):
    prefix, _colon, key = name.partition(":")
    return _builders[prefix](key)


class _Kept(threading.local):
    """The snapshots this thread read last, unpickled: {key: (version, expires, data)}."""

    def __init__(self):
        self.entries: OrderedDict[str, tuple[str, float, Any]] = OrderedDict()


_kept = _Kept()


def read(name: str):
    """The snapshot `name` of the current content version; made now if there is none.

    The content version is read from the shared cache on every call. A snapshot this
    thread has read before under that version is used again as it is: unpickling a
    condition's page costs more than the rest of its view. Code must therefore keep
    nothing on these objects that differs between requests, except what every request
    sets afresh (a source's number on the page, a testimonial's shown conditions).
    """
    if page_cache.skipping_cache():
        return _build(name)
    key = _key(name)
    try:
        version = page_cache.content_version()
        kept = _kept.entries.get(key)
        if kept is not None and kept[0] == version and kept[1] > time.time():
            _kept.entries.move_to_end(key)
            return kept[2]
        entry = cache.get(key)
    except CACHE_ERRORS as error:
        page_cache.cache_failed(error, "snapshot read from the database")
        return _build(name)
    if entry is not None and entry[0] == version:
        data = entry[1]
    else:
        data = _build(name)
        _store(key, version, data)
    _keep(key, version, data)
    return data


def _keep(key: str, version: str, data) -> None:
    _kept.entries[key] = (version, time.time() + TIMEOUT_SECONDS, data)
    _kept.entries.move_to_end(key)
    while len(_kept.entries) > KEPT_PER_THREAD:
        _kept.entries.popitem(last=False)


def forget_kept() -> None:
    """Forget the snapshots this thread keeps (for tests)."""
    _kept.entries.clear()


def _store(key: str, version: str, data) -> None:
    try:
        cache.set(key, (version, data), TIMEOUT_SECONDS)
    except CACHE_ERRORS as error:
        page_cache.cache_failed(error, "snapshot not kept")


def rebuild() -> None:
    """Make every registered snapshot again, under a new content version.

    The version is renewed first: a page cached, or a snapshot made, between the
    change's save and its commit (from the data before it) is then never used.
    """
    if page_cache.skipping_cache():
        return
    try:
        page_cache.renew_version()
        version = page_cache.content_version()
    except CACHE_ERRORS as error:
        page_cache.cache_failed(error, "snapshots not made after a content change")
        return
    for build_all in _rebuilders:
        try:
            made = build_all()
        except Exception:
            # The change is committed: the page reads the database when it misses.
            logger.exception("snapshots not made after a content change")
            continue
        for name, data in made.items():
            _store(_key(name), version, data)


_scheduled = 0
_rebuilt_upto = 0


def rebuild_after_commit() -> None:
    """Rebuild once the current transaction commits; once for many saves in it."""
    global _scheduled
    _scheduled += 1
    ticket = _scheduled

    def run():
        # The first of a commit's callbacks rebuilds for all the saves before it.
        global _rebuilt_upto
        if ticket > _rebuilt_upto:
            _rebuilt_upto = _scheduled
            rebuild()

    transaction.on_commit(run)
