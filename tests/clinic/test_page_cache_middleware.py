"""Cached pages are answered by PageCacheMiddleware before the rest of the stack.

A hit must skip the work it does not need (session, login, second factor, language
negotiation, lockout), cost one cache round trip and no query, arrive compressed when
the visitor accepts gzip, and still carry every security header a freshly made page
carries. Each rule is checked with the file cache and with Redis.
"""

import gzip

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache, caches
from django.db import connection
from django.middleware.locale import LocaleMiddleware
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic import page_cache, snapshots
from clinic.compression import TextGZipMiddleware
from tests.conditions.factories import ConditionFactory
from tests.factories import UserFactory

URL = "/da/lidelser/nakkesmerter/"
SECURITY_HEADERS = [
    "Content-Security-Policy",
    "Permissions-Policy",
    "Strict-Transport-Security",
    "Referrer-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
]


@pytest.fixture(params=["file", "redis"])
def backend(request, settings, tmp_path):
    """The page cache on the file cache, or on the real Redis (tests/conftest.py)."""
    if request.param == "file":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
        yield "file"
        return
    request.getfixturevalue("real_redis")
    yield "redis"


@pytest.fixture
def neck(db, backend):
    page_cache.reset_failure_state()
    return ConditionFactory(name_da="Nakkesmerter", slug_da="nakkesmerter")


class CountingCache:
    """Records the cache calls made from outside the cache, then passes them on.

    A backend's own calls (the file cache's get_many reads each key with get) are
    part of the outer call, not round trips of their own.
    """

    def __init__(self, monkeypatch):
        self.calls = []
        self.depth = 0
        backend = caches["default"]
        for name in ("get", "get_many", "set", "add", "delete", "has_key", "incr"):
            original = getattr(backend, name)
            monkeypatch.setattr(backend, name, self._counted(name, original))

    def _counted(self, name, original):
        def method(*args, **kwargs):
            if not self.depth:
                self.calls.append(name)
            self.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1

        return method


class Recorder:
    """Records which of the inner middlewares saw the request."""

    def __init__(self, monkeypatch):
        self.seen = []
        for cls, method in [
            (SessionMiddleware, "process_request"),
            (AuthenticationMiddleware, "process_request"),
            (LocaleMiddleware, "process_request"),
            (TextGZipMiddleware, "process_response"),
        ]:
            monkeypatch.setattr(cls, method, self._recorded(cls.__name__, getattr(cls, method)))
        from axes.middleware import AxesMiddleware
        from django_otp.middleware import OTPMiddleware

        for cls in (AxesMiddleware, OTPMiddleware):
            monkeypatch.setattr(cls, "__call__", self._recorded(cls.__name__, cls.__call__))

    def _recorded(self, name, original):
        def method(*args, **kwargs):
            self.seen.append(name)
            return original(*args, **kwargs)

        return method


def test_a_hit_is_answered_before_session_login_language_and_lockout(client, neck, monkeypatch):
    recorder = Recorder(monkeypatch)
    first = client.get(URL)
    assert first["X-Page-Cache"] == "miss"
    # The recorder works: a page made afresh passes every one of them.
    assert {
        "SessionMiddleware",
        "AuthenticationMiddleware",
        "LocaleMiddleware",
        "AxesMiddleware",
        "OTPMiddleware",
    } <= set(recorder.seen)
    recorder.seen.clear()
    second = client.get(URL)
    assert second["X-Page-Cache"] == "hit"
    assert recorder.seen == []
    assert second.content == first.content


def test_a_hit_is_one_cache_round_trip_and_no_query(client, neck, monkeypatch):
    client.get(URL)
    counter = CountingCache(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response["X-Page-Cache"] == "hit"
    assert counter.calls == ["get_many"]
    assert len(queries) == 0


def test_a_miss_stores_the_page_with_one_more_round_trip(client, neck, monkeypatch):
    """The page's lookup, the snapshots the view reads (made after the change's commit,
    so each one read), and the page stored."""
    client.get(URL)  # the content version exists from now on
    neck.save()  # a new version: the stored page is out of date
    snapshots.rebuild()
    counter = CountingCache(monkeypatch)
    response = client.get(URL)
    assert response["X-Page-Cache"] == "miss"
    assert counter.calls[0] == "get_many" and counter.calls[-1] == "set"
    assert set(counter.calls[1:-1]) <= {"get", "get_many"}  # each snapshot found


def test_a_hit_carries_the_same_security_headers_as_a_miss(client, neck, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    miss = client.get(URL, secure=True)
    hit = client.get(URL, secure=True)
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    for header in SECURITY_HEADERS:
        assert miss.get(header), header
        assert hit.get(header) == miss[header], header
    for header in ("Content-Type", "Content-Language", "Vary"):
        assert hit.get(header) == miss.get(header), header


def test_the_security_headers_of_a_hit_are_those_of_today_not_of_the_stored_page(
    client, neck, settings
):
    """Headers set outside the page cache are made for each answer, never replayed."""
    client.get(URL)
    settings.SECURE_REFERRER_POLICY = "no-referrer"
    hit = Client().get(URL)  # a new client: the middlewares read the new setting
    assert hit["X-Page-Cache"] == "hit"
    assert hit["Referrer-Policy"] == "no-referrer"


def test_pages_are_kept_and_served_compressed(client, neck, monkeypatch):
    plain = client.get(URL)
    first = client.get(URL, headers={"accept-encoding": "gzip, deflate, br"})
    assert first["X-Page-Cache"] == "miss"  # each encoding is kept on its own
    recorder = Recorder(monkeypatch)
    hit = client.get(URL, headers={"accept-encoding": "gzip, deflate, br"})
    assert hit["X-Page-Cache"] == "hit"
    assert hit["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in hit["Vary"]
    assert "TextGZipMiddleware" not in recorder.seen  # not compressed again
    assert gzip.decompress(hit.content) == plain.content
    # The cache holds the compressed bytes.
    request = client.get(URL).wsgi_request
    request.META["HTTP_ACCEPT_ENCODING"] = "gzip"
    _version, stored, _headers = cache.get(page_cache._page_key(request))
    assert stored[:2] == b"\x1f\x8b"
    # A visitor who does not accept gzip never gets the compressed copy.
    assert client.get(URL).content == plain.content


def test_a_page_of_an_old_content_version_is_not_served(client, neck):
    client.get(URL)
    assert client.get(URL)["X-Page-Cache"] == "hit"
    neck.name_da = "Ondt i nakken"
    neck.save()
    response = client.get(URL)
    assert response["X-Page-Cache"] == "miss"
    assert "Ondt i nakken" in response.content.decode()


def test_other_hosts_and_paths_have_their_own_pages(client, neck, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    client.get(URL)
    assert client.get(URL, HTTP_HOST="other.example")["X-Page-Cache"] == "miss"
    assert client.get("/da/lidelser/")["X-Page-Cache"] == "miss"
    assert client.get(URL)["X-Page-Cache"] == "hit"


def test_a_query_string_or_a_post_is_never_answered_from_the_cache(client, neck):
    client.get(URL)
    assert "X-Page-Cache" not in client.get(URL + "?preview=1")
    assert client.post(URL).status_code == 405


def test_an_anonymous_visitor_with_a_session_still_gets_the_cached_page(client, neck):
    client.get(URL)
    session = client.session
    session["draft"] = "kept"
    session.save()
    assert client.cookies.get("sessionid")
    response = client.get(URL)
    assert response["X-Page-Cache"] == "hit"
    assert client.session["draft"] == "kept"


def test_staff_with_a_session_never_get_the_cached_page(client, neck):
    client.get(URL)
    client.force_login(UserFactory(groups=["Editors"]))
    response = client.get(URL)
    assert "X-Page-Cache" not in response
    assert response.status_code == 200


def test_pages_that_set_a_cookie_are_not_kept(client, neck):
    """The booking's first step sets the CSRF cookie: it is never kept for others."""
    client.get("/da/tidsbestilling/")
    response = client.get("/da/tidsbestilling/")
    assert "X-Page-Cache" not in response
    assert response.cookies.get("csrftoken")
