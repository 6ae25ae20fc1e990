"""Static files in production: hashed names, a year's cache, the same ETag on every machine."""

import hashlib
import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, override_settings

from clinic.settings import base as production_settings
from clinic.static import content_etag

# The test settings keep Django's plain storage; these tests use production's.
MANIFEST_STORAGE = {
    **django_settings.STORAGES,
    "staticfiles": production_settings.STORAGES["staticfiles"],
}
A_YEAR_AND_MORE = "max-age=315360000, public, immutable"
HASHED_SITE_CSS = re.compile(r"^/static/css/site\.[0-9a-f]{12}\.css$")
# One test process takes the module (`--dist loadgroup`): the files are collected once.
pytestmark = pytest.mark.xdist_group("static-files")


def production(static_root: Path, **extra):
    """The production settings' static files: manifest storage, files from STATIC_ROOT."""
    return override_settings(
        DEBUG=False,
        STORAGES=MANIFEST_STORAGE,
        STATIC_ROOT=static_root,
        WHITENOISE_AUTOREFRESH=False,
        **extra,
    )


def collectstatic(static_root: Path, **extra) -> None:
    with production(static_root, **extra):
        call_command("collectstatic", interactive=False, verbosity=0)


def static_url(name: str) -> str:
    return Template("{% load static %}{% static name %}").render(Context({"name": name}))


def sha256_etag(path: Path) -> str:
    return '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:32] + '"'


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The project's static files, collected once as at an install."""
    static_root = tmp_path_factory.mktemp("collected") / "static"
    collectstatic(static_root)
    return static_root


def test_the_production_settings_use_the_manifest_and_content_etags():
    backend = production_settings.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert production_settings.WHITENOISE_ADD_HEADERS_FUNCTION is content_etag
    assert "clinic.static.StaticFilesMiddleware" in production_settings.MIDDLEWARE
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in production_settings.MIDDLEWARE


def test_static_tags_give_hashed_names(collected):
    with production(collected):
        url = static_url("css/site.css")
    assert HASHED_SITE_CSS.match(url), url
    assert (collected / url.removeprefix("/static/")).is_file()


@pytest.mark.django_db
def test_pages_link_the_hashed_names(collected):
    with production(collected):
        page = Client().get("/en/")
    assert page.status_code == 200
    css = re.findall(r'href="(/static/css/site[^"]*)"', page.content.decode())
    assert css and all(HASHED_SITE_CSS.match(url) for url in css), css


def test_a_hashed_file_is_cached_for_a_year_with_its_content_as_etag(collected):
    with production(collected):
        url = static_url("css/site.css")
        browser = Client()
        response = browser.get(url)
        plain = browser.get("/static/css/site.css")
        again = browser.get(url, headers={"If-None-Match": response["ETag"]})
        other = browser.get(url, headers={"If-None-Match": '"something-else"'})
    assert response.status_code == 200
    assert response["Cache-Control"] == A_YEAR_AND_MORE
    assert response["ETag"] == sha256_etag(collected / url.removeprefix("/static/"))
    assert not response.has_header("Last-Modified")
    # The name without a hash may change with a release: only a minute.
    assert plain.status_code == 200 and plain["Cache-Control"] == "max-age=60, public"
    assert again.status_code == 304 and again["ETag"] == response["ETag"]
    assert not again.has_header("Last-Modified")
    assert other.status_code == 200


def test_compressed_copies_are_served_with_the_same_etag(collected):
    with production(collected):
        url = static_url("css/site.css")
        browser = Client()
        plain = browser.get(url)
        gzipped = browser.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped["Content-Encoding"] == "gzip"
    assert gzipped["ETag"] == plain["ETag"]


def test_two_machines_collecting_at_different_times_give_the_same_etags(tmp_path):
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { background: url('../img/dot.png'); }\n")
    (source / "img").mkdir()
    (source / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    only_source = {
        "STATICFILES_DIRS": [source],
        "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
    }
    machines = [tmp_path / "one", tmp_path / "two"]
    for number, root in enumerate(machines):
        collectstatic(root, **only_source)
        for path in root.rglob("*"):
            os.utime(path, (1_700_000_000 + number * 86_400,) * 2)
    headers = []
    for root in machines:
        with production(root, **only_source):
            url = static_url("css/app.css")
            response = Client().get(url)
        assert response.status_code == 200 and response["Cache-Control"] == A_YEAR_AND_MORE
        headers.append((url, response["ETag"], response.get("Last-Modified")))
    assert headers[0] == headers[1]
    assert headers[0][2] is None
    # WhiteNoise's own ETag (from the modification time) would differ between them.
    assert machines[0].joinpath("css/app.css").stat().st_mtime != (
        machines[1].joinpath("css/app.css").stat().st_mtime
    )


def test_the_etag_follows_the_content_not_the_name(tmp_path):
    first, second = tmp_path / "a.css", tmp_path / "b.css"
    first.write_text("a {}")
    second.write_text("b {}")
    etags = []
    for path in (first, first, second):
        headers = {}
        content_etag(headers, str(path), "/static/" + path.name)
        etags.append(headers["ETag"])
    assert etags[0] == etags[1] != etags[2]
    assert etags[0] == sha256_etag(first)


def test_make_run_serves_static_files_without_collectstatic(settings, tmp_path):
    """DEBUG: unhashed names, found in the app folders, with no STATIC_ROOT at all."""
    settings.DEBUG = True
    settings.STORAGES = MANIFEST_STORAGE
    settings.STATIC_ROOT = tmp_path / "never-collected"
    del settings.WHITENOISE_AUTOREFRESH  # production leaves it to follow DEBUG
    url = static_url("css/site.css")
    assert url == "/static/css/site.css"
    response = Client().get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (
        Path(django_settings.BASE_DIR, "static/css/site.css").read_bytes()
    )
    assert response["ETag"] == sha256_etag(Path(django_settings.BASE_DIR, "static/css/site.css"))
